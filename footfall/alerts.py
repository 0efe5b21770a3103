"""The `alerts` commands, and one round of checking and delivering, which the running collector
does on a schedule (collector/writer.py) and `alerts check` once (for cron).

- `alerts add --api NAME [--customer ID] --kind spike|drop|error_rate|p95 --threshold X`: a rule
  for one customer, or every customer of the API (core/alerts.py says what each kind watches).
- `alerts list`: the rules with how many customers each holds for now; `alerts remove RULE_ID`.
- `alerts check`: judge every rule now, open and resolve firings, send the undelivered ones.
- `alerts firings`: the latest firings, newest first.

Delivery: each undelivered firing is POSTed to FOOTFALL_ALERT_WEBHOOK (footfall/webhook.py: three
attempts, 0.5 s then 1 s apart). Once a firing fails every attempt the webhook counts as down and
the other firings wait for the next round, so nothing is lost and a round stays short. Without a
webhook, firings are kept and shown, and sent once one is set (those of the last 7 days).
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from core.alerts import KINDS, FiringMessage
from core.quiet import QuietRule
from db.alert_checks import CheckReport, check_alerts, claim_attempt, mark_delivered, mark_failed, pending_firings
from db.alerts import alert_firings, alert_rules
from db.connection import connect
from db.edits import add_alert_rule, remove_alert_rule
from footfall.errors import UserError
from footfall.output import FORMATS, iso, render, scope_of
from footfall.settings import settings
from footfall.webhook import BACKOFF_SECONDS, post_json, where


@dataclass
class AlertRound:
    """What one round of checking and delivering did."""

    report: CheckReport
    delivered: list[FiringMessage] = field(default_factory=list)
    failed: list[tuple[FiringMessage, str]] = field(default_factory=list)  # with the last error
    waiting: int = 0  # undelivered firings left for the next round (the webhook was down)


def run_alert_check(conn: sqlite3.Connection, now: float, webhook: str | None, quiet_rule: QuietRule = QuietRule(),
                    backoff: tuple[float, ...] = BACKOFF_SECONDS) -> AlertRound:
    """Judge every rule as of `now` (db/alert_checks.py), then POST every undelivered firing to the
    webhook, if there is one."""
    outcome = AlertRound(check_alerts(conn, now, quiet_rule))
    if not webhook:
        return outcome
    pending = pending_firings(conn, now)
    for index, (message, attempts) in enumerate(pending):
        counted = [attempts]

        def claim(firing_id: int = message.firing_id) -> bool:
            claimed = claim_attempt(conn, firing_id, counted[0])
            counted[0] += claimed
            return claimed

        sent = post_json(webhook, message.body(), claim, backoff)
        if sent.delivered:
            mark_delivered(conn, message.firing_id, now)
            outcome.delivered.append(message)
        elif sent.attempts:  # tried, and the webhook would not take it
            mark_failed(conn, message.firing_id, sent.error or "not delivered")
            outcome.failed.append((message, sent.error or "not delivered"))
            outcome.waiting = len(pending) - index - 1
            break
    return outcome


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
    firings.add_argument("--limit", type=int, default=100)
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
    print(render(rules.with_columns(iso("created_at")).select(
        "rule_id", "api", "customer_id", "kind", "threshold", "open_firings", "created_by", "created_at", "rule"),
        args.format))


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


def round_lines(outcome: AlertRound, webhook: str | None) -> list[str]:
    """A round in words, a line each: fired, resolved, delivered, failed, and what waits."""
    lines = [f"fired: {m.line()}" for m in outcome.report.opened]
    lines += [f"resolved: rule {m.rule_id} for {m.customer_id} (fired {iso_text(m.fired_at)})"
              for m in outcome.report.resolved]
    if webhook:
        lines += [f"delivered: firing {m.firing_id} (rule {m.rule_id}, {m.customer_id}) to {where(webhook)}"
                  for m in outcome.delivered]
        lines += [f"not delivered: firing {m.firing_id} ({error}); retried at the next check"
                  for m, error in outcome.failed]
        if outcome.waiting:
            lines.append(f"{outcome.waiting} more firings wait for the next check")
    elif outcome.report.opened:
        lines.append("no webhook set (FOOTFALL_ALERT_WEBHOOK): firings are kept, not sent")
    return lines or ["nothing fired or resolved"]


def iso_text(ts: int) -> str:
    """An epoch time as ISO 8601 UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def cmd_alerts_firings(args, db_path: Path) -> None:
    """alerts firings: the latest firings, newest first."""
    with closing(connect(db_path)) as conn:
        firings = alert_firings(conn, args.limit)
    if firings.is_empty() and args.format == "table":
        print("no firings yet")
        return
    print(render(firings.with_columns(iso("fired_at"), iso("resolved_at"), iso("delivered_at")).select(
        "firing_id", "rule_id", "kind", "api", "customer_id", "display_name", "value", "fired_at", "state",
        "resolved_at", "delivered_at", "attempts", "last_error"), args.format))
