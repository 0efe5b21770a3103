"""The `usage` and `quotas` commands (core/usage.py says what counts).

- `usage [--month YYYY-MM] [--api API] [--by customer|endpoint] [--format table|json|csv]`: a
  month's usage per customer (or per customer and endpoint), from the monthly rollups; the current
  month (UTC) when no month is given.
- `quotas set --api API [--customer C] --monthly N`, `quotas list --api API`,
  `quotas remove --api API [--customer C]`: monthly quotas, a customer's own or the API's default.
"""

from __future__ import annotations

import argparse
import time
from contextlib import closing
from pathlib import Path

import polars as pl

from core.usage import month_start, month_text, parse_month
from db.connection import connect
from db.reads.usage import endpoint_usage, monthly_usage
from db.writes.quotas import quota_list, remove_quota, set_quota
from footfall.errors import UserError
from footfall.output import FORMATS, positive_int, render, scope_of


def add_usage_commands(commands, common: argparse.ArgumentParser) -> None:
    """Register `usage` and `quotas set|list|remove` on the command line's subparsers."""
    usage = commands.add_parser("usage", parents=[common], help="a month's usage per customer, for billing")
    usage.add_argument("--month", help="YYYY-MM, a calendar month in UTC (default: this month, to now)")
    usage.add_argument("--api", help="API name or key (default: all APIs, a row per customer and API)")
    usage.add_argument("--by", choices=["customer", "endpoint"], default="customer")
    usage.add_argument("--format", choices=FORMATS, default="table")
    usage.set_defaults(run=cmd_usage)

    quotas = commands.add_parser("quotas", parents=[common], help="monthly quotas of billable requests")
    actions = quotas.add_subparsers(title="quotas")
    set_ = actions.add_parser("set", parents=[common], help="set a customer's monthly quota, or the API's default")
    set_.add_argument("--api", required=True, help="API name or key")
    set_.add_argument("--customer", help="the customer ID (default: the API's default for every customer"
                                         " without one of their own)")
    set_.add_argument("--monthly", required=True, type=positive_int, help="billable requests a month")
    set_.set_defaults(run=cmd_quotas_set)
    listing = actions.add_parser("list", parents=[common], help="the API's quotas, its default first")
    listing.add_argument("--api", required=True, help="API name or key")
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(run=cmd_quotas_list)
    remove = actions.add_parser("remove", parents=[common], help="remove a customer's quota, or the API's default")
    remove.add_argument("--api", required=True, help="API name or key")
    remove.add_argument("--customer", help="the customer ID (default: the API's default)")
    remove.set_defaults(run=cmd_quotas_remove)


def cmd_usage(args, db_path: Path) -> None:
    """usage: one row per customer (and API, or endpoint) with calls in the month."""
    try:
        month = month_start(time.time()) if args.month is None else parse_month(args.month)
    except ValueError as error:
        raise UserError(f"--month: {error}") from None
    with closing(connect(db_path)) as conn:
        api_id = scope_of(conn, args.api).api_id
        usage = (monthly_usage if args.by == "customer" else endpoint_usage)(conn, api_id, month)
    if usage.is_empty() and args.format == "table":
        print(f"no customer called {args.api or 'any API'} in {month_text(month)}")
        return
    if args.by == "customer":
        usage = usage.with_columns(pl.col("quota_used").round(4))
    print(render(usage, args.format, fractions=("quota_used",)))


def cmd_quotas_set(args, db_path: Path) -> None:
    """quotas set: a customer's monthly quota, or the API's default."""
    with closing(connect(db_path)) as conn:
        api_id = scope_of(conn, args.api).api_id
        try:
            set_quota(conn, api_id, args.customer, args.monthly, "cli")
        except ValueError as error:
            raise UserError(f"{error}; see `footfall customers`") from None
    who = f"{args.customer!r}" if args.customer else "every customer without a quota of their own"
    print(f"quota set: {args.monthly:,} billable requests a month on {args.api!r} for {who}")


def cmd_quotas_list(args, db_path: Path) -> None:
    """quotas list: the API's default first, then each customer's own."""
    with closing(connect(db_path)) as conn:
        quotas = quota_list(conn, scope_of(conn, args.api).api_id)
    if not quotas and args.format == "table":
        print(f"no quotas on {args.api!r}: set one with `footfall quotas set --api NAME --monthly N`")
        return
    frame = pl.DataFrame(quotas, schema={"customer_id": pl.String, "display_name": pl.String, "monthly": pl.Int64,
                                         "set_by": pl.String, "set_at": pl.Int64})
    frame = frame.with_columns(pl.col("customer_id").fill_null("(default)") if args.format == "table"
                               else pl.col("customer_id"))
    print(render(frame, args.format, times=("set_at",)))


def cmd_quotas_remove(args, db_path: Path) -> None:
    """quotas remove: a customer's own quota (they fall back to the API's default), or the default."""
    with closing(connect(db_path)) as conn:
        api_id = scope_of(conn, args.api).api_id
        try:
            removed = remove_quota(conn, api_id, args.customer)
        except ValueError as error:
            raise UserError(str(error)) from None
    which = f"quota of {args.customer!r}" if args.customer else "default quota"
    if not removed:
        raise UserError(f"no {which} on {args.api!r} to remove; see `footfall quotas list`")
    print(f"removed the {which} on {args.api!r}")
