"""A flood of old dates through the real collector: a thousand payloads, one per day since 2000, make
no partition per day on PostgreSQL and stall no other sender meanwhile; on both servers the figures
are the payloads' own, the same."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import httpx

from conftest import start_collector, stop, until
from core.periods import DAY, Period
from core.scope import Scope
from db.backends.partitions import DAYS_AHEAD, PARTITION_LOCK, existing_spans
from db.queries.figures import api_totals
from db.reads.customers import customer_list
from db.reads.history import customer_requests
from factories import payload

Y2K = 946_684_800  # 2000-01-01 00:00 UTC
NOON = 12 * 3600
# How long one sender's call may take while the flood is written: generous for a shared machine,
# far below the minute a partition per day took.
SENDER_WAITS_AT_MOST = 5.0


def stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def making_partitions(conn) -> bool:
    """Whether some process holds the lock partitions are made under (PostgreSQL)."""
    return conn.backend.name == "postgresql" and conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = ? AND granted)",
        (PARTITION_LOCK,)).fetchone()[0]


def test_a_thousand_payloads_one_per_day_since_2000_make_no_partition_each_and_stall_no_sender(conn, db_path):
    flood = [payload(user_id="flood", timestamp=stamp(Y2K + day * DAY + NOON)) for day in range(1000)]
    process, url = start_collector(db_path)  # the default body limit: the flood is one body
    try:
        with ThreadPoolExecutor(1) as pool:
            flooding = pool.submit(httpx.post, url + "/", json=flood, timeout=300)
            until(lambda: flooding.done() or making_partitions(conn))
            started = time.monotonic()
            reply = httpx.post(url + "/", json=[payload(user_id="steady", timestamp=stamp(time.time()))], timeout=300)
            waited = time.monotonic() - started
            assert flooding.result().json() == {"accepted": 1000}
    finally:
        stop(process)
    assert reply.json() == {"accepted": 1} and waited < SENDER_WAITS_AT_MOST, waited
    if conn.backend.name == "postgresql":  # the days the collector made ahead, and one partition the old days share
        assert len(existing_spans(conn)) <= DAYS_AHEAD + 2, existing_spans(conn)
    # The payloads' own times, on both servers alike.
    customers = customer_list(conn, Scope(None, Period(None, None))).rows_by_key("customer_id", named=True)
    [flooder], [steady] = customers["flood"], customers["steady"]
    assert (flooder["requests"], flooder["first_seen"]) == (1000, Y2K + NOON)
    assert flooder["last_active"] == Y2K + 999 * DAY + NOON
    assert steady["requests"] == 1
    assert api_totals(conn, Scope(None, Period(Y2K, Y2K + 366 * DAY))).requests == 366  # the leap year 2000
    newest = customer_requests(conn, "flood", Scope(None, Period(None, None)), limit=1).row(0, named=True)
    assert newest["time"] == Y2K + 999 * DAY + NOON
