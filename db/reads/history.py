"""The request history's read model (the profile's table, its filters, one request's details, and
the CLI's requests command): the only reads of raw requests, always through the index on
(customer_id, ts). The unfiltered count is db/queries/figures.customer_totals_sql's, from the rollups,
for the time after the last prune's cutoff (settings: db/operations/prune.py keeps it); before it,
the raw requests left are counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl

from core.periods import Period, ceil_hour
from core.scope import Scope
from db.backends.base import Connection
from db.operations.prune import PRUNED_BEFORE_KEY
from db.queries.details import unpacked
from db.queries.figures import customer_totals_sql
from db.queries.frames import frame
from db.queries.scope import NO_LIMIT, like_pattern, scope_where

NO_VALUE = "(none)"  # filter value standing for a missing AI agent or location
ANY_AI_AGENT = "(any AI agent)"
STATUS_CLASS_RANGES = {"2xx": (100, 300), "3xx": (300, 400), "4xx": (400, 500), "5xx": (500, 1000)}
THREAT_ORDER = "CASE threat_level WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END"

# The sort keys a caller may name, and the SQL each stands for (most are the column itself).
HISTORY_SORTS: dict[str, str] = {
    "time": "ts",
    **{column: column for column in ("method", "status", "endpoint", "load_time_ms")},
    "threat_level": THREAT_ORDER,
    **{column: column for column in ("device", "ai_agent", "country")},
}

# Sort keys that may be NULL (no AI agent, no location). SQLite puts NULLs first in ascending order,
# PostgreSQL last: NULLS FIRST / NULLS LAST, which both have, pin SQLite's order on both.
NULLABLE_SORTS = frozenset({"ai_agent", "country"})

HISTORY_SCHEMA = {"id": pl.Int64, "time": pl.Int64, "status": pl.Int64, "load_time_ms": pl.Float64}
REQUEST_SCHEMA = {**HISTORY_SCHEMA, "size": pl.Int64}
OPTION_SAMPLE = 1_000


@dataclass(frozen=True)
class HistoryFilter:
    """What the request history is narrowed to; empty means no filter on that column."""

    methods: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # "4xx" for a class, "404" for one code
    endpoints: tuple[str, ...] = ()
    threat_levels: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    ai_agents: tuple[str, ...] = ()  # names, NO_VALUE, ANY_AI_AGENT
    countries: tuple[str, ...] = ()  # country codes, NO_VALUE
    min_load_ms: float | None = None
    max_load_ms: float | None = None
    since: int | None = None  # narrows the period further
    until: int | None = None
    search: str = ""  # anywhere in the path or the endpoint name, ignoring case

    @property
    def active(self) -> bool:
        return self != HistoryFilter()


def history(
    conn: Connection,
    cid: int,
    scope: Scope,
    filters: HistoryFilter = HistoryFilter(),
    sort: str = "time",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
) -> pl.DataFrame:
    """The customer's requests in the scope that pass the filters, sorted (newest first by
    default), one page of them."""
    if sort not in HISTORY_SORTS:
        raise ValueError(f"cannot sort requests by {sort!r}")
    where, params = _history_where(cid, scope, filters)
    direction = "DESC" if descending else "ASC"
    nulls = (" NULLS LAST" if descending else " NULLS FIRST") if sort in NULLABLE_SORTS else ""
    return frame(
        conn,
        f"""SELECT id, ts AS time, method, status, endpoint, path, load_time_ms, threat_level, device, ai_agent,
                   country, city
            FROM requests WHERE {where}
            ORDER BY {HISTORY_SORTS[sort]} {direction}{nulls}, ts {direction}, id {direction}
            LIMIT ? OFFSET ?""",
        [*params, limit, offset],
        HISTORY_SCHEMA,
    )


def history_count(conn: Connection, cid: int, scope: Scope, filters: HistoryFilter = HistoryFilter()) -> int:
    """How many requests history() pages through: the raw requests kept. Unfiltered, the rollups
    answer for the whole hours after the last prune's cutoff, which they count exactly, and the
    raw requests for the time before (late ones dated then, and the cutoff's own hour)."""
    if filters.active:
        where, params = _history_where(cid, scope, filters)
        return conn.execute(f"SELECT COUNT(*) FROM requests WHERE {where}", params).fetchone()[0]
    cutoff = pruned_before(conn)
    since, until = scope.period.closed()
    if cutoff is None or cutoff <= since:
        return _rolled_up_count(conn, cid, scope)
    kept_whole = min(ceil_hour(cutoff), until)
    where, params = _customer_requests_where(cid, Scope(scope.api_id, Period(scope.period.since, kept_whole)))
    before = conn.execute(f"SELECT COUNT(*) FROM requests WHERE {where}", params).fetchone()[0]
    if kept_whole >= until:
        return before
    return before + _rolled_up_count(conn, cid, Scope(scope.api_id, Period(kept_whole, scope.period.until)))


def pruned_before(conn: Connection) -> int | None:
    """The time raw requests were pruned up to (the furthest cutoff of any prune; the figures still
    count what went), or None when none ever was."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (PRUNED_BEFORE_KEY,)).fetchone()
    return None if row is None else int(row[0])


def _rolled_up_count(conn: Connection, cid: int, scope: Scope) -> int:
    sql, params = customer_totals_sql(scope, customers=[cid])
    row = conn.execute(sql, params).fetchone()
    return row[1] if row else 0


def history_options(conn: Connection, cid: int, scope: Scope) -> dict[str, list]:
    """The values the history's filters offer: those in the customer's latest requests of the
    scope (at most OPTION_SAMPLE of them), most frequent first."""
    where, params = _customer_requests_where(cid, scope)
    sample = frame(
        conn,
        f"SELECT method, status, endpoint, device, ai_agent, country FROM requests WHERE {where}"
        " ORDER BY ts DESC LIMIT ?",
        [*params, OPTION_SAMPLE],
        {"status": pl.Int64},
    )

    def ranked(column: str) -> list:
        if sample.is_empty():
            return []
        counts = sample.group_by(column).len().sort(["len", column], descending=[True, False], nulls_last=True)
        return [v for v in counts[column].to_list() if v is not None]

    return {
        "methods": ranked("method"),
        "statuses": sorted(ranked("status")),
        "endpoints": ranked("endpoint"),
        "devices": ranked("device"),
        "ai_agents": ranked("ai_agent"),
        "countries": ranked("country"),
    }


def request_detail(conn: Connection, cid: int, request_id: int) -> dict | None:
    """One request of this customer with its masked headers, bodies and errors; None when the
    request is not this customer's."""
    cursor = conn.execute(
        "SELECT r.*, d.dictionary_id, d.details"
        " FROM requests r JOIN request_details d ON d.request_id = r.id WHERE r.id = ? AND r.customer_id = ?",
        (request_id, cid),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    found = dict(zip([c[0] for c in cursor.description], row))
    (details,) = unpacked(conn, [(found.pop("dictionary_id"), found.pop("details"))])
    return found | details


def request_bodies(conn: Connection, ids: list[int], times: list[int]) -> pl.DataFrame:
    """The bodies (id, request_body, response_body) of the requests with these ids, made at these
    times (on PostgreSQL the details are partitioned by day: Backend.within_times)."""
    within, bounds = conn.backend.within_times(times)
    rows = conn.execute("SELECT request_id, dictionary_id, details FROM request_details"
                        f" WHERE request_id IN (SELECT value FROM json_each(?)){within}",
                        [json.dumps(ids), *bounds]).fetchall()
    details = unpacked(conn, [(dictionary_id, packed) for _, dictionary_id, packed in rows])
    return pl.DataFrame({"id": [row[0] for row in rows],
                         "request_body": [d["request_body"] for d in details],
                         "response_body": [d["response_body"] for d in details]},
                        schema={"id": pl.Int64, "request_body": pl.String, "response_body": pl.String})


def customer_requests(conn: Connection, customer_id: str, scope: Scope,
                      limit: int | None = None) -> pl.DataFrame:
    """The customer's (by the ID shown) requests in the scope, newest first, every stored column
    but the masked details (the CLI's requests command)."""
    found = conn.execute("SELECT id FROM customers WHERE external_id = ?", (customer_id,)).fetchone()
    where, params = _customer_requests_where(found[0] if found else -1, scope, "r.")
    return frame(
        conn,
        f"""SELECT r.id, r.ts AS time, r.method, r.status, r.path, r.query, r.endpoint, r.load_time_ms, r.size,
                   r.threat_level, r.threat_reasons, r.device, r.os, r.browser, r.ai_agent, r.country, r.city,
                   r.ip, r.user_agent, ? AS customer_id, a.name AS api
            FROM requests r JOIN apis a ON a.id = r.api_id
            WHERE {where}
            ORDER BY r.ts DESC, r.id DESC LIMIT ?""",
        [customer_id, *params, NO_LIMIT if limit is None else limit],
        REQUEST_SCHEMA,
    )


def _customer_requests_where(cid: int, scope: Scope, prefix: str = "") -> tuple[str, list]:
    """One customer's raw requests in the scope."""
    # The unary + keeps SQLite on the (customer_id, ts) index even when an API is chosen.
    where, params = scope_where(scope, f"{prefix}ts", api_column=f"+{prefix}api_id")
    return f"{prefix}customer_id = ? AND {where}", [cid, *params]


def _in(column: str, values: tuple[str, ...]) -> tuple[str, list]:
    return f"{column} IN ({','.join('?' * len(values))})", list(values)


def _history_where(cid: int, scope: Scope, f: HistoryFilter) -> tuple[str, list]:
    where, params = _customer_requests_where(cid, scope)
    clauses, params = [where], list(params)

    def add(clause: str, values: list) -> None:
        clauses.append(clause)
        params.extend(values)

    for column, values in (("method", f.methods), ("endpoint", f.endpoints), ("threat_level", f.threat_levels),
                           ("device", f.devices)):
        if values:
            add(*_in(column, values))
    if f.statuses:
        parts, values = [], []
        for status in f.statuses:
            if status in STATUS_CLASS_RANGES:
                parts.append("(status >= ? AND status < ?)")
                values += list(STATUS_CLASS_RANGES[status])
            else:
                parts.append("status = ?")
                values.append(int(status))
        add("(" + " OR ".join(parts) + ")", values)
    for column, values, anything in (("ai_agent", f.ai_agents, ANY_AI_AGENT), ("country", f.countries, None)):
        if not values:
            continue
        parts, named = [], [v for v in values if v not in (NO_VALUE, anything)]
        if named:
            part, part_params = _in(column, tuple(named))
            parts.append(part)
        else:
            part_params = []
        if NO_VALUE in values:
            parts.append(f"{column} IS NULL")
        if anything is not None and anything in values:
            parts.append(f"{column} IS NOT NULL")
        add("(" + " OR ".join(parts) + ")", part_params)
    if f.min_load_ms is not None:
        add("load_time_ms >= ?", [f.min_load_ms])
    if f.max_load_ms is not None:
        add("load_time_ms <= ?", [f.max_load_ms])
    if f.since is not None:
        add("ts >= ?", [f.since])
    if f.until is not None:
        add("ts < ?", [f.until])
    if f.search.strip():
        pattern = like_pattern(f.search.strip())
        add("(path LIKE ? ESCAPE '\\' OR endpoint LIKE ? ESCAPE '\\')", [pattern, pattern])
    return " AND ".join(clauses), params
