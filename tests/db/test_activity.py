"""A period's active customers come from each API's per-day and per-hour customer sets, which the
writer keeps in the same transaction as the raw rows, and migration 3 fills for older databases."""

import time
from datetime import datetime, timezone

import pytest

from core.periods import Period
from core.record import record_from_payload
from core.scope import Scope
from db.connection import connect
from db.queries.activity import active_set
from db.schema.sqlite import MIGRATIONS
from db.writes.apis import add_api
from factories import payload

OTHER_KEY = "other-project-key"
STAMPS = ["2026-11-01 22:59:59", "2026-11-01 23:00:00", "2026-11-02 12:00:00", "2026-11-03 01:30:00",
          "2026-11-03 02:00:00", "2026-11-04 09:00:00"]


def _ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def write_traffic(conn, writer) -> list[tuple[int, str, int]]:
    """Customers spread over two APIs, hours and days; returns (api_id, customer, ts) per request."""
    add_api(conn, "Other API", OTHER_KEY)
    calls = [(key, f"c{(i * 7 + j) % 11}", stamp)
             for i, stamp in enumerate(STAMPS) for j, key in enumerate(["test-project-key", OTHER_KEY] * 2)]
    for start in range(0, len(calls), 5):  # several batches: sets grow across transactions
        writer.write([record_from_payload(payload(user_id=user, timestamp=stamp, api_key=key), received_at=time.time())
                      for key, user, stamp in calls[start:start + 5]])
    api_ids = {key: writer.api_id(key) for key in ("test-project-key", OTHER_KEY)}
    return [(api_ids[key], user, _ts(stamp)) for key, user, stamp in calls]


def distinct_customers(rows, api_id, since, until) -> int:
    return len({user for api, user, ts in rows if (api_id is None or api == api_id) and since <= ts < until})


PERIODS = {
    "edge hours on both sides": ("2026-11-01 23:00", "2026-11-03 02:00"),
    "inside one day": ("2026-11-02 11:00", "2026-11-02 13:00"),
    "whole days": ("2026-11-02 00:00", "2026-11-04 00:00"),
    "before any traffic": ("2026-10-01 00:00", "2026-10-02 00:00"),
}


@pytest.mark.parametrize("api_id", [None, 1, 2])
@pytest.mark.parametrize("period", PERIODS)
def test_active_customers_are_those_with_a_request_inside_the_period(conn, writer, api_id, period):
    rows = write_traffic(conn, writer)
    since, until = (_ts(t) for t in PERIODS[period])
    assert len(active_set(conn, Scope(api_id, Period(since, until)))) == distinct_customers(rows, api_id, since, until)


def test_a_customer_active_with_both_apis_counts_once_for_all_apis(conn, writer):
    rows = write_traffic(conn, writer)
    since, until = _ts("2026-11-01 00:00"), _ts("2026-11-05 00:00")
    one, other, every = (len(active_set(conn, Scope(api, Period(since, until)))) for api in (1, 2, None))
    assert every == distinct_customers(rows, None, since, until) < one + other


def test_an_open_ended_period_is_refused_rather_than_miscounted(conn):
    with pytest.raises(ValueError, match="both ends"):
        active_set(conn, Scope(None, Period(None, None)))


@pytest.mark.sqlite_only  # about SQLite's migrations (db/schema/sqlite.py)
def test_migration_3_fills_the_sets_of_a_database_written_before_them(conn, writer, db_path):
    rows = write_traffic(conn, writer)
    conn.executescript("DROP TABLE active_daily; DROP TABLE active_hourly;")
    conn.close()
    reopened = connect(db_path)
    with reopened:  # migration 3 again, as it ran on databases written before it
        reopened.execute("BEGIN IMMEDIATE")
        MIGRATIONS[2](reopened)
    since, until = (_ts(t) for t in PERIODS["edge hours on both sides"])
    assert len(active_set(reopened, Scope(None, Period(since, until)))) == distinct_customers(rows, None, since, until) > 0
    reopened.close()
