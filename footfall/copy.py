"""`footfall copy --to postgresql://...`: move the current SQLite database (--db) up to a
PostgreSQL server (db/operations/copy.py), rollups and edits included, and the key its customer links are
signed with; safe to run again."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path

from db.backends.postgres_url import without_password
from db.connection import backend_for, connect
from db.operations.copy import CopyRefused, copy_database, source_name
from db.writes.identity import identity_key_file
from db.writes.links import key_file
from footfall.errors import UserError


def add_copy_commands(commands, common: argparse.ArgumentParser) -> None:
    """Register `copy` on the command line's subparsers."""
    copy = commands.add_parser("copy", parents=[common],
                               help="copy the SQLite database (--db) into PostgreSQL, every figure and edit included")
    copy.add_argument("--to", required=True, metavar="URL", help="the PostgreSQL database: postgresql://user:pass@host/db")
    copy.set_defaults(run=cmd_copy)


def cmd_copy(args, db_path: Path | str) -> None:
    """copy: the --db file into the --to server, in one transaction; refused when the target holds
    other data."""
    if backend_for(db_path).name != "sqlite":
        raise UserError("copy reads a SQLite file: give it with --db (the source), and the server with --to")
    if backend_for(args.to).name != "postgresql":
        raise UserError(f"--to must be a postgresql:// URL, not {without_password(args.to)!r}")
    if not Path(db_path).exists():
        raise UserError(f"no database at {db_path}")
    with closing(connect(db_path)) as source, closing(connect(args.to)) as target:
        try:
            report = copy_database(source, target, source_name(Path(db_path)), link_key=key_file(db_path),
                                   identity_key=identity_key_file(db_path))
        except CopyRefused as error:
            raise UserError(str(error)) from None
    print(f"copied {report.rows} rows of {report.tables} tables ({report.requests} requests) from {db_path}"
          f" to {without_password(args.to)} in {report.seconds:.1f} s")
