"""What every dashboard figure is filtered by, and the one WHERE clause built from it."""

from __future__ import annotations

from dataclasses import dataclass

from core.periods import DAY, HOUR, Period, split_into_days


@dataclass(frozen=True)
class Scope:
    """What every dashboard figure is filtered by: one API (None: all of them) and a period."""

    api_id: int | None
    period: Period


def scope_where(
    scope: Scope, time_column: str, *, step: int = 1, api_column: str = "api_id", every_api: bool = False
) -> tuple[str, list]:
    """The shared WHERE for API and period (Plausible's base_query). Rows whose time bucket
    starts at `time_column` and lasts `step` seconds count when they lie inside the period.
    every_api: with no API chosen, list every API anyway, so that a key or index starting with
    api_id still leads (rollups keyed (api_id, time, ...) are read range by range, not scanned)."""
    clauses, params = ["1"], []
    if scope.api_id is not None:
        clauses.append(f"{api_column} = ?")
        params.append(scope.api_id)
    elif every_api:
        clauses.append(f"{api_column} IN (SELECT id FROM apis)")
    if scope.period.since is not None:
        clauses.append(f"{time_column} >= ?")
        params.append(scope.period.since)
    if scope.period.until is not None:
        # bucket + (step - 1) < until, with the column bare so that an index bounds the range.
        clauses.append(f"{time_column} < ?")
        params.append(scope.period.until - (step - 1))
    return " AND ".join(clauses), params


def whole_days_and_edge_hours_sql(
    scope: Scope, columns: str, daily_table: str, hourly_table: str
) -> tuple[str, list]:
    """SELECT `columns` for the scope's bounded period from rollups kept both by day and by hour:
    the whole days from `daily_table` (keyed api_id, day), the hours at either edge from
    `hourly_table` (api_id, hour), as one UNION ALL."""
    edges, days = split_into_days(scope.period.since, scope.period.until)
    parts, params = [], []
    if days:
        where, where_params = scope_where(Scope(scope.api_id, Period(*days)), "day", step=DAY, every_api=True)
        parts.append(f"SELECT {columns} FROM {daily_table} WHERE {where}")
        params += where_params
    for start, end in edges:
        where, where_params = scope_where(Scope(scope.api_id, Period(start, end)), "hour", step=HOUR, every_api=True)
        parts.append(f"SELECT {columns} FROM {hourly_table} WHERE {where}")
        params += where_params
    return " UNION ALL ".join(parts), params
