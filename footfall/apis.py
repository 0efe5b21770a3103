"""The `apis` commands: register an API, list them, rotate a key, remove one, say what it bills."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from db.backends.base import Connection
from db.connection import connect
from db.operations.erase import delete_api, delete_api_preview
from core.usage import excluded_text, parse_excluded
from db.writes.apis import add_api, api_id_by_name, api_list, retire_api, rotate_key
from db.writes.identity import rules_by_api
from db.writes.quotas import billing_excludes, set_billing_excludes
from footfall.errors import UserError
from footfall.identity import add_identify_command, rules_line
from ui.format import format_count, plural

KEY_SHOWN_ONCE = "Keep this key now: Footfall stores only its hash and cannot show it again."


def add_api_commands(commands, common: argparse.ArgumentParser) -> None:
    """Register `apis add|list|rotate|remove` on the command line's subparsers."""
    apis = commands.add_parser("apis", parents=[common], help="register, list, rotate and remove APIs")
    actions = apis.add_subparsers(title="apis")
    add = actions.add_parser("add", parents=[common], help="register an API and print its new key, once")
    add.add_argument("name")
    add.add_argument("--api-key", help="use this key (a Treblle project ID) instead of a new random one")
    add.set_defaults(run=cmd_apis_add)
    actions.add_parser("list", parents=[common], help="list the APIs with the start of their keys").set_defaults(
        run=cmd_apis_list)
    rotate = actions.add_parser("rotate", parents=[common], help="give an API a new key; the old one stops working")
    rotate.add_argument("name")
    rotate.set_defaults(run=cmd_apis_rotate)
    remove = actions.add_parser("remove", parents=[common],
                                help="stop accepting an API's traffic; its data stays unless --delete-data")
    remove.add_argument("name")
    remove.add_argument("--delete-data", action="store_true", help="also delete every request and figure of the API")
    remove.set_defaults(run=cmd_apis_remove)
    add_identify_command(actions, common)
    billable = actions.add_parser("billable", parents=[common],
                                  help="what the API leaves out of its billable requests (`footfall usage`)")
    billable.add_argument("name")
    billable.add_argument("--exclude", help="5xx, 429, both comma-separated, or none (default: show the setting;"
                                            " new APIs exclude 5xx)")
    billable.set_defaults(run=cmd_apis_billable)


def _api_id(conn: Connection, name: str) -> int:
    api_id = api_id_by_name(conn, name)
    if api_id is None:
        raise UserError(f"no API named {name!r}; see `footfall apis list`")
    return api_id


def _show_once(key: str) -> None:
    """A new key on standard output (for scripts), the reminder that it is shown once beside it."""
    print(key)
    print(KEY_SHOWN_ONCE, file=sys.stderr, flush=True)


def cmd_apis_add(args, db_path: Path) -> None:
    """apis add: register an API and print its key, this once."""
    with closing(connect(db_path)) as conn:
        try:
            key = add_api(conn, args.name, args.api_key)
        except ValueError as error:
            raise UserError(str(error)) from None
    _show_once(key)


def cmd_apis_list(args, db_path: Path) -> None:
    """apis list: every API with the start of its key, when it was added, and whether it is removed."""
    with closing(connect(db_path)) as conn:
        apis = api_list(conn)
        rules = rules_by_api(conn)
    if not apis:
        print("no APIs yet: add one with `footfall apis add NAME`")
        return
    width = max(len(a["name"]) for a in apis)
    for a in apis:
        added = datetime.fromtimestamp(a["created_at"], tz=timezone.utc).strftime("%Y-%m-%d")
        state = "removed" if a["removed_at"] is not None else f"key {a['key_prefix']}…"
        identified = f"  {rules_line(rules[a['id']])}" if a["id"] in rules else ""
        print(f"{a['name']:<{width}}  {state:<12}  added {added}{identified}")


def cmd_apis_rotate(args, db_path: Path) -> None:
    """apis rotate: a new key for the API, printed once; the old key is refused within seconds."""
    with closing(connect(db_path)) as conn:
        key = rotate_key(conn, _api_id(conn, args.name))
    _show_once(key)


def cmd_apis_remove(args, db_path: Path) -> None:
    """apis remove: the API's key stops working; with --delete-data its requests and figures go too."""
    with closing(connect(db_path)) as conn:
        api_id = _api_id(conn, args.name)
        if args.delete_data:
            preview = delete_api_preview(conn, api_id)
            print(f"to delete: API {args.name!r} with {plural(preview.requests, 'raw request')}"
                  f" ({format_count(preview.all_time_requests)} counted in the figures) from"
                  f" {plural(preview.days, 'day')}, of {plural(preview.customers, 'customer')}"
                  f" ({format_count(preview.customers_removed)} of them called no other API and go with it)",
                  flush=True)
            report = delete_api(conn, api_id)
            print(f"removed {args.name!r} and deleted its {plural(report.requests, 'raw request')}, their figures"
                  f" and {plural(report.customers, 'customer')} who called no other API")
        else:
            retire_api(conn, api_id)
            print(f"removed {args.name!r}: its key no longer works; its data stays on the dashboard")


def cmd_apis_billable(args, db_path: Path) -> None:
    """apis billable: set (with --exclude) or show what the API leaves out of its billable requests."""
    with closing(connect(db_path)) as conn:
        api_id = _api_id(conn, args.name)
        if args.exclude is not None:
            try:
                set_billing_excludes(conn, api_id, parse_excluded(args.exclude))
            except ValueError as error:
                raise UserError(str(error)) from None
        excluded = billing_excludes(conn, api_id)
    print(f"{args.name!r} bills {excluded_text(excluded)}")
