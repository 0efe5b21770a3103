"""The `links` commands: make a customer's read-only link to their own page, list their links,
revoke one. The link (FOOTFALL_DASHBOARD_URL/?link=<token>) is printed once: only the token's
hash is stored. Links are signed with FOOTFALL_LINK_SECRET, else with the key kept beside the
database (`<db file>.link-key`; on PostgreSQL, in the database's settings), which the dashboard
reads too.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import closing
from pathlib import Path

import polars as pl

from core.links import DEFAULT_EXPIRY_DAYS, EXPIRY_DAYS, expires_at, link_url
from db.backends.base import Connection
from db.connection import connect
from db.writes.links import create_link, customer_db_id, links_of, revoke_link, signing_key
from footfall.errors import UserError
from footfall.output import FORMATS, render, scope_of
from services.settings import dashboard_url, settings

LINK_SHOWN_ONCE = "Send this link now: Footfall stores only its hash and cannot show it again."


def add_link_commands(commands, common: argparse.ArgumentParser) -> None:
    """Register `links create|list|revoke` on the command line's subparsers."""
    links = commands.add_parser("links", parents=[common], help="a customer's read-only links to their own usage")
    actions = links.add_subparsers(title="links")
    create = actions.add_parser("create", parents=[common], help="make a customer's link and print it, once")
    create.add_argument("--customer", required=True, help="the customer ID")
    create.add_argument("--api", help="API name or key (default: every API)")
    create.add_argument("--days", type=int, choices=EXPIRY_DAYS, default=DEFAULT_EXPIRY_DAYS,
                        help=f"days until it expires (default {DEFAULT_EXPIRY_DAYS})")
    create.add_argument("--bodies", action="store_true", help="also show their latest requests with bodies (masked)")
    create.set_defaults(run=cmd_links_create)
    listing = actions.add_parser("list", parents=[common], help="a customer's links, newest first")
    listing.add_argument("--customer", required=True, help="the customer ID")
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(run=cmd_links_list)
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a link for good")
    revoke.add_argument("link_id", type=int)
    revoke.set_defaults(run=cmd_links_revoke)


def _customer(conn: Connection, external_id: str) -> int:
    cid = customer_db_id(conn, external_id)
    if cid is None:
        raise UserError(f"no customer with the ID {external_id!r}; see `footfall customers`")
    return cid


def cmd_links_create(args, db_path: Path) -> None:
    """links create: a new link for the customer, printed this once."""
    config = settings()
    with closing(connect(db_path)) as conn:
        cid = _customer(conn, args.customer)
        api_id = scope_of(conn, args.api).api_id
        token = create_link(conn, cid, signing_key(db_path, config.link_secret), api_id=api_id,
                            expires_at=expires_at(args.days, time.time()), show_bodies=args.bodies,
                            created_by="footfall links create")
    address = dashboard_url(config)  # this shell cannot know the port a dashboard serves on: a guess, unless set
    print(link_url(address.url, token))
    print(LINK_SHOWN_ONCE, file=sys.stderr, flush=True)
    if address.note:
        print(f"footfall: {address.note}", file=sys.stderr, flush=True)


def cmd_links_list(args, db_path: Path) -> None:
    """links list: the customer's links with who made them, when, until when, and whether revoked."""
    with closing(connect(db_path)) as conn:
        links = links_of(conn, _customer(conn, args.customer))
    links = links.with_columns(pl.col("api").fill_null("(every API)"))
    print(render(links, args.format, times=("created_at", "expires_at", "revoked_at")))


def cmd_links_revoke(args, db_path: Path) -> int:
    """links revoke: the link stops opening at once."""
    with closing(connect(db_path)) as conn:
        if not revoke_link(conn, args.link_id):
            raise UserError(f"no link {args.link_id} that is not revoked already; see `footfall links list`")
    print(f"revoked link {args.link_id}")
    return 0
