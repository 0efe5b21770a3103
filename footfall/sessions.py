"""The `sessions` command: `sessions rotate-key` gives the dashboard's session cookies a new key and
ends every session signed in so far, on every dashboard running on the database, at once (db/writes/sessions.py).
A dashboard signs with the new key from its next start; sessions signed in after the rotation and
before that restart must sign in again then."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path

from db.connection import connect
from db.writes.sessions import rotate_cookie_key
from services.settings import settings


def add_session_commands(commands, common: argparse.ArgumentParser) -> None:
    """Register `sessions rotate-key` on the command line's subparsers."""
    sessions = commands.add_parser("sessions", parents=[common], help="the dashboard's sign-in sessions")
    actions = sessions.add_subparsers(title="sessions")
    rotate = actions.add_parser("rotate-key", parents=[common],
                                help="a new key for session cookies; every analyst signs in again")
    rotate.set_defaults(run=cmd_sessions_rotate_key)


def cmd_sessions_rotate_key(args, db_path: str | Path) -> None:
    """sessions rotate-key: a new cookie key, and every session so far ended."""
    with closing(connect(db_path)) as conn:
        rotate_cookie_key(db_path, conn)
    print("Every session is ended: analysts sign in again.")
    if settings().cookie_secret:
        print("FOOTFALL_COOKIE_SECRET is set, so it stays the key: set a new one, then restart the dashboard.")
    else:
        print("Restart the dashboard (footfall dashboard, or footfall up) to sign with the new key.")
