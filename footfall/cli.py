"""Footfall's command line: python -m footfall [--db PATH|URL] COMMAND ..."""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import polars as pl

from core.masking import Masking
from db.backends.postgres_url import without_password
from db.connection import connect, database
from db.errors import BadDatabaseUrl, DatabaseError
from db.reads.customers import customer_list
from db.reads.history import customer_requests
from db.writes.identity import identities
from db.writes.links import customer_db_id
from db.writes.records import RecordWriter
from footfall.alerts import add_alert_commands
from footfall.apis import add_api_commands
from footfall.copy import add_copy_commands
from footfall.errors import UserError, error_line
from footfall.identity import add_map_command
from footfall.lifecycle import add_lifecycle_commands
from footfall.links import add_link_commands
from footfall.output import FORMATS, positive_int, render, scope_of
from footfall.serve import add_serve_commands
from footfall.sessions import add_session_commands
from footfall.signals import add_signal_commands
from footfall.usage import add_usage_commands
from services.demo_seeding import DatabaseHasApis, seed_demo
from services.ingest import IMPORT_BATCH, enrichment_pool, in_batches, ingest_batches
from services.settings import settings

PARALLEL_IMPORT_BYTES = 8_000_000


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    try:
        parser = build_parser()  # reads the settings: gone quiet's defaults
    except ValueError as error:  # services/settings.py refusing a setting
        print(f"footfall: a setting in the environment is wrong: {error}", file=sys.stderr)
        return 1
    args = parser.parse_args(option_values_joined(sys.argv[1:] if argv is None else argv, parser))
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    db_path = None
    try:
        db_path = database(args.db) if getattr(args, "db", None) else settings().db_path
        return args.run(args, db_path) or 0
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:  # Ctrl-C: a transaction in flight rolled back; the shell's convention
        print("footfall: interrupted", file=sys.stderr)
        return 130
    # One line each, never a password (CannotConnect's and BadDatabaseUrl's messages hold none).
    except (UserError, BadDatabaseUrl, DatabaseError, OSError) as error:
        print(f"footfall: {error_line(error, db_path)}", file=sys.stderr)
        return 1


class CommandParser(argparse.ArgumentParser):
    """argparse's parser, but a command refuses an argument it does not know with its own usage
    (`footfall customers --bogus` shows the customers command's), not the top level's."""

    def parse_known_args(self, args=None, namespace=None):
        parsed, unknown = super().parse_known_args(args, namespace)
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)}")
        return parsed, unknown


def option_values_joined(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """argv with `--api -eDmn...` written `--api=-eDmn...`: argparse takes a value starting with '-'
    for an option and refuses it, while keys (issued before they never started with '-'), customer
    IDs and names may start with one. Done for every option that takes a value, when what follows
    is not one of the command line's options."""
    takes_value, known = _options(parser)
    joined: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else None
        if token == "--":  # everything after it is positional already
            return joined + argv[index:]
        if token in takes_value and following is not None and following.startswith("-") \
                and following != "--" and following.split("=")[0] not in known:
            joined.append(f"{token}={following}")
            index += 2
            continue
        joined.append(token)
        index += 1
    return joined


def _options(parser: argparse.ArgumentParser) -> tuple[set[str], set[str]]:
    """The option strings of every command that take one value, and every option string."""
    takes_value: set[str] = set()
    known: set[str] = set()
    for action in parser._actions:  # argparse has no public way to list them
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                more_values, more_known = _options(command)
                takes_value |= more_values
                known |= more_known
            continue
        known.update(action.option_strings)
        if action.nargs is None and action.option_strings and not isinstance(action, argparse._HelpAction):
            takes_value.update(action.option_strings)
    return takes_value, known


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser: every command and its options."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, metavar="PATH|URL",
                        help="SQLite file or postgresql://user:pass@host:port/db URL"
                             " (default: $FOOTFALL_DB or data/footfall.db)")
    parser = CommandParser(prog="footfall", description=__doc__, parents=[common])
    commands = parser.add_subparsers(title="commands")

    add_api_commands(commands, common)
    add_alert_commands(commands, common)
    add_link_commands(commands, common)
    add_serve_commands(commands, common)
    add_session_commands(commands, common)
    add_signal_commands(commands, common)
    add_usage_commands(commands, common)

    imp = commands.add_parser("import", parents=[common], help="import JSONL files of payloads (.gz too)")
    imp.add_argument("files", nargs="+", type=Path)
    imp.set_defaults(run=cmd_import)

    demo = commands.add_parser("demo", parents=[common], help="generate realistic demo traffic")
    demo.add_argument("--requests", type=positive_int, default=20000)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(run=cmd_demo)

    customers = commands.add_parser("customers", parents=[common], help="one row per identified customer")
    customers.add_argument("--api", help="API name or key (default: all APIs)")
    customers.add_argument("--since", help="ISO 8601 date or time, UTC without a zone (default: the beginning);"
                                           " rounded down to the hour")
    customers.add_argument("--until", help="ISO 8601 date or time, UTC without a zone (default: now);"
                                           " rounded up to the hour")
    customers.add_argument("--format", choices=FORMATS, default="table")
    customers.set_defaults(run=cmd_customers)
    add_map_command(customers, common)

    requests = commands.add_parser("requests", parents=[common], help="a customer's requests, newest first")
    requests.add_argument("--customer", required=True, help="the customer ID")
    requests.add_argument("--api", help="API name or key (default: all APIs)")
    requests.add_argument("--limit", type=positive_int, default=100)
    requests.add_argument("--format", choices=FORMATS, default="table")
    requests.set_defaults(run=cmd_requests)

    add_lifecycle_commands(commands, common)
    add_copy_commands(commands, common)
    return parser


