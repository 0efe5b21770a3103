"""PostgreSQL's partitions of raw requests: live traffic cannot make one per day of the past (the
days before the last week share one per gap), the operator's own data still gets one per day,
retention removes old rows wherever they lie and reads no partition after its cutoff, and no
partition has an index by API."""

import time
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest

from core.periods import DAY, Period
from core.record import record_from_payload
from core.scope import Scope
from db.backends.partitions import DAYS_BEHIND, LOWEST, Span, create_ahead, existing_spans, partitions_holding
from db.operations.erase import erase_customer
from db.operations.prune import prune, prune_preview
from db.reads.customers import customer_list
from db.reads.history import customer_requests
from db.writes.records import RecordWriter
from factories import payload

pytestmark = pytest.mark.postgres_only

NOW = int(time.time())
TODAY = NOW - NOW % DAY
OWN_FROM = TODAY - DAYS_BEHIND * DAY  # the first day live traffic still gets a partition of its own
Y2K = 946_684_800


def stamp(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def calls(*days: int, user: str = "flood") -> list:
    """One call at noon of each of these days."""
    return [record_from_payload(payload(user_id=user, timestamp=stamp(day + 12 * 3600)), received_at=NOW)
            for day in days]


def one_per_day_since_2000(n: int = 1000) -> list[int]:
    return [Y2K + i * DAY for i in range(n)]


@pytest.fixture
def live(conn) -> RecordWriter:
    """A writer as the collector runs it."""
    return RecordWriter(conn, partition_days_behind=DAYS_BEHIND)


def test_a_thousand_days_of_2000_make_one_partition_for_live_traffic_and_every_row_reads_back(conn, live):
    create_ahead(conn, NOW)  # as the collector does at its start
    live.write(calls(*one_per_day_since_2000()))
    live.write(calls(TODAY - 3 * DAY, OWN_FROM))  # late, but within the week: days of their own
    spans = existing_spans(conn)
    shared = [span for span in spans if span.end - span.start != DAY]
    assert shared == [Span(LOWEST, OWN_FROM)]
    ahead = {TODAY + n * DAY for n in range(8)}
    assert {span.start for span in spans} - {LOWEST} == {OWN_FROM, TODAY - 3 * DAY, *ahead}
    everything = Scope(None, Period(None, None))
    assert customer_list(conn, everything)["requests"].to_list() == [1002]
    assert customer_requests(conn, "flood", Scope(None, Period(Y2K, Y2K + 366 * DAY)), limit=1000).height == 366


def test_the_operators_own_data_still_gets_a_partition_per_day(conn, writer):
    writer.write(calls(*one_per_day_since_2000(55)))  # more days than one transaction makes
    assert existing_spans(conn) == [Span(day, day + DAY) for day in one_per_day_since_2000(55)]


def test_shared_partitions_fill_the_gaps_between_the_partitions_there_are(conn, writer, live):
    month_ago = TODAY - 30 * DAY
    writer.write(calls(month_ago))  # an import made that day's partition
    create_ahead(conn, NOW)
    live.write(calls(Y2K, month_ago - 5 * DAY, month_ago + 5 * DAY, month_ago + 6 * DAY, TODAY - DAY))
    assert existing_spans(conn) == [Span(LOWEST, month_ago), Span(month_ago, month_ago + DAY),
                                    Span(month_ago + DAY, OWN_FROM), Span(TODAY - DAY, TODAY),
                                    *(Span(TODAY + n * DAY, TODAY + (n + 1) * DAY) for n in range(8))]
    # A later import of an old day finds it in a shared partition: nothing new to make.
    writer.write(calls(month_ago + 10 * DAY))
    assert len(existing_spans(conn)) == 12


def test_prune_deletes_old_rows_from_a_shared_partition_and_drops_it_once_it_is_wholly_past(conn, live):
    live.write(calls(*one_per_day_since_2000()))
    everything = Scope(None, Period(None, None))
    before = customer_list(conn, everything)

    report = prune(conn, Y2K + 366 * DAY, batch=100, pause=0)  # the year 2000's rows, from inside the partition

    assert report.requests == 366 and len(existing_spans(conn)) == 1
    assert conn.execute("SELECT COUNT(*), MIN(ts) FROM requests").fetchone() == (634, Y2K + 366 * DAY + 12 * 3600)
    assert customer_list(conn, everything).equals(before)  # every figure stays
    assert prune(conn, OWN_FROM, pause=0).requests == 634
    assert existing_spans(conn) == []


def test_erasing_a_customer_rewrites_the_shared_partition_that_held_their_requests(conn, live):
    live.write(calls(Y2K, Y2K + DAY, user="gone") + calls(TODAY, user="stays"))
    [shared] = [span for span in existing_spans(conn) if span.start == LOWEST]
    tables = [shared.name("request_log")]  # the requests with their details
    assert partitions_holding(conn, [Y2K]) == tables

    def files():
        return [conn.execute("SELECT pg_relation_filenode(CAST(? AS regclass))", (t,)).fetchone()[0] for t in tables]

    before = files()
    erase_customer(conn, "gone", vacuum=True)  # VACUUM FULL: new files, without the customer's bytes
    after = files()
    assert all(a != b for a, b in zip(after, before))
    assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 1


def test_no_partition_has_an_index_by_api(conn, writer, live):
    writer.write(calls(TODAY - 30 * DAY))  # a partition made by an import
    create_ahead(conn, NOW)  # and by the collector, ahead of time
    live.write(calls(Y2K, TODAY - DAY))  # and for late traffic: a shared one, a day's own
    by_api = conn.execute("SELECT tablename, indexdef FROM pg_indexes WHERE tablename LIKE 'request_log%'"
                          " AND indexdef LIKE '% USING btree (api_id%'").fetchall()
    assert len(existing_spans(conn)) == 11 and by_api == []


def test_prune_and_its_preview_read_no_partition_after_the_cutoff(conn, writer):
    first = TODAY - 30 * DAY
    cutoff = first + 3 * DAY + 11 * 3600
    writer.write(calls(*(first + n * DAY for n in range(30))))  # noon of each of 30 days
    writer.write(calls(first + 3 * DAY - 6 * 3600) * 3)  # the cutoff's day, before it: deleted row by row
    after_cutoff = {span.name(table) for span in existing_spans(conn) if span.start > cutoff
                    for table in ("request_log", "request_details")}

    with partitions_read(conn) as read:
        preview = prune_preview(conn, cutoff)
        report = prune(conn, cutoff, batch=2, pause=0)

    assert (preview.requests, report.requests, report.transactions) == (6, 6, 3 + 2)
    assert conn.execute("SELECT MIN(ts), COUNT(*) FROM requests").fetchone() == (first + 3 * DAY + 12 * 3600, 27)
    assert read and read.isdisjoint(after_cutoff), sorted(read & after_cutoff)


@contextmanager
def partitions_read(conn):
    """The partitions of the raw requests and details that the statements run meanwhile read: each
    SELECT explained with ANALYZE as it runs (a node never executed reads nothing), each DELETE as
    planned (before it runs: then its rows are still there)."""
    read: set[str] = set()
    execute = conn.execute

    def explained(sql, params=()):
        kind = sql.lstrip().split(None, 1)[0].upper()
        if kind in ("SELECT", "DELETE") and "request" in sql:
            options = "ANALYZE, FORMAT JSON" if kind == "SELECT" else "FORMAT JSON"
            [(plan,)] = execute(f"EXPLAIN ({options}) {sql}", params).fetchall()
            nodes = [plan[0]["Plan"]]
            while nodes:
                node = nodes.pop()
                nodes += node.get("Plans", [])
                name = node.get("Relation Name", "")
                if name.startswith(("request_log_", "request_details_")) and node.get("Actual Loops", 1):
                    read.add(name)
        return execute(sql, params)

    conn.execute = explained
    try:
        yield read
    finally:
        del conn.execute
