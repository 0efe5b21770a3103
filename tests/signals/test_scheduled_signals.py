"""The scheduled signals: the collector computes gone quiet and peer standing on its own, the
pages read what it kept, and nothing of an erased customer stays in them."""

from __future__ import annotations

import time

import pytest

from conftest import footfall, start_collector, stop
from core.periods import preset_period
from core.quiet import QuietRule
from core.scope import Scope
from db.connection import connect
from db.operations.erase import erase_customer
from db.queries.snapshots import snapshot_keys
from db.reads.endpoints import TOP_CALLERS, endpoint_by_name, endpoint_customers, endpoint_top_callers
from db.reads.quiet import gone_quiet, quiet_customers
from db.reads.standing import peer_standing
from db.writes.apis import add_api
from factories import API_KEY
from signals_support import DAY, Sent, daily, store

TODAY = int(time.time()) // DAY * DAY
RECENT = TODAY - 7 * DAY


def traffic() -> list[Sent]:
    return [*daily("steady", 12, RECENT - 28 * DAY, TODAY), *daily("fading", 12, RECENT - 28 * DAY, RECENT),
            *daily("fading", 1, RECENT, TODAY), *[Sent(f"small{i}", TODAY - 3600 * i) for i in range(5)],
            Sent("steady", (TODAY + int(time.time())) // 2)]  # today too: never silent, whatever the hour


def wait_for_snapshots(db_path, after: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = connect(db_path)
        keys = snapshot_keys(conn, "quiet", 1)
        conn.close()
        if keys and min(keys.values()) >= after:
            return keys
        time.sleep(0.2)
    raise TimeoutError("the collector kept no signals")


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """The real collector computing the signals every second, on a SQLite file of the module's, and the
    traffic stored while it runs; yields a connection once it has kept the signals of that traffic."""
    db = tmp_path_factory.mktemp("signals") / "footfall.db"
    conn = connect(db)
    add_api(conn, "Test API", API_KEY)
    process, _ = start_collector(db, FOOTFALL_SIGNALS_INTERVAL="1")
    try:
        store(db, traffic())
        wait_for_snapshots(db, int(time.time()) + 1)
        yield conn
    finally:
        stop(process)
        conn.close()


def test_the_collector_keeps_gone_quiet_ready_and_the_pages_read_it(collected):
    conn = collected
    now = int(time.time())
    stored = gone_quiet(conn, 1, now, QuietRule())
    assert stored["customer_id"].to_list() == ["fading"]
    assert stored.equals(quiet_customers(conn, 1, now, QuietRule()))


def test_the_collector_keeps_each_preset_period_s_peers_and_the_profile_ranks_against_them(collected):
    conn = collected
    now = int(time.time())
    fading = conn.execute("SELECT id FROM customers WHERE external_id = 'fading'").fetchone()[0]
    kept = peer_standing(conn, fading, Scope(1, preset_period("90d", now)), now)
    assert kept.as_of is not None and now - kept.as_of < 30  # read from what the collector kept
    assert kept.peers == 2  # steady and fading; the five small customers have under 20 requests
    custom = peer_standing(conn, fading, Scope(1, preset_period("90d", now - 10 * DAY)), now)
    assert custom.as_of is None and custom.peers == 2  # another period: computed when asked


@pytest.mark.both_backends  # what follows an erase
def test_erasing_a_customer_drops_every_kept_signal_until_the_next_refresh(conn, db_path):
    store(db_path, traffic())
    footfall("signals", db=db_path)
    assert snapshot_keys(conn, "quiet", 1) and snapshot_keys(conn, "peers", None)
    erase_customer(conn, "fading")
    assert snapshot_keys(conn, "quiet", 1) == {} and snapshot_keys(conn, "peers", None) == {}
    assert gone_quiet(conn, 1, int(time.time()), QuietRule()).is_empty()


def test_the_signals_command_computes_them_without_a_collector(conn, db_path):
    result = footfall("signals", db=db_path)
    assert "peer standing for 2 scopes" in result.stdout  # "All APIs" and Test API
    lengths = sorted(int(u) - int(s) if s else 0 for s, u in (k.split(":") for k in snapshot_keys(conn, "peers", 1)))
    assert lengths == [0, DAY, 7 * DAY, 30 * DAY, 90 * DAY]  # the presets; 0: all time


def test_the_collector_keeps_each_endpoint_s_busiest_callers_and_the_endpoints_page_reads_them(collected):
    conn = collected
    now = int(time.time())
    [(_, items)] = endpoint_by_name(conn, "GET /api/items/{id}")
    scope = Scope(None, preset_period("30d", now))
    kept = endpoint_top_callers(conn, items, scope, now)
    assert kept.as_of is not None and now - kept.as_of < 30
    assert kept.rows.equals(endpoint_customers(conn, items, scope, TOP_CALLERS))
    assert kept.rows["customer_id"].to_list()[:2] == ["steady", "fading"]
    earlier = preset_period("30d", now - 3 * DAY)
    asked = endpoint_top_callers(conn, items, Scope(None, earlier), now)  # another period: computed when asked
    assert asked.as_of is None
    assert set(asked.rows["customer_id"]) == {c.user for c in traffic() if earlier.since <= c.ts < earlier.until}
