"""The identity rules page's read model: every API with its identity rules (core/identity.py), who
set them last and when, and how many of its API keys are mapped to customers. db/writes/identity.py
and db/writes/edits.py write them.

Reads apis, identity_rules, customer_keys and analysts.
"""

from __future__ import annotations

import polars as pl

from db.backends.base import Connection
from db.queries.frames import frame


def identity_rules(conn: Connection) -> pl.DataFrame:
    """Every API that takes traffic, by name: api_id, api, rules (a list, in order), set_by (the
    analyst's address, "" for the one analyst of a dashboard without sign-in, None when set from
    the command line or no rules), set_at, mapped_keys."""
    apis = frame(
        conn,
        "SELECT a.id AS api_id, a.name AS api, COALESCE(n.email, r.set_by) AS set_by, r.set_at,"
        " (SELECT COUNT(*) FROM customer_keys k WHERE k.api_id = a.id) AS mapped_keys"
        " FROM apis a LEFT JOIN identity_rules r ON r.api_id = a.id AND r.position = 0"
        " LEFT JOIN analysts n ON n.key = r.set_by WHERE a.removed_at IS NULL ORDER BY a.name",
        schema={"api_id": pl.Int64, "set_at": pl.Int64, "mapped_keys": pl.Int64},
    )
    rules: dict[int, list[str]] = {}
    for api_id, text in conn.execute("SELECT api_id, rule FROM identity_rules ORDER BY api_id, position"):
        rules.setdefault(api_id, []).append(text)
    return apis.with_columns(rules=pl.Series([rules.get(api_id, []) for api_id in apis["api_id"]],
                                             dtype=pl.List(pl.String))).select(
        "api_id", "api", "rules", "set_by", "set_at", "mapped_keys")
