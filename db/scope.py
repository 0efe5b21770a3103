"""What every dashboard figure is filtered by, and the one WHERE clause built from it."""

from __future__ import annotations

from dataclasses import dataclass

from core.periods import Period


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
