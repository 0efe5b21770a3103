"""PostgreSQL's rollups in the narrowest types that hold them (issue 22, db/schema/postgres.py's
migration that narrows them): a database loaded before it converts with every figure the pages show
unchanged, value for value and type for type."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import time
from contextlib import closing

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.periods import DAY, HOUR, Period, floor_hour, preset_period
from core.scope import Scope
from core.usage import month_start
from db.connection import connect
from db.writes.apis import add_api
from factories import API_KEY, payload
from loading import load

PAGES = ("home", "customers", "profile", "endpoints", "usage", "standing")
ENDPOINTS = ("GET /v1/orders/{n}", "POST /v1/orders", "GET /v1/invoices/{n}", "DELETE /v1/carts/{n}", "GET /health")
STATUSES = (200, 200, 200, 201, 304, 404, 429, 500, 503)
# Rows in no order of their own (tests/dashboard/test_backend_parity.py's UNORDERED): compared as sets.
UNORDERED = ("standing.peers(",)

# Every column of the narrowed rollups, with its type after the migration.
NARROWED = {
    "api_hourly": {"api_id": "integer", "hour": "bigint", "requests": "integer", "identified": "integer",
                   "errors": "integer", "load_ms_sum": "double precision"},
    "customer_hourly": {"api_id": "integer", "customer_id": "integer", "hour": "bigint", "requests": "integer",
                        "s2xx": "integer", "s3xx": "integer", "s4xx": "integer", "s5xx": "integer",
                        "load_ms_sum": "double precision"},
    "customer_daily": {"api_id": "integer", "day": "bigint", "customer_id": "integer", "requests": "integer",
                       "errors": "integer", "load_ms_sum": "double precision"},
    "customer_latency_daily": {"api_id": "integer", "customer_id": "integer", "day": "bigint", "bucket": "smallint",
                               "requests": "integer"},
    "endpoint_daily": {"endpoint_id": "integer", "day": "bigint", "customer_id": "integer", "requests": "integer",
                       "errors": "integer"},
    "endpoint_hourly": {"endpoint_id": "integer", "hour": "bigint", "customer_id": "integer", "requests": "integer",
                        "errors": "integer"},
    "endpoint_totals": {"endpoint_id": "integer", "hour": "bigint", "requests": "integer", "errors": "integer"},
    "customer_endpoints": {"customer_id": "integer", "endpoint_id": "integer", "first_call": "bigint",
                           "last_call": "bigint", "requests": "bigint", "errors": "bigint"},
}


@pytest.fixture
def pg_url(pg_cluster):
    """An empty database on the session's PostgreSQL cluster (not the migrated template)."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)


def narrowing() -> int:
    """The number of the migration that narrows the rollups."""
    from db.schema.postgres import MIGRATIONS

    [number] = [n for n, m in enumerate(MIGRATIONS, start=1) if isinstance(m, str) and "customer_hourly ALTER" in m]
    return number


def traffic(now: float, count: int = 1500) -> list[dict]:
    """Five weeks of calls, one every 33 minutes or so: 23 customers (and anonymous calls) on five
    endpoints, every status class, load times from 1 ms to 3 s."""
    calls = []
    for i in range(count):
        method, route = ENDPOINTS[i % len(ENDPOINTS)].split(" ")
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - i * 1_987))
        calls.append(payload(user_id=None if i % 11 == 0 else f"cus_{i % 23}", method=method,
                             url="https://api.example.com" + route.format(n=i % 7), status=STATUSES[i % len(STATUSES)],
                             load_time=1 + (i * 37 % 3000), timestamp=at))
    return calls


