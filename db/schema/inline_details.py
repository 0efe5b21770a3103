"""PostgreSQL's migration 10: each request's packed details (core/detail_codec.py) kept in its
request_log row, not in a second partitioned table (issue 22): no second tuple header, line
pointer, id, time and B-tree per request. SQLite keeps its request_details table.

begin renames the old request_log and its day partitions out of the way and makes the new one,
partitioned as the old is; each batch moves one old day partition with its twin of request_details
into the new table and drops both, in the batch's transaction (a conversion cut short goes on from
the partitions left, and no table ever holds two copies of everything); end drops the old tables
and makes the view request_details (readers see the columns they saw), the view requests and the
indexes, after the data is in (a sorted build is compact).

requests_id is a BRIN: ids rise with time within a day partition, so one request is one block range
of each partition (16 pages: a lookup reads 16 pages, not 128, for an index still of a few pages);
autosummarize, so that the ranges of today's partition filling up are summarized as they fill
(autovacuum), not left for a lookup to read whole.

The new row is laid out widest first (no padding between columns), and a path that is its
endpoint's or no threat reasons are stored as '' rather than NULL: a row with no NULL has no NULL
bitmap, 8 bytes less (23 B header + 2 B of bitmap for 16 columns, aligned to 8). Its SQL is its
own and frozen, as every migration's is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from core.detail_codec import Packer
from db.backends.base import Connection
from db.schema.conversions import Conversion
from db.schema.request_log import REQUEST_LOG_COLUMNS

_OLD = "request_log_v9"  # the old parent while the conversion runs; its partitions request_log_v9_d<day>
# The new row's columns, in the order of the table (widest first), and what each is in the old tables.
COLUMNS = ("id", "ts", "size", "load_us", "api_id", "customer_id", "route_id", "agent_id", "place_id",
           "dictionary_id", "status", "threat", "path", "query", "threat_reasons", "details")
# A request whose details row is missing (none is, as the writer wrote both) reads as empty texts.
NO_DETAILS = Packer(None).pack(("", "", "", "", ""))
_EMPTY_FOR_NONE = tuple(REQUEST_LOG_COLUMNS.index(column) for column in ("path", "threat_reasons"))


def from_separate(column: str, no_details: str) -> str:
    """A column of the new row selected from the separate layout, `request_log r LEFT JOIN
    request_details d` (the conversion here, db/operations/copy.py from SQLite); `no_details`: the
    SQL of NO_DETAILS, for a request without a details row."""
    return {"dictionary_id": "d.dictionary_id", "path": "COALESCE(r.path, '')",
            "threat_reasons": "COALESCE(r.threat_reasons, '')",
            "details": f"COALESCE(d.details, {no_details})"}.get(column, f"r.{column}")


def inline_rows(requests: Iterable[Sequence], details: Iterable[Sequence]) -> Iterator[tuple]:
    """The writer's rows (REQUEST_LOG_COLUMNS', and DETAIL_COLUMNS' of the same requests in the same
    order) as rows of WRITTEN_COLUMNS: a request's details in its row, NULL path and threat reasons as ''."""
    for request, (request_id, _, dictionary_id, packed) in zip(requests, details, strict=True):
        if request_id != request[0]:
            raise ValueError(f"the details of request {request_id} came with request {request[0]}")
        row = list(request)
        for at in _EMPTY_FOR_NONE:
            if row[at] is None:
                row[at] = ""
        yield (*row, dictionary_id, packed)


WRITTEN_COLUMNS = (*REQUEST_LOG_COLUMNS, "dictionary_id", "details")  # inline_rows' order
_NO_TWIN = "(SELECT NULL::bigint AS request_id, NULL::integer AS dictionary_id, NULL::bytea AS details WHERE false)"

