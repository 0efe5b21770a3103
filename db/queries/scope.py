"""The shared WHERE for API and period (Plausible's base_query), and the one split of a period into
whole days and edge hours that every rollup kept both by day and by hour is read through."""

from __future__ import annotations

from collections.abc import Callable

from core.periods import Period, split_into_days
from core.scope import Scope

# A part of a UNION ALL over one time range [start, end): its SQL and parameters.
PartSql = Callable[[int, int], tuple[str, list]]


def scope_where(
    scope: Scope, time_column: str, *, step: int = 1, api_column: str = "api_id", every_api: bool = False
) -> tuple[str, list]:
    """The shared WHERE for API and period. Rows whose time bucket starts at `time_column` and
    lasts `step` seconds count when they lie inside the period.
    every_api: with no API chosen, list every API anyway, so that a key or index starting with
    api_id still leads (rollups keyed (api_id, time, ...) are read range by range, not scanned)."""
    clauses, params = ["TRUE"], []
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


def api_where(scope: Scope, api_column: str = "api_id") -> tuple[str, list]:
    """The scope's API condition alone, every API listed when there is none (see scope_where)."""
    return scope_where(Scope(scope.api_id, Period(None, None)), "", api_column=api_column, every_api=True)


def whole_days_and_edge_hours_sql(period: Period, day_part: PartSql, hour_part: PartSql) -> tuple[str, list]:
    """One UNION ALL over the period (open ends closed, Period.closed): day_part(start, end) for
    its whole UTC days, hour_part(start, end) for the hours at either edge."""
    edges, days = split_into_days(*period.closed())
    parts = ([day_part(*days)] if days else []) + [hour_part(start, end) for start, end in edges]
    return " UNION ALL ".join(sql for sql, _ in parts), [p for _, params in parts for p in params]


def rollup_part(scope: Scope, select: str, time_column: str, step: int) -> PartSql:
    """A part for whole_days_and_edge_hours_sql: `select` (SELECT ... FROM a rollup keyed by
    api_id, then `time_column` in buckets of `step` seconds) over the scope's API and [start, end)."""

    def part(start: int, end: int) -> tuple[str, list]:
        where, params = scope_where(Scope(scope.api_id, Period(start, end)), time_column, step=step, every_api=True)
        return f"{select} WHERE {where}", params

    return part


def like_pattern(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') matching values that contain `text` anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# LIMIT for "every row": SQLite's -1 is an error on PostgreSQL, and NULL one on SQLite.
NO_LIMIT = 2**63 - 1
