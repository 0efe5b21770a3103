"""A collector started with a retention prunes the raw requests older than it, and keeps every
figure."""

import time

from conftest import start_collector, stop
from core.periods import Period
from core.scope import Scope
from db.reads.customers import customer_list
from factories import payload
from loading import load


def test_the_collector_prunes_raw_requests_past_the_retention_and_keeps_the_figures(conn, db_path):
    now = time.time()
    old, recent = "2020-01-01 10:00:00", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - 3600))
    load(conn, [payload(user_id=user, timestamp=stamp)
                for user, stamp in [("a", old), ("a", old), ("b", old), ("a", recent), ("c", recent)]], received_at=now)
    everything = Scope(None, Period(None, None))
    before = customer_list(conn, everything)

    process, _ = start_collector(db_path, FOOTFALL_RETENTION_DAYS="30")
    try:
        deadline = time.monotonic() + 20
        while conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] != 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop(process)

    kept = conn.execute("SELECT c.external_id, r.ts FROM requests r JOIN customers c ON c.id = r.customer_id"
                        " ORDER BY 1").fetchall()
    assert [user for user, _ in kept] == ["a", "c"] and all(ts > now - 2 * 3600 for _, ts in kept)
    assert conn.execute("SELECT COUNT(*) FROM request_details").fetchone()[0] == 2
    assert customer_list(conn, everything).equals(before)
