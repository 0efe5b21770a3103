"""PostgreSQL's partitions of raw requests: live traffic cannot make one per day of the past (the
days before the last week share one per gap), the operator's own data still gets one per day, and
retention removes old rows wherever they lie."""

import time
from datetime import datetime, timezone

import pytest

from core.periods import DAY, Period
from core.record import record_from_payload
from core.scope import Scope
from db.backends.partitions import DAYS_BEHIND, LOWEST, Span, create_ahead, existing_spans, partitions_holding
from db.operations.erase import erase_customer
from db.operations.prune import prune
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
