"""After a prune: the profile's figures still count every request (the rollups are kept), while the
request history counts and pages the raw requests that are left, and says up to when they were pruned."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from dashboard_support import HOUR, Call, dash, metric, table  # noqa: F401, F811 (dash: a fixture)
from factories import payload
from loading import load

from core.periods import Period, floor_hour
from core.scope import Scope
from db.operations.prune import prune
from db.reads.history import history, history_count, pruned_before
from ui.format import format_time

PROFILE = "pages/customer.py"


def pruned_at(dash, hours_ago: float) -> int:
    """Prune the raw requests older than `hours_ago` hours, as `footfall prune` does; the cutoff."""
    cutoff = floor_hour(dash.now - hours_ago * HOUR)
    prune(dash.conn, cutoff, pause=0)
    return cutoff


def test_after_a_prune_the_history_counts_and_pages_only_the_requests_kept(dash):
    dash.ingest(*[Call("h", 1 + i) for i in range(3)], *[Call("h", 48 + i) for i in range(120)])
    cutoff = pruned_at(dash, 24)

    at = dash.app(PROFILE, id="h")

    assert metric(at, "Total Requests").value == "123"  # the figures keep counting the pruned ones
    assert len(table(at, "history_table")) == 3
    assert any(c.value.startswith("1–3 of 3 requests") for c in at.caption)
    assert not at.get("pagination")  # one page: three requests are left
    assert f"Requests before {format_time(cutoff)} were pruned; the figures above still count them." in [
        c.value for c in at.caption]


def test_a_period_whose_requests_were_all_pruned_says_so_instead_of_an_empty_page(dash):
    dash.ingest(*[Call("h", 48 + i) for i in range(30)])
    cutoff = pruned_at(dash, 24)

    at = dash.app(PROFILE, id="h")

    assert metric(at, "Total Requests").value == "30"
    assert "history_table" not in [frame.key for frame in at.dataframe]
    assert not any("1–0" in c.value for c in at.caption)
    assert [i.value for i in at.info] == [
        f"No requests kept in this period. Requests before {format_time(cutoff)} were pruned; the figures above "
        "still count them."]


def test_a_period_after_the_cutoff_says_nothing_of_the_prune(dash):
    dash.ingest(Call("h", 1), Call("h", 200))
    pruned_at(dash, 100)

    at = dash.app(PROFILE, id="h", period="24h")

    assert any(c.value.startswith("1–1 of 1 request.") for c in at.caption)
    assert not any("pruned" in c.value for c in [*at.caption, *at.info])


@pytest.mark.both_backends
def test_the_history_count_is_the_raw_requests_kept_late_ones_from_before_the_cutoff_too(conn):
    hour = floor_hour(1_795_000_000)  # 2026-11-18
    sent = [hour - 3 * 86400 + 60 * i for i in range(5)] + [hour + 900 * i for i in range(4)]
    load(conn, [payload(user_id="h", timestamp=stamp(ts)) for ts in sent], received_at=hour + 7200)
    cutoff = hour + 1800  # within an hour: the rollup of that hour counts requests that are gone
    prune(conn, cutoff, pause=0)
    load(conn, [payload(user_id="h", timestamp=stamp(hour - 86400))], received_at=hour + 7200)  # a late one
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'h'").fetchone()[0]

    assert pruned_before(conn) == cutoff
    for period in (Period(None, None), Period(hour - 7 * 86400, hour + 86400), Period(hour, hour + 3600)):
        scope = Scope(None, period)
        assert history_count(conn, cid, scope) == history(conn, cid, scope, limit=100).height
    assert history_count(conn, cid, Scope(None, Period(None, None))) == 1 + 2  # the late one and two after the cutoff


@pytest.mark.both_backends
def test_a_later_prune_with_an_earlier_cutoff_keeps_the_later_trace(conn):
    load(conn, [payload(user_id="h", timestamp="2026-11-10 12:00:00")], received_at=1_795_000_000)
    assert pruned_before(conn) is None  # never pruned
    prune(conn, 1_795_000_000, pause=0)
    prune(conn, 1_790_000_000, pause=0)
    assert pruned_before(conn) == 1_795_000_000



def stamp(ts: int) -> str:
    """A payload's timestamp for an epoch time (UTC)."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
