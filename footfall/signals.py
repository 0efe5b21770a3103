"""The signal commands: `quiet` (customers gone quiet), `endpoints` (endpoint adoption) and
`signals` (compute the scheduled signals now, as the collector does on a schedule:
services/signal_refresh.py)."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import polars as pl

from core.periods import parse_time
from db.connection import connect
from db.reads.endpoints import endpoint_by_name, endpoint_customers, endpoint_list
from db.reads.quiet import quiet_customers
from footfall.errors import UserError
from footfall.output import DATE_EXAMPLE, FORMATS, render, scope_of
from services.settings import settings
from services.signal_refresh import refresh_signals


def add_signal_commands(commands, common: argparse.ArgumentParser) -> None:
    """The `quiet`, `endpoints` and `signals` commands."""
    rule = settings().quiet_rule
    quiet = commands.add_parser("quiet", parents=[common], help="customers gone quiet: far under their own baseline")
    quiet.add_argument("--api", help="API name or key (default: all APIs, each customer's traffic added up)")
    quiet.add_argument("--min-drop", type=float, default=rule.min_drop,
                       help=f"flag a fall of at least this fraction of the baseline (default {rule.min_drop})")
    quiet.add_argument("--silence-factor", type=float, default=rule.silence_factor,
                       help=f"flag silence over this many usual gaps (default {rule.silence_factor})")
    quiet.add_argument("--min-baseline", type=int, default=rule.min_baseline,
                       help=f"judge only customers with a median week of this many requests (default {rule.min_baseline})")
    quiet.add_argument("--now", help=f"judge as of this time: {DATE_EXAMPLE}, or epoch seconds (default: now)")
    quiet.add_argument("--format", choices=FORMATS, default="table")
    quiet.set_defaults(run=cmd_quiet)

    endpoints = commands.add_parser("endpoints", parents=[common],
                                    help="endpoints and their customers; with --endpoint, who calls that one")
    endpoints.add_argument("--api", help="API name or key (default: all APIs)")
    endpoints.add_argument("--endpoint", help='one endpoint, as listed: "GET /v1/orders/{id}"')
    endpoints.add_argument("--since", help="ISO 8601 date or time, UTC without a zone (default: the beginning);"
                                           " rounded down to the hour")
    endpoints.add_argument("--until", help="ISO 8601 date or time, UTC without a zone (default: now);"
                                           " rounded up to the hour")
    endpoints.add_argument("--format", choices=FORMATS, default="table")
    endpoints.set_defaults(run=cmd_endpoints)

    signals = commands.add_parser("signals", parents=[common],
                                  help="compute gone quiet and peer standing now (the collector does every few minutes)")
    signals.set_defaults(run=cmd_signals)


def cmd_signals(args, db_path: Path) -> None:
    """signals: compute the scheduled signals now (without a running collector, from cron)."""
    report = refresh_signals(db_path, int(time.time()), settings().quiet_rule)
    print(f"computed gone quiet ({report.quiet} customers) and peer standing for {report.scopes} scopes"
          f" in {report.seconds:.1f}s")


def _moment(text: str | None) -> int:
    if not text:
        return int(time.time())
    if text.strip().isdigit():
        return int(text)
    try:
        return parse_time(text)
    except ValueError:
        raise UserError(f"--now: expected {DATE_EXAMPLE}, or epoch seconds, got {text!r}") from None


def cmd_quiet(args, db_path: Path) -> None:
    """quiet: one row per customer gone quiet, largest drop first."""
    try:
        rule = replace(settings().quiet_rule, min_drop=args.min_drop, silence_factor=args.silence_factor,
                       min_baseline=args.min_baseline)
    except ValueError as error:
        raise UserError(str(error)) from None
    conn = connect(db_path)
    scope = scope_of(conn, args.api)
    flagged = quiet_customers(conn, scope.api_id, _moment(args.now), rule)
    print(render(flagged.with_columns(pl.col("change").round(4), pl.col("baseline_requests").round(1))
                 .select("customer_id", "display_name", "recent_requests", "baseline_requests", "change",
                         "last_active", "reason"), args.format, times=("last_active",), fractions=("change",)))


def cmd_endpoints(args, db_path: Path) -> None:
    """endpoints: one row per endpoint with its customers; with --endpoint, one row per customer
    of that endpoint in the period."""
    conn = connect(db_path)
    scope = scope_of(conn, args.api, args.since, args.until)
    if not args.endpoint:
        rows = endpoint_list(conn, scope).select("api", "endpoint", "customers", "requests", "errors")
        print(render(rows, args.format))
        return
    found = endpoint_by_name(conn, args.endpoint, scope.api_id)
    if not found:
        raise UserError(f"no endpoint {args.endpoint!r}{' in that API' if args.api else ''};"
                        " `footfall endpoints` lists them")
    if len(found) > 1:
        raise UserError(f"{args.endpoint!r} is an endpoint of several APIs ({', '.join(a for a, _ in found)}); choose one with --api")
    rows = endpoint_customers(conn, found[0][1], scope)
    print(render(rows.select("customer_id", "display_name", "requests", "errors", "first_call", "last_call"),
                 args.format, times=("first_call", "last_call")))
