"""The `alerts` commands; `alerts check` runs one round of checking and delivering
(services/alert_rounds.py) once, for cron, as the running collector does on a schedule.

- `alerts add --api NAME [--customer ID] --kind spike|drop|error_rate|p95 --threshold X`: a rule
  for one customer, or every customer of the API (core/alerts.py says what each kind watches).
- `alerts list`: the rules with how many customers each holds for now; `alerts remove RULE_ID`.
- `alerts check`: judge every rule now, open and resolve firings, send the undelivered ones.
- `alerts firings`: the latest firings, newest first.
"""

from __future__ import annotations

import argparse
import time
from contextlib import closing
from pathlib import Path

import polars as pl

from core.alerts import KINDS
from db.connection import connect
from db.reads.alerts import alert_firings, alert_rules
from db.writes.edits import add_alert_rule, remove_alert_rule
from footfall.errors import UserError
from footfall.output import FORMATS, positive_int, render, scope_of
from services.alert_rounds import round_lines, run_alert_check
from services.settings import settings


def add_alert_commands(commands, common: argparse.ArgumentParser) -> None:
    """Register `alerts add|list|remove|check|firings` on the command line's subparsers."""
    alerts = commands.add_parser("alerts", parents=[common], help="alert rules, their checks and firings")
    actions = alerts.add_subparsers(title="alerts")
    add = actions.add_parser("add", parents=[common], help="add a rule for one customer or every customer of an API")
    add.add_argument("--api", required=True, help="API name or key")
    add.add_argument("--customer", help="the customer ID (default: every customer of the API)")
    add.add_argument("--kind", required=True, help=f"one of {', '.join(KINDS)}")
    add.add_argument("--threshold", type=float, help="spike: times the hourly baseline (default 3); drop: share lost, "
                     "0-1 (0.5); error_rate: 0-1 (0.2); p95: ms (1000)")
    add.set_defaults(run=cmd_alerts_add)
    listing = actions.add_parser("list", parents=[common], help="the rules, with how many customers each holds for now")
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(run=cmd_alerts_list)
    remove = actions.add_parser("remove", parents=[common], help="remove a rule and its firings")
    remove.add_argument("rule_id", type=int)
    remove.set_defaults(run=cmd_alerts_remove)
    actions.add_parser("check", parents=[common], help="check every rule now and send new firings (for cron)"
                       ).set_defaults(run=cmd_alerts_check)
    firings = actions.add_parser("firings", parents=[common], help="the latest firings, newest first")
    firings.add_argument("--limit", type=positive_int, default=100)
    firings.add_argument("--format", choices=FORMATS, default="table")
    firings.set_defaults(run=cmd_alerts_firings)


def cmd_alerts_add(args, db_path: Path) -> None:
    """alerts add: a new rule; prints its id and what it watches."""
    kind = args.kind.strip().lower()
    if kind not in KINDS:
        raise UserError(f"no alert kind {args.kind!r}; choose one of {', '.join(KINDS)}")
    threshold = KINDS[kind].default if args.threshold is None else args.threshold
    with closing(connect(db_path)) as conn:
        api_id = scope_of(conn, args.api).api_id
        try:
            rule_id = add_alert_rule(conn, api_id, args.customer, kind, threshold, "cli")
        except ValueError as error:
            raise UserError(str(error)) from None
        rule = alert_rules(conn).filter(pl.col("rule_id") == rule_id)["rule"][0]
    print(f"added rule {rule_id}: {rule}")


def cmd_alerts_list(args, db_path: Path) -> None:
    """alerts list: every rule, oldest first."""
    with closing(connect(db_path)) as conn:
        rules = alert_rules(conn)
    if rules.is_empty() and args.format == "table":
        print("no alert rules yet: add one with `footfall alerts add --api NAME --kind KIND`")
        return
    print(render(rules.select("rule_id", "api", "customer_id", "kind", "threshold", "open_firings", "created_by",
                              "created_at", "rule"), args.format, times=("created_at",)))


def cmd_alerts_remove(args, db_path: Path) -> None:
    """alerts remove: a rule and its firings go."""
    with closing(connect(db_path)) as conn:
        if not remove_alert_rule(conn, args.rule_id):
            raise UserError(f"no alert rule {args.rule_id}; see `footfall alerts list`")
    print(f"removed rule {args.rule_id} and its firings")


def cmd_alerts_check(args, db_path: Path) -> None:
    """alerts check: one round now; prints what fired, resolved and was delivered."""
    config = settings()
    with closing(connect(db_path)) as conn:
        outcome = run_alert_check(conn, time.time(), config.alert_webhook, config.quiet_rule)
    for line in round_lines(outcome, config.alert_webhook):
        print(line)


def cmd_alerts_firings(args, db_path: Path) -> None:
    """alerts firings: the latest firings, newest first."""
    with closing(connect(db_path)) as conn:
        firings = alert_firings(conn, args.limit)
    if firings.is_empty() and args.format == "table":
        print("no firings yet")
        return
    print(render(firings.select(
        "firing_id", "rule_id", "kind", "api", "customer_id", "display_name", "value", "fired_at", "state",
        "resolved_at", "delivered_at", "attempts", "last_error"), args.format,
        times=("fired_at", "resolved_at", "delivered_at")))