def answers(conn, now: int) -> dict[str, object]:
    """What every read of the pages gives: each read model of PAGES over every API and all of them,
    times the periods (presets, all time, one with edge hours), with a busy customer and endpoint."""
    hour = floor_hour(now)
    apis = [None, *(i for (i,) in conn.execute("SELECT id FROM apis ORDER BY id"))]
    periods = [preset_period(name, now) for name in ("24h", "7d", "30d", "all")]
    periods.append(Period(hour - 9 * DAY - 5 * HOUR, hour - 2 * DAY - 7 * HOUR))
    [(cid,)] = conn.execute("SELECT id FROM customers WHERE external_id = 'cus_1'").fetchall()
    [(endpoint_id,)] = conn.execute("SELECT id FROM endpoints WHERE name = '/v1/orders' AND method = 'POST'").fetchall()
    found = {}
    for page in PAGES:
        module = importlib.import_module(f"db.reads.{page}")
        for name, read in inspect.getmembers(module, inspect.isfunction):
            parameters = list(inspect.signature(read).parameters.values())
            if read.__module__ != module.__name__ or name.startswith("_") or parameters[0].name != "conn":
                continue
            for api_id in apis:
                for period in periods:
                    given = {"scope": Scope(api_id, period), "api_id": api_id, "cid": cid, "customer_id": "cus_1",
                             "endpoint_id": endpoint_id, "text": "POST /v1/orders", "now": now,
                             "month": month_start(now), "bucket_seconds": HOUR, "limit": 10}
                    asked = {p.name: given[p.name] for p in parameters[1:] if p.default is p.empty}
                    if (where := f"{page}.{name}({asked})") not in found:
                        found[where] = read(conn, **asked)
    return found


def same(before, after, where: str) -> None:
    """The same figures in the same types (floats to 1e-9: a sum may add up in another order)."""
    assert type(after) is type(before), (where, before, after)
    if isinstance(before, pl.DataFrame):
        try:
            assert_frame_equal(before, after, check_row_order=not where.startswith(UNORDERED), rel_tol=1e-9,
                               abs_tol=1e-9)
        except AssertionError as differ:
            raise AssertionError(f"{where}: {differ}") from None
    elif dataclasses.is_dataclass(before):
        for field in dataclasses.fields(before):
            same(getattr(before, field.name), getattr(after, field.name), f"{where}.{field.name}")
    elif isinstance(before, dict):
        assert list(after) == list(before), where
        for key, value in before.items():
            same(value, after[key], f"{where}[{key!r}]")
    elif isinstance(before, (list, tuple)):
        assert len(after) == len(before), (where, before, after)
        for index, (left, right) in enumerate(zip(before, after)):
            same(left, right, f"{where}[{index}]")
    elif isinstance(before, float):
        assert math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-9), (where, before, after)
    else:
        assert after == before, (where, before, after)


def test_a_database_loaded_before_the_rollups_were_narrowed_converts_with_every_figure_unchanged(pg_url):
    from db.backends.postgres import PgConnection
    from db.schema.postgres import migrate

    now = int(time.time())
    with closing(PgConnection(pg_url)) as old:  # as Footfall left it before the narrowing
        migrate(old, until=narrowing() - 1)
        add_api(old, "Orders API", API_KEY)
        add_api(old, "Quiet API", "quiet-api-key")
        load(old, traffic(now), db_path=pg_url)
        load(old, [payload(user_id="cus_1", api_key="quiet-api-key")], db_path=pg_url)
        assert old.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 'customer_hourly'"
                           " AND column_name = 'requests'").fetchone()[0] == "bigint"
        before = answers(old, now)

    with closing(connect(pg_url)) as conn:
        assert conn.execute("SELECT MAX(version) FROM footfall_schema").fetchone()[0] >= narrowing()
        after = answers(conn, now)
    shown = [a for a in before.values() if not isinstance(a, pl.DataFrame) or not a.is_empty()]
    assert len(before) > 150 and len(shown) > 0.6 * len(before), "too few figures with something in them"
    assert list(after) == list(before)
    for where, answer in before.items():
        same(answer, after[where], where)


@pytest.mark.postgres_only
def test_the_rollups_are_stored_in_their_narrowed_types(conn):
    types = {(table, column): data_type for table, column, data_type in conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name::text = ANY(?)", (list(NARROWED),))}
    assert types == {(table, column): kind for table, columns in NARROWED.items() for column, kind in columns.items()}


@pytest.mark.postgres_only
def test_customer_daily_keeps_only_the_indexes_its_reads_use(conn):
    indexes = {name for (name,) in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'customer_daily'")}
    assert indexes == {"customer_daily_pkey", "customer_daily_customer"}
