"""The home page's read model: its counts, and the lists of its widgets.

Reads api_hourly (requests), the active-customer sets (active customers), customers and
api_customers (new customers, first and last seen), and whatever db/reads/customers.py reads for the
busiest; every figure through db/queries/figures.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl

from core.access import SHARED_ANALYST
from core.figures import with_share
from core.home_widgets import widget_choices, widgets_key
from core.scope import Scope
from db.backends.base import Connection
from db.queries.figures import DISPLAY_NAME, active_count, api_totals, customer_totals_sql, seen_sql
from db.queries.frames import frame
from db.queries.scope import scope_where
from db.reads.customers import busiest_customers


@dataclass(frozen=True)
class PeriodCounts:
    """The home page's counts for one period."""

    requests: int  # every request of the scope, unidentified included
    identified: int  # requests that belong to a customer
    active: int  # customers with at least one request
    new: int  # customers first seen in the period


@dataclass(frozen=True)
class HomeFigures:
    """Everything the home page's widgets show for the current period."""

    current: PeriodCounts
    top: pl.DataFrame  # the ten busiest customers: customer_id, display_name, requests, share, last_active
    newest: pl.DataFrame  # the ten newest customers: customer_id, display_name, first_seen, last_active
    favorites: pl.DataFrame  # favorite customers: customer_id, display_name, requests, share, last_active


def home_figures(conn: Connection, scope: Scope, analyst: str = SHARED_ANALYST) -> HomeFigures:
    """Everything the home page's widgets show for the scope and the analyst (the previous
    period's counts come from previous_counts, which is cached apart)."""
    return HomeFigures(
        current=period_counts(conn, scope),
        top=top_customers(conn, scope),
        newest=newest_customers(conn, scope),
        favorites=favorite_customers(conn, scope, analyst),
    )


def previous_counts(conn: Connection, scope: Scope) -> PeriodCounts | None:
    """The counts of the period of the same length just before the scope's; None for all time."""
    previous = scope.previous()
    return None if previous is None else period_counts(conn, previous)


def period_counts(conn: Connection, scope: Scope) -> PeriodCounts:
    """The scope's requests (all, identified), active customers and new customers."""
    totals = api_totals(conn, scope)
    return PeriodCounts(totals.requests, totals.identified, active_count(conn, scope), new_customers(conn, scope))


def new_customers(conn: Connection, scope: Scope) -> int:
    """Customers whose first request (to the scope's API, or to any API) lies in the period."""
    sql, params = seen_sql(scope)
    where, where_params = scope_where(Scope(None, scope.period), "first_seen")
    return conn.execute(f"SELECT COUNT(*) FROM ({sql}) AS seen WHERE {where}", [*params, *where_params]).fetchone()[0]


TOP_COLUMNS = ("customer_id", "display_name", "requests", "share", "last_active")


def top_customers(conn: Connection, scope: Scope, limit: int = 10) -> pl.DataFrame:
    """The busiest customers of the scope; with every API, requests to all APIs add up."""
    return busiest_customers(conn, scope, limit).select(*TOP_COLUMNS)


def newest_customers(conn: Connection, scope: Scope, limit: int = 10) -> pl.DataFrame:
    """The customers seen first most recently (up to the end of the period)."""
    sql, params = seen_sql(scope)
    until_clause, until_params = ("AND seen.first_seen < ?", [scope.period.until]) if scope.period.until else ("", [])
    return frame(
        conn,
        f"""SELECT c.external_id AS customer_id, {DISPLAY_NAME} AS display_name,
                   seen.first_seen, seen.last_seen AS last_active
            FROM ({sql}) AS seen JOIN customers c ON c.id = seen.customer_id
            WHERE TRUE {until_clause}
            ORDER BY seen.first_seen DESC, c.external_id LIMIT ?""",
        [*params, *until_params, limit],
        schema={"first_seen": pl.Int64, "last_active": pl.Int64},
    )


def favorite_customers(conn: Connection, scope: Scope, analyst: str = SHARED_ANALYST) -> pl.DataFrame:
    """Every customer the analyst starred, with its requests and share in the scope (zero when idle)."""
    favorites = [cid for (cid,) in conn.execute("SELECT customer_id FROM favorites WHERE analyst = ?", (analyst,))]
    counts_sql, counts_params = customer_totals_sql(scope, customers=favorites)
    seen, seen_params = seen_sql(scope)
    rows = frame(
        conn,
        f"""SELECT c.external_id AS customer_id, {DISPLAY_NAME} AS display_name,
                   COALESCE(counts.requests, 0) AS requests, seen.last_seen AS last_active
            FROM customers c LEFT JOIN ({counts_sql}) AS counts ON counts.customer_id = c.id
                 LEFT JOIN ({seen}) AS seen ON seen.customer_id = c.id
            WHERE c.id IN (SELECT value FROM json_each(?))
            ORDER BY requests DESC, lower({DISPLAY_NAME}), c.external_id""",
        [*counts_params, *seen_params, json.dumps(favorites)],
        schema={"requests": pl.Int64, "last_active": pl.Int64},
    )
    return with_share(rows, api_totals(conn, scope).requests)


def widget_choices_saved(conn: Connection, analyst: str = SHARED_ANALYST) -> dict[str, bool]:
    """Which widgets the analyst switched on (every one, until one is switched off)."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (widgets_key(analyst),)).fetchone()
    return widget_choices(row[0] if row else None)
