"""The alerts page's read model (and the CLI's `alerts list` and `alerts firings`): the alert rules
with their open firings, and the firings, newest first, with their rule, customer, value, state
and delivery. core/alerts.py words them; db/operations/alert_checks.py checks the rules and writes firings;
db/writes/edits.py adds and removes rules.

Reads alert_rules, alert_firings (its rule and time indexes), apis and customers.
"""

from __future__ import annotations

import polars as pl

from core.alerts import delivery_text, rule_text, value_text
from db.backends.base import Connection
from db.queries.figures import DISPLAY_NAME
from db.queries.frames import frame

FIRINGS_SHOWN = 200


def alert_rules(conn: Connection) -> pl.DataFrame:
    """Every rule, oldest first: rule_id, api_id, api, customer_id (None: every customer of the
    API), display_name, kind, threshold, created_by, created_at, open_firings (how many customers
    it holds for now) and rule (in words)."""
    rules = frame(
        conn,
        f"SELECT r.id AS rule_id, r.api_id, a.name AS api, c.external_id AS customer_id, {DISPLAY_NAME} AS display_name,"
        " r.kind, r.threshold, r.created_by, r.created_at,"
        " (SELECT COUNT(*) FROM alert_firings f WHERE f.rule_id = r.id AND f.resolved_at IS NULL) AS open_firings"
        " FROM alert_rules r JOIN apis a ON a.id = r.api_id LEFT JOIN customers c ON c.id = r.customer_id"
        " ORDER BY r.id",
        schema={"rule_id": pl.Int64, "api_id": pl.Int64, "threshold": pl.Float64, "created_at": pl.Int64,
                "open_firings": pl.Int64},
    )
    return rules.with_columns(rule=pl.Series([
        rule_text(row["kind"], row["threshold"], row["api"], row["customer_id"]) for row in rules.iter_rows(named=True)
    ], dtype=pl.String))


def alert_firings(conn: Connection, limit: int = FIRINGS_SHOWN, webhook_set: bool = True) -> pl.DataFrame:
    """The latest `limit` firings, newest first: firing_id, rule_id, kind, threshold, api,
    customer_id, display_name, value, fired_at, resolved_at, delivered_at, attempts, last_error,
    and in words: rule, value_text, state ("open" or "resolved") and delivery (webhook_set: whether
    FOOTFALL_ALERT_WEBHOOK is, so that an unsent firing reads as waiting or as never sent)."""
    firings = frame(
        conn,
        "SELECT f.id AS firing_id, f.rule_id, r.kind, r.threshold, a.name AS api, c.external_id AS customer_id,"
        f" {DISPLAY_NAME} AS display_name, f.value, f.fired_at, f.resolved_at, f.delivered_at, f.attempts,"
        " f.last_error, r.customer_id IS NULL AS every_customer"
        " FROM alert_firings f JOIN alert_rules r ON r.id = f.rule_id JOIN apis a ON a.id = r.api_id"
        " JOIN customers c ON c.id = f.customer_id ORDER BY f.fired_at DESC, f.id DESC LIMIT ?",
        [limit],
        schema={"firing_id": pl.Int64, "rule_id": pl.Int64, "threshold": pl.Float64, "value": pl.Float64,
                "fired_at": pl.Int64, "resolved_at": pl.Int64, "delivered_at": pl.Int64, "attempts": pl.Int64,
                "every_customer": pl.Boolean},
    )
    rows = firings.iter_rows(named=True)
    words = [(rule_text(r["kind"], r["threshold"], r["api"], None if r["every_customer"] else r["customer_id"]),
              value_text(r["kind"], r["value"]), "open" if r["resolved_at"] is None else "resolved",
              delivery_text(r["delivered_at"], r["attempts"], r["last_error"], webhook_set)) for r in rows]
    columns = ["rule", "value_text", "state", "delivery"]
    return firings.drop("every_customer").with_columns(
        pl.Series(name, [w[i] for w in words], dtype=pl.String) for i, name in enumerate(columns)
    )