def cmd_import(args, db_path: str | Path) -> int:
    """import: JSONL files of payloads through the ingest path; bad lines are counted, never fatal."""
    for path in args.files:
        if not path.exists():
            raise UserError(f"{path}: no such file")
    # Worker processes pay off from a few thousand payloads on (about 1.5 KB each, 8x under gzip).
    size = sum(path.stat().st_size * (8 if path.suffix == ".gz" else 1) for path in args.files)
    with enrichment_pool(None if size > PARALLEL_IMPORT_BYTES else 1) as pool:  # forked before the db is opened
        writer = RecordWriter(connect(db_path))
        unreadable: list[str] = []
        lines = _jsonl_lines(args.files, unreadable)
        report = ingest_batches(writer, in_batches(lines, IMPORT_BATCH), received_at=time.time(), pool=pool,
                                masking=Masking(settings().masked_names), identities=identities(writer.conn, db_path))
    accepted, rejected = report.accepted, report.rejected
    print(f"imported {accepted} payloads, rejected {len(rejected)}")
    for problem in unreadable:
        print(f"  {problem}")
    for message, count in Counter(r.message for r in rejected).most_common():
        print(f"  {count} x {message}")
    for rejection in rejected[:20]:
        print(f"  {rejection.where}: {rejection.message}")
    return 0 if (accepted or not rejected) and not unreadable else 1


def _jsonl_lines(files: list[Path], unreadable: list[str] | None = None) -> Iterator[tuple[str, bytes]]:
    """The non-blank lines of the files, each with where it is. A file that cannot be read to its
    end (a truncated or damaged .gz) gives the lines before the damage; what went wrong is added
    to `unreadable` (raised without it), and the other files are read all the same."""
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        number = 0
        try:
            with opener(path, "rb") as handle:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        yield f"{path}:{number}", line
        except (OSError, EOFError, zlib.error) as error:
            if unreadable is None:
                raise
            unreadable.append(f"{path}: could not be read past line {number}: {error or type(error).__name__}")


def cmd_demo(args, db_path: str | Path) -> None:
    """demo: generate demo traffic into the database."""
    try:
        count = seed_demo(db_path, args.requests, args.seed)
    except DatabaseHasApis as error:
        raise UserError(str(error)) from None
    print(f"generated {count} demo requests into {without_password(db_path)}")


def cmd_customers(args, db_path: str | Path) -> None:
    """customers: one row per customer with requests in the scope, busiest first."""
    conn = connect(db_path)
    customers = customer_list(conn, scope_of(conn, args.api, args.since, args.until))
    customers = customers.with_columns(pl.col("share").round(4)).select(
        "customer_id", "display_name", "requests", "share", "first_seen", "last_active")
    print(render(customers, args.format, times=("first_seen", "last_active"), percents=("share",)))


def cmd_requests(args, db_path: str | Path) -> None:
    """requests: one customer's requests, newest first."""
    conn = connect(db_path)
    if customer_db_id(conn, args.customer) is None:
        raise UserError(f"no customer with the ID {args.customer!r}; see `footfall customers`")
    rows = customer_requests(conn, args.customer, scope_of(conn, args.api, None, None), args.limit)
    rows = rows.with_columns(pl.col("threat_reasons").map_elements(orjson.loads, return_dtype=pl.List(pl.Utf8)))
    rows = rows.select(
        "time", "method", "status", "path", "endpoint", "load_time_ms", "threat_level", "threat_reasons",
        "device", "ai_agent", "country", "city", "ip", "customer_id",
    )
    print(render(rows, args.format, times=("time",), load_times=("load_time_ms",)))