REQUESTS_VIEW = """
    CREATE VIEW requests AS
        SELECT r.id, r.api_id, r.customer_id, r.ts, o.method, r.status,
               CASE WHEN r.path = '' THEN o.endpoint ELSE r.path END AS path, r.query, o.endpoint,
               r.load_us::float8 / 1000 AS load_time_ms, r.size,
               CASE r.threat WHEN 0 THEN 'low' WHEN 1 THEN 'medium' ELSE 'high' END AS threat_level,
               CASE WHEN r.threat_reasons = '' THEN '[]' ELSE r.threat_reasons END AS threat_reasons,
               g.device, g.os, g.browser, g.ai_agent, p.country, p.city, p.ip, g.user_agent, g.sdk
        FROM request_log r LEFT JOIN routes o ON o.id = r.route_id LEFT JOIN agents g ON g.id = r.agent_id
        LEFT JOIN places p ON p.id = r.place_id;
"""


def _partitions(conn: Connection, parent: str) -> list[tuple[str, str]]:
    """The partitions of a table, (name, bound), by name."""
    return conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ? ORDER BY c.relname", (parent,)).fetchall()


def _begin(conn: Connection) -> None:
    if conn.execute("SELECT to_regclass(?) IS NULL", (_OLD,)).fetchone()[0]:
        conn.execute(f"ALTER TABLE request_log RENAME TO {_OLD}")
        for name, _ in _partitions(conn, _OLD):
            conn.execute(f"ALTER TABLE {name} RENAME TO {_OLD}{name.removeprefix('request_log')}")
    conn.raw.execute("""
    CREATE TABLE IF NOT EXISTS request_log (
        id BIGINT NOT NULL,
        ts BIGINT NOT NULL,
        size BIGINT,
        load_us BIGINT NOT NULL,
        api_id INTEGER NOT NULL,
        customer_id INTEGER,
        route_id INTEGER NOT NULL,
        agent_id INTEGER NOT NULL,
        place_id INTEGER NOT NULL,
        dictionary_id INTEGER,          -- NULL: packed without a dictionary
        status SMALLINT NOT NULL,
        threat SMALLINT NOT NULL,
        path TEXT NOT NULL DEFAULT '',  -- '': the endpoint's name
        query TEXT NOT NULL DEFAULT '',
        threat_reasons TEXT NOT NULL DEFAULT '',  -- '': none
        details BYTEA NOT NULL          -- headers, bodies and errors, packed (core/detail_codec.py)
    ) PARTITION BY RANGE (ts);
    """)
    for name, bound in _partitions(conn, _OLD):
        conn.execute(f"CREATE TABLE IF NOT EXISTS request_log{name.removeprefix(_OLD)} PARTITION OF request_log {bound}")


def _batch(conn: Connection) -> int:
    """Move the next old day partition that holds rows (empty ones go on the way); 0 when none is left."""
    selected = ", ".join(from_separate(column, "?") for column in COLUMNS)
    for name, _ in _partitions(conn, _OLD):
        suffix = name.removeprefix(_OLD)
        details = f"request_details{suffix}"
        twin = conn.execute("SELECT to_regclass(?) IS NOT NULL", (details,)).fetchone()[0]
        moved = conn.execute(
            f"INSERT INTO request_log{suffix} ({', '.join(COLUMNS)}) SELECT {selected} FROM {name} r"
            f" LEFT JOIN {details if twin else _NO_TWIN} d ON d.request_id = r.id ORDER BY r.ts, r.id",
            (NO_DETAILS,)).rowcount
        conn.execute(f"DROP TABLE {name}{f', {details}' if twin else ''}")
        if moved:
            return moved
    return 0


def _end(conn: Connection) -> None:
    """The views over the new table, then its indexes, built sorted over what the batches moved (no
    index by API: migration 12 drops it where it is, and nothing needs it on PostgreSQL)."""
    conn.raw.execute(f"""
    DROP VIEW requests;
    DROP TABLE {_OLD}, request_details;
    CREATE VIEW request_details AS SELECT id AS request_id, ts, dictionary_id, details FROM request_log;
    {REQUESTS_VIEW}
    CREATE INDEX requests_ts ON request_log USING brin (ts);
    CREATE INDEX requests_customer_ts ON request_log(customer_id, ts)
        INCLUDE (api_id, status, route_id, agent_id, place_id) WHERE customer_id IS NOT NULL;
    CREATE INDEX requests_id ON request_log USING brin (id) WITH (pages_per_range = 16, autosummarize = on);
    """)


POSTGRES = Conversion("request details in the request rows", _begin, _batch, _end)
