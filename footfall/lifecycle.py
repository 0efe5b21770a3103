"""The data's lifecycle on the command line: `prune`, `erase` and `backup` (the retention prune the
collector runs on a schedule is services/retention.py's)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from db.backends.base import Connection
from db.backends.postgres_url import without_password
from db.connection import backend_for, connect
from db.errors import BackupFailed, OperationalError
from db.operations.backup import backup
from db.operations.erase import UnknownCustomer, erase_customer, erase_preview
from db.operations.prune import PrunePreview, prune, prune_preview
from db.writes.identity import copy_identity_key
from db.writes.links import copy_signing_key
from footfall.errors import UserError
from footfall.output import moment
from services.retention import retention_cutoff
from services.settings import settings
from ui.format import format_count, format_time, plural


def add_lifecycle_commands(commands, common: argparse.ArgumentParser) -> None:
    """Register `prune`, `erase` and `backup` on the command line's subparsers."""
    pruning = commands.add_parser("prune", parents=[common],
                                  help="delete raw requests older than a date; every figure (the rollups) is kept")
    pruning.add_argument("--before", help="ISO 8601 date or time (2026-12-01, 2026-12-01T08:00), UTC without a zone"
                                          " (default: FOOTFALL_RETENTION_DAYS days ago)")
    pruning.add_argument("--yes", action="store_true",
                         help="prune without asking, also when the date is in the future or every raw request goes")
    pruning.set_defaults(run=cmd_prune)
    erase = commands.add_parser("erase", parents=[common],
                                help="erase one customer everywhere: requests, figures, name, notes")
    erase.add_argument("--customer", required=True, help="the customer ID")
    erase.add_argument("--vacuum", action="store_true",
                       help="also rewrite the whole file (PostgreSQL: every table touched, VACUUM FULL) afterwards"
                            " (writes wait meanwhile)")
    erase.set_defaults(run=cmd_erase)
    copy = commands.add_parser("backup", parents=[common],
                               help="write a consistent copy of the database, also while the collector runs"
                                    " (PostgreSQL: pg_dump's custom format, for pg_restore)")
    copy.add_argument("path", type=Path, help="the new file (readable by its owner only)")
    copy.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    copy.set_defaults(run=cmd_backup)


def cmd_prune(args, db_path: str | Path) -> None:
    """prune: delete the raw requests before --before (or past FOOTFALL_RETENTION_DAYS); the
    dashboard's figures stay, the request history of that time goes. Says first what goes; a
    cutoff in the future, or one that takes every raw request, goes ahead only when confirmed."""
    if args.before:
        before = moment("--before", args.before)
    else:
        days = settings().retention_days
        if days is None:
            raise UserError("say which requests to prune: --before DATE, or set FOOTFALL_RETENTION_DAYS")
        before = retention_cutoff(days, time.time())
    with _database(db_path) as conn:
        preview = prune_preview(conn, before)
        if not preview.requests:
            print(f"no raw request is older than {format_time(before)}: nothing to prune")
            return
        print(f"to prune: {prune_summary(preview)}; every figure is kept", flush=True)
        dangers = [f"{format_time(before)} is in the future"] if before > time.time() else []
        if preview.everything:
            dangers.append(f"that is every raw request stored ({format_count(preview.requests)})")
        if dangers and not args.yes:
            confirm(" and ".join(dangers), "prune")
        report = prune(conn, before)
    print(f"pruned {plural(report.requests, 'raw request')} older than {format_time(before)}"
          f" in {report.transactions} transactions (longest {report.longest_transaction_ms:,.0f} ms);"
          " every figure is kept")


def prune_summary(preview: PrunePreview) -> str:
    """What a prune takes, in words: requests, customers, days."""
    first, last = (datetime.fromtimestamp(day, tz=timezone.utc).date() for day in (preview.first_day, preview.last_day))
    span = f"{first}" if first == last else f"{first} to {last}"
    return (f"{plural(preview.requests, 'raw request')} of {plural(preview.customers, 'customer')},"
            f" from {plural(preview.days, 'day')} ({span}), older than {format_time(preview.before)}")


def confirm(danger: str, verb: str) -> None:
    """Go on only when the operator says so: a y/N question (on standard error) when standard input
    is a terminal; without one (a script, cron) a refusal naming --yes. Declining is a UserError."""
    if not sys.stdin.isatty():
        raise UserError(f"refusing to {verb}: {danger}; run it again with --yes if that is what you mean")
    print(f"{danger[0].upper()}{danger[1:]}. {verb.capitalize()} them? [y/N] ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UserError(f"nothing was {verb}d")


def cmd_erase(args, db_path: str | Path) -> None:
    """erase: remove one customer everywhere, as if it had never called; says first what goes."""
    try:
        with _database(db_path) as conn:
            preview = erase_preview(conn, args.customer)
            print(f"to erase: customer {args.customer!r}, {plural(preview.requests, 'raw request')}"
                  f" ({format_count(preview.all_time_requests)} counted in the figures) from"
                  f" {plural(preview.days, 'day')} on {plural(preview.apis, 'API')}, with their name, notes, stars,"
                  " links and alert rules", flush=True)
            report = erase_customer(conn, args.customer, vacuum=args.vacuum)
    except UnknownCustomer:
        raise UserError(f"no customer with the ID {args.customer!r}; nothing was erased") from None
    print(f"erased customer {report.customer_id!r}: {plural(report.requests, 'raw request')}"
          f" ({format_count(report.all_time_requests)} counted in the figures, taken out of the API totals),"
          f" {plural(report.rollup_rows, 'rollup row')}, from {plural(report.apis, 'API')}")
    for caveat in report.caveats:  # where the customer's bytes may remain, on this database's engine
        print(caveat)


def cmd_backup(args, db_path: str | Path) -> None:
    """backup: a consistent copy of the database into a new file, readable by its owner only (on
    PostgreSQL, pg_dump's custom format)."""
    if args.path.exists() and not args.overwrite:
        raise UserError(f"{args.path} exists: choose another name, or add --overwrite")
    with _database(db_path) as conn:
        try:
            report = backup(conn, args.path, overwrite=args.overwrite)
        except OSError as error:  # no such folder, no permission, or PATH made meanwhile
            raise UserError(f"cannot write {args.path}: {error.strerror or error}") from None
        except BackupFailed as error:
            raise UserError(str(error)) from None
    print(f"backed up {without_password(db_path)} to {report.path}"
          f" ({report.bytes / 1e6:.1f} MB in {report.seconds:.1f} s)")
    if report.restore_command:  # PostgreSQL's dump
        print(f"restore it into an empty database with: {report.restore_command}")
    key = copy_signing_key(db_path, report.path)  # beside a SQLite file's copy; a dump holds it already
    if key is not None:
        print(f"and the key customer links are signed with, to {key}")
    key = copy_identity_key(db_path, report.path)
    if key is not None:
        print(f"and the key API keys are hashed with (identity rules), to {key}")


@contextmanager
def _database(db_path: str | Path) -> Iterator[Connection]:
    """A connection to a database that exists, closed after: these commands never create one (on
    PostgreSQL: a database without Footfall's tables is refused, not migrated)."""
    try:
        missing = backend_for(db_path).missing(db_path)
    except OperationalError as error:  # the server cannot be reached: its message never holds the password
        raise UserError(str(error)) from None
    if missing:
        raise UserError(missing)
    conn = connect(db_path)
    try:
        yield conn
    finally:
        conn.close()
