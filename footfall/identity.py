"""The identity commands: `apis identify` (an API's identity rules: where its customer is when a call
names none) and `customers map` (API keys mapped to customers, from a CSV file)."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path

from core.identity import RULE_SYNTAX, KeyMapError, RuleError, fingerprint, key_digest, parse_rules, read_key_map
from db.backends.base import Connection
from db.connection import connect
from db.operations.merge import merge_customers
from db.writes.apis import api_id_by_name
from db.writes.identity import customers_calls, identity_secret, map_keys, rules_of, set_identity_rules
from footfall.errors import UserError

MAX_MAP_BYTES = 64 * 1024 * 1024


def add_identify_command(actions, common: argparse.ArgumentParser) -> None:
    """Register `apis identify` on the apis command's subparsers."""
    identify = actions.add_parser(
        "identify", parents=[common], help="where an API's customer is when a call names none: rules, in order",
        description=f"Set the API's identity rules, tried in order when a call names no customer itself: {RULE_SYNTAX}."
                    " Without --by or --clear, show them.")
    identify.add_argument("api_name", metavar="API", help="the API's name")
    rules = identify.add_mutually_exclusive_group()
    rules.add_argument("--by", action="append", metavar="RULE", dest="rules",
                       help="a rule (repeat it: the rules are tried in the order given)")
    rules.add_argument("--clear", action="store_true", help="remove the API's rules")
    identify.set_defaults(run=cmd_apis_identify)


def add_map_command(customers: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """Register `customers map` under the customers command."""
    actions = customers.add_subparsers(title="customers", dest="customers_action")
    mapping = actions.add_parser(
        "map", parents=[common], help="map API keys to customers from a CSV file (key,customer_id,name)",
        description="Map the API keys an API's key rules find (`apis identify API --by key:NAME`) to customers:"
                    " a CSV file of key,customer_id,name rows (a header row naming them is skipped; name may be"
                    " empty). Only a keyed hash of each key is stored. A later row for a key replaces an earlier"
                    " one, and running it again replaces earlier mappings of the same keys. A file with any bad"
                    " row maps nothing.")
    mapping.add_argument("api_name", metavar="API", help="the API's name")
    mapping.add_argument("file", type=Path, metavar="FILE.csv")
    mapping.add_argument("--merge", action="store_true",
                         help="also move the calls counted so far under each key's fingerprint (key_...) to its customer")
    mapping.set_defaults(run=cmd_customers_map)


def rules_line(rules: list[str]) -> str:
    """An API's rules as `apis list` and `apis identify` show them."""
    return "customers by " + ", then ".join(rules) if rules else "no identity rules"


def _api_id(conn: Connection, name: str) -> int:
    api_id = api_id_by_name(conn, name)
    if api_id is None:
        raise UserError(f"no API named {name!r}; see `footfall apis list`")
    return api_id


def cmd_apis_identify(args, db_path: str | Path) -> None:
    """apis identify: set, clear or show the API's rules."""
    with closing(connect(db_path)) as conn:
        api_id = _api_id(conn, args.api_name)
        if not args.rules and not args.clear:
            print(f"{args.api_name}: {rules_line([str(rule) for rule in rules_of(conn, api_id)])}")
            return
        try:
            rules = parse_rules(args.rules or [])
        except RuleError as error:
            raise UserError(str(error)) from None
        if any(rule.kind == "key" for rule in rules):
            identity_secret(db_path)  # made now, once: every process then hashes keys alike
        set_identity_rules(conn, api_id, rules)
    print(f"{args.api_name}: {rules_line([str(rule) for rule in rules])}; the running collector follows within"
          " seconds")


def cmd_customers_map(args, db_path: str | Path) -> None:
    """customers map: the file's keys mapped to their customers (only the keys' keyed hashes kept);
    with --merge, what each key's fingerprint counted moved to its customer, in the same transaction."""
    try:
        if args.file.stat().st_size > MAX_MAP_BYTES:
            raise UserError(f"{args.file} is over {MAX_MAP_BYTES // (1024 * 1024)} MiB")
        text = args.file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{args.file}: no such file") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{args.file} is not UTF-8 text (byte {error.start})") from None
    try:
        rows = read_key_map(text)
    except KeyMapError as error:
        raise UserError(f"{args.file}: {error}") from None
    with closing(connect(db_path)) as conn:
        api_id = _api_id(conn, args.api_name)
        secret = identity_secret(db_path)
        mappings = [(key_digest(secret, row.key), row.customer_id, row.name) for row in rows]
        fingerprints = [fingerprint(digest) for digest, _, _ in mappings]
        moves = [(fingerprint(digest), customer_id, name) for digest, customer_id, name in mappings]
        merged = []
        report = map_keys(conn, api_id, mappings,
                          then=(lambda c: merged.append(merge_customers(c, api_id, moves))) if args.merge else None)
        has_key_rule = any(rule.kind == "key" for rule in rules_of(conn, api_id))
        counted, calls = customers_calls(conn, api_id, fingerprints)
    customers = len({customer_id for _, customer_id, _ in mappings})
    print(f"{args.api_name}: {len(mappings)} keys mapped to {customers} customers ({report.added} new,"
          f" {report.changed} changed, {len(mappings) - report.added - report.changed} as before)")
    if merged:
        print(f"moved {merged[0].requests} calls counted under {merged[0].customers} keys' fingerprints to their"
              " customers")
    elif counted:
        print(f"{calls} calls made before were counted under {counted} of these keys' fingerprints (key_...) and"
              " stay there: run it again with --merge to move them to the customers")
    if not has_key_rule:
        print(f"note: {args.api_name} has no key rule yet: set one with"
              f" `footfall apis identify {args.api_name!r} --by key:HEADER` (or key:query:PARAMETER)")
