"""SQLite's schema, as numbered migrations applied in order; PRAGMA user_version records how far.

A migration that fills its new tables from data already stored does so with SQL of its own, frozen
as it was written: today's write code (db/writes/) may expect a later schema than the database
being migrated has.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from itertools import groupby
from typing import TypeVar

from pyroaring import BitMap

from core.keys import key_hash, key_prefix
from core.periods import DAY, HOUR
from db.backends.base import Connection
from db.schema import packed_details
from db.schema.conversions import Conversion, MigratedElsewhere, run_conversion
from db.schema.request_log import convert_batch

T = TypeVar("T")


def _active_customer_sets(conn: Connection) -> None:
    """Migration 3: each API's active customers per day and hour (db/writes/activity.py), filled from the
    rollups already stored."""
    _run(conn, """
    -- customers: a roaring bitmap (pyroaring's portable serialization) of customer ids.
    CREATE TABLE active_daily (
        api_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        customers BLOB NOT NULL,
        PRIMARY KEY (api_id, day)
    ) WITHOUT ROWID;
    CREATE TABLE active_hourly (
        api_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        customers BLOB NOT NULL,
        PRIMARY KEY (api_id, hour)
    ) WITHOUT ROWID;
    """)
    _fill_active_sets(conn)


def _fill_active_sets(conn: Connection) -> None:
    """Migration 3's filling of active_daily and active_hourly from customer_daily and
    customer_hourly (db/writes/activity.py's rebuild_activity, as it was)."""
    for table, column, rollup, key in (("active_daily", "day", "customer_daily", "api_id, day, customer_id"),
                                       ("active_hourly", "hour", "customer_hourly", "api_id, hour, customer_id")):
        conn.execute(f"DELETE FROM {table}")
        rows = conn.execute(f"SELECT {key} FROM {rollup} ORDER BY {key}")
        for (api_id, start), group in groupby(rows, key=lambda row: (row[0], row[1])):
            _store_set(conn, table, ("api_id", column), api_id, start, BitMap(row[2] for row in group))


def _store_set(conn: Connection, table: str, key: tuple[str, str], first: int, second: int,
               customers: BitMap) -> None:
    """One roaring bitmap of customer ids, stored (replacing any) under its two-column key."""
    customers.run_optimize()
    conn.execute(f"INSERT INTO {table} VALUES (?, ?, ?) ON CONFLICT ({key[0]}, {key[1]})"
                 " DO UPDATE SET customers = excluded.customers", (first, second, customers.serialize()))


def _hashed_api_keys(conn: Connection) -> None:
    """Migration 4: API keys are kept as their hash and a short prefix, never in plain text; an API
    can be removed (its key stops working, its data stays)."""
    _run(conn, """
    CREATE TABLE apis_hashed (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        key_hash TEXT UNIQUE,            -- core.keys.key_hash of the key; NULL once removed
        key_prefix TEXT NOT NULL,        -- its first characters, for `apis list`
        created_at INTEGER NOT NULL,
        removed_at INTEGER               -- set by `apis remove` (without --delete-data)
    );
    """)
    rows = conn.execute("SELECT id, name, api_key, created_at FROM apis ORDER BY id").fetchall()
    conn.executemany(
        "INSERT INTO apis_hashed (id, name, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?)",
        [(api_id, name, key_hash(key), key_prefix(key), created) for api_id, name, key, created in rows],
    )
    # connect() turns secure_delete on before it migrates: the pages that held the keys in plain
    # text are zeroed, not left free but readable.
    conn.execute("DROP TABLE apis")
    conn.execute("ALTER TABLE apis_hashed RENAME TO apis")


def _signals(conn: Connection) -> None:
    """Migration 6: endpoint adoption rollups (filled from the raw requests already stored), alert
    rules and their firings, and the links that show a customer their own usage."""
    _run(conn, """
    -- An API's endpoints: a method and the endpoint name requests carry ("/v1/orders/{id}").
    CREATE TABLE endpoints (
        id INTEGER PRIMARY KEY,
        api_id INTEGER NOT NULL REFERENCES apis(id),
        method TEXT NOT NULL,
        name TEXT NOT NULL,
        UNIQUE (api_id, method, name)
    );
    -- Each customer's endpoints, all time: requests, errors (4xx and 5xx), first and last call.
    CREATE TABLE customer_endpoints (
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        endpoint_id INTEGER NOT NULL,
        first_call INTEGER NOT NULL,
        last_call INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        PRIMARY KEY (customer_id, endpoint_id)
    ) WITHOUT ROWID;
    -- An endpoint's callers by their first call (new adopters) and by their last (who moved off).
    CREATE INDEX customer_endpoints_first_call ON customer_endpoints(endpoint_id, first_call);
    CREATE INDEX customer_endpoints_last_call ON customer_endpoints(endpoint_id, last_call);
    -- Requests and errors per endpoint, day and customer, and per hour for a period's edges.
    CREATE TABLE endpoint_daily (
        endpoint_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        PRIMARY KEY (endpoint_id, day, customer_id)
    ) WITHOUT ROWID;
    CREATE INDEX endpoint_daily_customer ON endpoint_daily(customer_id, day);
    CREATE TABLE endpoint_hourly (
        endpoint_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        PRIMARY KEY (endpoint_id, hour, customer_id)
    ) WITHOUT ROWID;
    CREATE INDEX endpoint_hourly_customer ON endpoint_hourly(customer_id, hour);
    -- Each endpoint's identified requests and errors per hour, and who called it each day and
    -- hour (roaring bitmaps of customer ids, as active_daily): a period's figures per endpoint
    -- without reading every customer's rows.
    CREATE TABLE endpoint_totals (
        endpoint_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        PRIMARY KEY (endpoint_id, hour)
    ) WITHOUT ROWID;
    CREATE TABLE endpoint_callers_daily (
        endpoint_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        customers BLOB NOT NULL,
        PRIMARY KEY (endpoint_id, day)
    ) WITHOUT ROWID;
    CREATE TABLE endpoint_callers_hourly (
        endpoint_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        customers BLOB NOT NULL,
        PRIMARY KEY (endpoint_id, hour)
    ) WITHOUT ROWID;

    -- Signals computed on a schedule (db/queries/snapshots.py): a frame per signal, API and key.
    CREATE TABLE signal_snapshots (
        signal TEXT NOT NULL,
        api_id INTEGER NOT NULL,          -- 0: every API
        key TEXT NOT NULL,
        computed_at INTEGER NOT NULL,
        frame BLOB NOT NULL,              -- Arrow IPC
        PRIMARY KEY (signal, api_id, key)
    ) WITHOUT ROWID;

    -- Alert rules: for one customer, or (customer_id NULL) for every customer of the API.
    CREATE TABLE alert_rules (
        id INTEGER PRIMARY KEY,
        api_id INTEGER NOT NULL REFERENCES apis(id),
        customer_id INTEGER REFERENCES customers(id),
        kind TEXT NOT NULL CHECK (kind IN ('spike', 'drop', 'error_rate', 'p95')),
        threshold REAL NOT NULL,
        created_by TEXT,
        created_at INTEGER NOT NULL
    );
    -- One firing per rule and customer per episode: opened when the rule starts holding, closed
    -- (resolved_at) when it stops; delivery to the webhook is retried until delivered_at is set.
    CREATE TABLE alert_firings (
        id INTEGER PRIMARY KEY,
        rule_id INTEGER NOT NULL REFERENCES alert_rules(id),
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        value REAL NOT NULL,
        fired_at INTEGER NOT NULL,
        resolved_at INTEGER,
        delivered_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX alert_firings_rule ON alert_firings(rule_id, customer_id, resolved_at);
    CREATE INDEX alert_firings_customer ON alert_firings(customer_id);
    CREATE INDEX alert_firings_time ON alert_firings(fired_at);

    -- Read-only links a customer opens to see their own usage: the link carries a signed token,
    -- the database only its hash.
    CREATE TABLE customer_links (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        api_id INTEGER REFERENCES apis(id),   -- NULL: every API
        token_hash TEXT NOT NULL UNIQUE,
        show_bodies INTEGER NOT NULL DEFAULT 0,
        created_by TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE INDEX customer_links_customer ON customer_links(customer_id);
    """)
    _fill_endpoint_rollups(conn)


def _fill_endpoint_rollups(conn: Connection) -> None:
    """Migration 6's filling of the endpoint rollups from the raw requests (db/writes/endpoints.py's
    rebuild_endpoint_rollups, as it was). Requests pruned before then are not in them."""
    callers = (("endpoint_callers_daily", "day", "endpoint_daily"), ("endpoint_callers_hourly", "hour", "endpoint_hourly"))
    for table in ("customer_endpoints", "endpoint_daily", "endpoint_hourly", "endpoint_totals",
                  *(table for table, _, _ in callers)):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("INSERT OR IGNORE INTO endpoints (api_id, method, name)"
                 " SELECT DISTINCT api_id, method, endpoint FROM requests WHERE customer_id IS NOT NULL ORDER BY 1, 2, 3")
    calls = ("SELECT e.id AS endpoint_id, r.customer_id, r.ts, CASE WHEN r.status >= 400 THEN 1 ELSE 0 END AS error FROM requests r"
             " JOIN endpoints e ON e.api_id = r.api_id AND e.method = r.method AND e.name = r.endpoint"
             " WHERE r.customer_id IS NOT NULL")
    conn.execute("INSERT INTO endpoint_daily (endpoint_id, day, customer_id, requests, errors)"
                 f" SELECT endpoint_id, ts - ts % {DAY:d}, customer_id, COUNT(*), SUM(error) FROM ({calls}) AS calls"
                 " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    conn.execute("INSERT INTO endpoint_hourly (endpoint_id, hour, customer_id, requests, errors)"
                 f" SELECT endpoint_id, ts - ts % {HOUR:d}, customer_id, COUNT(*), SUM(error) FROM ({calls}) AS calls"
                 " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    conn.execute("INSERT INTO endpoint_totals (endpoint_id, hour, requests, errors)"
                 " SELECT endpoint_id, hour, SUM(requests), SUM(errors) FROM endpoint_hourly GROUP BY 1, 2 ORDER BY 1, 2")
    conn.execute("INSERT INTO customer_endpoints (customer_id, endpoint_id, first_call, last_call, requests, errors)"
                 f" SELECT customer_id, endpoint_id, MIN(ts), MAX(ts), COUNT(*), SUM(error) FROM ({calls}) AS calls"
                 " GROUP BY 1, 2 ORDER BY 1, 2")
    for table, column, rollup in callers:
        rows = conn.execute(f"SELECT endpoint_id, {column}, customer_id FROM {rollup} ORDER BY 1, 2")
        for (eid, start), group in groupby(rows, key=lambda row: (row[0], row[1])):
            _store_set(conn, table, ("endpoint_id", column), eid, start, BitMap(row[2] for row in group))


def _usage(conn: Connection) -> None:
    """Migration 10: usage for billing (core/usage.py): each customer's requests per API and UTC
    calendar month, and per endpoint, with the 5xx and 429 answers billing may leave out; what each
    API leaves out; monthly quotas and their firings. customer_monthly is filled from customer_hourly
    (every request, pruned ones included), its 429s and endpoint_monthly's 5xx and 429s from the raw
    requests still stored (db/writes/usage.py keeps them from now on)."""
    _run(conn, """
    CREATE TABLE customer_monthly (
        api_id INTEGER NOT NULL,
        month INTEGER NOT NULL,              -- the month's first midnight, UTC
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,             -- answered 4xx or 5xx
        s5xx INTEGER NOT NULL,
        s429 INTEGER NOT NULL,
        PRIMARY KEY (api_id, month, customer_id)
    ) WITHOUT ROWID;
    CREATE INDEX customer_monthly_customer ON customer_monthly(customer_id, month);
    CREATE TABLE endpoint_monthly (
        endpoint_id INTEGER NOT NULL,
        month INTEGER NOT NULL,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        s5xx INTEGER NOT NULL,
        s429 INTEGER NOT NULL,
        PRIMARY KEY (endpoint_id, month, customer_id)
    ) WITHOUT ROWID;
    CREATE INDEX endpoint_monthly_customer ON endpoint_monthly(customer_id, month);
    -- What an API leaves out of its billable requests (`footfall apis billable`).
    ALTER TABLE apis ADD COLUMN exclude_5xx INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE apis ADD COLUMN exclude_429 INTEGER NOT NULL DEFAULT 0;
    -- Monthly quotas of billable requests: a customer's own, or (customer_id NULL) the API's default.
    CREATE TABLE quotas (
        api_id INTEGER NOT NULL REFERENCES apis(id),
        customer_id INTEGER REFERENCES customers(id),
        monthly INTEGER NOT NULL,
        set_by TEXT,
        set_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX quotas_api_customer ON quotas(api_id, COALESCE(customer_id, 0));
    CREATE INDEX quotas_customer ON quotas(customer_id);
    -- One firing per customer, API, month and threshold (0.8, 1.0); delivered as alert_firings are.
    CREATE TABLE quota_firings (
        id INTEGER PRIMARY KEY,
        api_id INTEGER NOT NULL REFERENCES apis(id),
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        month INTEGER NOT NULL,
        threshold REAL NOT NULL,
        used INTEGER NOT NULL,
        quota INTEGER NOT NULL,
        fired_at INTEGER NOT NULL,
        delivered_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        UNIQUE (api_id, customer_id, month, threshold)
    );
    CREATE INDEX quota_firings_customer ON quota_firings(customer_id);
    CREATE INDEX quota_firings_time ON quota_firings(fired_at);
    """)
    _fill_usage(conn)


def _fill_usage(conn: Connection) -> None:
    """Migration 10's filling of customer_monthly (from customer_hourly; its 429s from the raw
    requests) and endpoint_monthly (requests and errors from endpoint_daily; 5xx and 429s from the
    raw requests): months whose raw requests were pruned before count their 429s (and their 5xx per
    endpoint) as none."""
    month = "CAST(strftime('%s', {0}, 'unixepoch', 'start of month') AS INTEGER)"
    conn.execute("INSERT INTO customer_monthly (api_id, month, customer_id, requests, errors, s5xx, s429)"
                 f" SELECT api_id, {month.format('hour')}, customer_id, SUM(requests), SUM(s4xx + s5xx), SUM(s5xx), 0"
                 " FROM customer_hourly GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    conn.execute("INSERT INTO customer_monthly (api_id, month, customer_id, requests, errors, s5xx, s429)"
                 f" SELECT api_id, {month.format('ts')}, customer_id, 0, 0, 0, COUNT(*) FROM requests"
                 " WHERE customer_id IS NOT NULL AND status = 429 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
                 " ON CONFLICT (api_id, month, customer_id) DO UPDATE SET s429 = excluded.s429")
    conn.execute("INSERT INTO endpoint_monthly (endpoint_id, month, customer_id, requests, errors, s5xx, s429)"
                 f" SELECT endpoint_id, {month.format('day')}, customer_id, SUM(requests), SUM(errors), 0, 0"
                 " FROM endpoint_daily GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    conn.execute("INSERT INTO endpoint_monthly (endpoint_id, month, customer_id, requests, errors, s5xx, s429)"
                 f" SELECT e.id, {month.format('r.ts')}, r.customer_id, 0, 0, SUM(CASE WHEN r.status >= 500 THEN 1"
                 " ELSE 0 END), SUM(CASE WHEN r.status = 429 THEN 1 ELSE 0 END) FROM requests r"
                 " JOIN endpoints e ON e.api_id = r.api_id AND e.method = r.method AND e.name = r.endpoint"
                 " WHERE r.customer_id IS NOT NULL AND (r.status >= 500 OR r.status = 429) GROUP BY 1, 2, 3"
                 " ORDER BY 1, 2, 3 ON CONFLICT (endpoint_id, month, customer_id)"
                 " DO UPDATE SET s5xx = excluded.s5xx, s429 = excluded.s429")


def _request_log_begin(conn: Connection) -> None:
    """Migration 11, before its batches (db/schema/request_log.py): the compact raw requests and
    their lookup tables; idempotent."""
    _run(conn, """
    -- One row per distinct value (key: db.schema.request_log.lookup_key of the values), for request_log.
    CREATE TABLE IF NOT EXISTS routes (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        method TEXT NOT NULL,
        endpoint TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS agents (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        user_agent TEXT,
        device TEXT NOT NULL,
        os TEXT,
        browser TEXT,
        ai_agent TEXT,
        sdk TEXT
    );
    CREATE TABLE IF NOT EXISTS places (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        ip TEXT,
        country TEXT,
        city TEXT
    );
    -- The raw requests; the view `requests` reads them with their old columns.
    CREATE TABLE IF NOT EXISTS request_log (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,                           -- seconds since the epoch, UTC
        size INTEGER,
        api_id INTEGER NOT NULL REFERENCES apis(id),
        customer_id INTEGER REFERENCES customers(id),  -- NULL: unidentified
        route_id INTEGER NOT NULL,                     -- routes: method and endpoint
        agent_id INTEGER NOT NULL,                     -- agents: user agent, device, os, browser, AI agent, SDK
        place_id INTEGER NOT NULL,                     -- places: IP, country, city
        load_us INTEGER NOT NULL,                      -- the load time in microseconds
        status INTEGER NOT NULL,
        threat INTEGER NOT NULL,                       -- 0 low, 1 medium, 2 high
        path TEXT,                                     -- NULL: the endpoint's name
        query TEXT NOT NULL DEFAULT '',
        threat_reasons TEXT                            -- a JSON array; NULL: none
    );
    """)


def _request_log_end(conn: Connection) -> None:
    """Migration 11, after its last batch: the old table goes, the view and the indexes come."""
    _run(conn, """
    DROP TABLE requests;
    CREATE VIEW requests AS
        SELECT r.id, r.api_id, r.customer_id, r.ts, o.method, r.status, COALESCE(r.path, o.endpoint) AS path, r.query,
               o.endpoint, r.load_us / 1000.0 AS load_time_ms, r.size,
               CASE r.threat WHEN 0 THEN 'low' WHEN 1 THEN 'medium' ELSE 'high' END AS threat_level,
               COALESCE(r.threat_reasons, '[]') AS threat_reasons, g.device, g.os, g.browser, g.ai_agent,
               p.country, p.city, p.ip, g.user_agent, g.sdk
        FROM request_log r LEFT JOIN routes o ON o.id = r.route_id LEFT JOIN agents g ON g.id = r.agent_id
        LEFT JOIN places p ON p.id = r.place_id;
    CREATE INDEX requests_customer_ts ON request_log(customer_id, ts) WHERE customer_id IS NOT NULL;
    CREATE INDEX requests_api_ts ON request_log(api_id, ts);
    """)


MIGRATIONS: list[str | Callable[[Connection], None] | Conversion] = [
    # 1: APIs, customers, raw requests with their details, and the rollups dashboards read.
    """
    CREATE TABLE apis (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        api_key TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );

    -- A customer is one ID across the workspace, per-API figures live in api_customers.
    CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        external_id TEXT NOT NULL UNIQUE,
        name_from_traffic TEXT,
        display_name TEXT,            -- set by an analyst, wins over name_from_traffic
        description TEXT NOT NULL DEFAULT '',
        favorite INTEGER NOT NULL DEFAULT 0,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX customers_first_seen ON customers(first_seen);
    CREATE INDEX customers_favorite ON customers(favorite) WHERE favorite = 1;

    CREATE TABLE api_customers (
        api_id INTEGER NOT NULL REFERENCES apis(id),
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (api_id, customer_id)
    ) WITHOUT ROWID;
    CREATE INDEX api_customers_first_seen ON api_customers(api_id, first_seen);

    CREATE TABLE requests (
        id INTEGER PRIMARY KEY,
        api_id INTEGER NOT NULL REFERENCES apis(id),
        customer_id INTEGER REFERENCES customers(id),  -- NULL: unidentified
        ts INTEGER NOT NULL,                           -- seconds since the epoch, UTC
        method TEXT NOT NULL,
        status INTEGER NOT NULL,
        path TEXT NOT NULL,
        query TEXT NOT NULL DEFAULT '',
        endpoint TEXT NOT NULL,
        load_time_ms REAL NOT NULL,
        size INTEGER,
        threat_level TEXT NOT NULL CHECK (threat_level IN ('low', 'medium', 'high')),
        threat_reasons TEXT NOT NULL DEFAULT '[]',
        device TEXT NOT NULL,
        os TEXT,
        browser TEXT,
        ai_agent TEXT,
        country TEXT,
        city TEXT,
        ip TEXT,
        user_agent TEXT,
        sdk TEXT
    );
    CREATE INDEX requests_customer_ts ON requests(customer_id, ts) WHERE customer_id IS NOT NULL;
    CREATE INDEX requests_api_ts ON requests(api_id, ts);

    -- The wide, masked parts, kept apart so history scans stay narrow.
    CREATE TABLE request_details (
        request_id INTEGER PRIMARY KEY REFERENCES requests(id),
        request_headers TEXT NOT NULL,
        request_body TEXT NOT NULL,
        response_headers TEXT NOT NULL,
        response_body TEXT NOT NULL,
        errors TEXT NOT NULL
    );

    -- Rollups, updated in the same transaction as the raw rows.
    -- Every request of an API, unidentified included: the denominator of shares.
    CREATE TABLE api_hourly (
        api_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        identified INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        load_ms_sum REAL NOT NULL,
        PRIMARY KEY (api_id, hour)
    ) WITHOUT ROWID;

    CREATE TABLE customer_hourly (
        api_id INTEGER NOT NULL,
        customer_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        s2xx INTEGER NOT NULL,
        s3xx INTEGER NOT NULL,
        s4xx INTEGER NOT NULL,
        s5xx INTEGER NOT NULL,
        load_ms_sum REAL NOT NULL,
        PRIMARY KEY (api_id, customer_id, hour)
    ) WITHOUT ROWID;
    -- Customer lists over a period read whole days from customer_daily and the edge hours here.
    CREATE INDEX customer_hourly_api_hour ON customer_hourly(api_id, hour);

    CREATE TABLE customer_daily (
        api_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        customer_id INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        load_ms_sum REAL NOT NULL,
        PRIMARY KEY (api_id, day, customer_id)
    ) WITHOUT ROWID;

    -- Load-time histogram per customer and day, for p50/p95 without reading raw rows.
    CREATE TABLE customer_latency_daily (
        api_id INTEGER NOT NULL,
        customer_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        PRIMARY KEY (api_id, customer_id, day, bucket)
    ) WITHOUT ROWID;

    -- Small key/value settings the dashboard saves (widget choices, ...).
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: indexes for the dashboard's per-period customer figures at 100k customers.
    """
    -- The busiest customers of all time first (the candidates of a period's top list), with
    -- every API and with one.
    CREATE INDEX customers_requests ON customers(requests);
    CREATE INDEX api_customers_requests ON api_customers(api_id, requests);
    -- One customer's days across APIs, with their requests: whether it was active in a period,
    -- and how much, in one short range read per customer.
    CREATE INDEX customer_daily_customer ON customer_daily(customer_id, day, requests);
    -- The same for one API: its customers' days together, read in customer order.
    CREATE INDEX customer_daily_api_customer ON customer_daily(api_id, customer_id, day);
    """,
    _active_customer_sets,
    _hashed_api_keys,
    # 5: favorites per analyst (analyst '' is everyone, while sign-in is off; the shared favorites
    # so far become theirs), and who last edited a customer's description, and when.
    """
    CREATE TABLE favorites (
        analyst TEXT NOT NULL,          -- the signed-in analyst's e-mail address; '' without sign-in
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        PRIMARY KEY (analyst, customer_id)
    ) WITHOUT ROWID;
    INSERT INTO favorites (analyst, customer_id) SELECT '', id FROM customers WHERE favorite = 1;
    DROP INDEX customers_favorite;
    ALTER TABLE customers DROP COLUMN favorite;
    ALTER TABLE customers ADD COLUMN description_by TEXT;     -- the analyst who last edited it
    ALTER TABLE customers ADD COLUMN description_at INTEGER;  -- when, epoch seconds
    """,
    _signals,
    # 7: analysts by who their provider says they are (issuer and subject), not by the address they
    # sign in with; and the sign-ins ended before their lifetime (core/access.py, db/writes/sessions.py).
    """
    CREATE TABLE analysts (
        key TEXT PRIMARY KEY,           -- core.access.analyst_key(issuer, subject): favorites, widgets
        issuer TEXT NOT NULL,
        subject TEXT NOT NULL,
        email TEXT NOT NULL,            -- the verified address they last signed in with
        name TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    );
    CREATE TABLE ended_sessions (
        session_key TEXT PRIMARY KEY,   -- core.access.Session.key: a hash of the sign-in
        ended_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX ended_sessions_ended_at ON ended_sessions(ended_at);
    """,
    # 8: where a customer's name from traffic came from: 1 when the caller chose it (request
    # headers, or beside an ID the caller chose), so that a name from the server replaces it and
    # another caller's does not (core/customer.py, db/writes/records.py); the names kept so far count as
    # the server's.
    """
    ALTER TABLE customers ADD COLUMN name_by_caller INTEGER NOT NULL DEFAULT 0;
    """,
    # 9: identity rules: where each API's customer is when a call names none (core/identity.py), and
    # the API keys mapped to customers, kept only as their keyed hash (db/writes/identity.py).
    """
    CREATE TABLE identity_rules (
        api_id INTEGER NOT NULL REFERENCES apis(id),
        position INTEGER NOT NULL,      -- tried in this order, from 0
        rule TEXT NOT NULL,             -- core.identity.Rule's text: header:x-customer-id, jwt:sub, key:query:api_key
        set_by TEXT,                    -- the analyst who set the API's rules; NULL from the command line
        set_at INTEGER NOT NULL,
        PRIMARY KEY (api_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE customer_keys (
        api_id INTEGER NOT NULL REFERENCES apis(id),
        key_digest TEXT NOT NULL,       -- core.identity.key_digest: HMAC-SHA256 under the identity key; never the key
        external_id TEXT NOT NULL,      -- the customer ID (customers.external_id) the key is mapped to
        name TEXT,                      -- the name the map gives them
        mapped_at INTEGER NOT NULL,
        PRIMARY KEY (api_id, key_digest)
    ) WITHOUT ROWID;
    """,
    # 10: usage for billing, what each API bills, quotas and their firings (_usage).
    _usage,
    # 11: the raw requests in a fraction of their bytes: integers, the repeated strings in lookups
    # (db/schema/request_log.py), read through the view `requests`.
    Conversion("raw requests", _request_log_begin, convert_batch, _request_log_end),
    # 12: each request's details packed into one zstd frame with its API's dictionary, in batches.
    packed_details.SQLITE,
]


def migrate(conn: Connection) -> int:
    """Apply the migrations this database lacks; returns the schema version reached."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        if isinstance(script, Conversion):
            run_conversion(conn, script, lambda step, last: _atomically(conn, number, step, last),
                           lambda: _stored_bytes(conn), lambda: _give_back_free_pages(conn))
            continue
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            # Another process may have migrated while we waited for the lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
                continue
            if callable(script):
                script(conn)
            else:
                _run(conn, script)
            conn.execute(f"PRAGMA user_version = {number:d}")
    return len(MIGRATIONS)


def _atomically(conn: Connection, number: int, step: Callable[[], T], last: bool) -> T:
    """One step of a conversion in a write transaction; the version recorded after the last."""
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
            raise MigratedElsewhere
        result = step()
        if last:
            conn.execute(f"PRAGMA user_version = {number:d}")
    return result


def _stored_bytes(conn: Connection) -> int:
    """The file's pages in use (free pages are not stored data)."""
    pages, free, size = (conn.execute(f"PRAGMA {name}").fetchone()[0]
                         for name in ("page_count", "freelist_count", "page_size"))
    return (pages - free) * size


def _give_back_free_pages(conn: Connection) -> None:
    """After a conversion: VACUUM, so the file shrinks to what is stored (it needs as much free disk
    as the database holds, for a moment), then the WAL is emptied."""
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _run(conn: Connection, script: str) -> None:
    for statement in _statements(script):
        conn.execute(statement)


def _statements(script: str) -> list[str]:
    """Split on complete statements (sqlite3 knows where they end, comments included)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    return statements
