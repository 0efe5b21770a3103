"""The reads behind the pages: figures come from rollups, never from a scan of raw requests; the
request history reads raw rows only through the (customer_id, ts) index. SQLite's query plans
first (EXPLAIN QUERY PLAN of the statements its trace callback shows), then PostgreSQL's
(EXPLAIN of the statements as run, tests/pg_plans.py)."""

import re

import pytest
from dashboard_support import BILLING_KEY, Call, dash, pg_dash  # noqa: F401, F811 (fixtures)

from core.links import SharedLink
from core.periods import DAY, HOUR, Period, preset_period
from core.scope import Scope
from db.backends.partitions import partition_name
from db.queries import figures
from db.reads import customers, history, home, own_page, profile, sidebar
from pg_plans import children, index_wherever_possible, plan_nodes
from pg_plans import statements as pg_statements


def statements(conn, read) -> list[tuple[str, tuple]]:
    """Every SQL statement a read runs, with its parameters bound (via sqlite's trace)."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        read()
    finally:
        conn.set_trace_callback(None)
    return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def plan(conn, sql: str) -> str:
    return " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))


def touches_raw_requests(query_plan: str) -> bool:
    return bool(re.search(r"\b(SCAN|SEARCH) requests\b", query_plan))


SCOPES = {
    "30 days, all APIs": lambda now: Scope(None, preset_period("30d", now)),
    "30 days, one API": lambda now: Scope(1, preset_period("30d", now)),
    "24 hours, one API": lambda now: Scope(1, preset_period("24h", now)),
    "all time, all APIs": lambda now: Scope(None, Period(None, None)),
}


def page_reads(dash, scope_name: str) -> tuple:
    """A little traffic, a favorite, and every read of the home, customers and profile pages."""
    dash.ingest(Call("a", 2), Call("a", 30), Call("b", 50, api=BILLING_KEY), Call(None, 3))
    dash.star("a")
    scope = SCOPES[scope_name](dash.now)
    conn = dash.conn
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'a'").fetchone()[0]
    return conn, [
        lambda: home.home_figures(conn, scope),
        lambda: customers.customer_page(conn, scope, "a", "last_active", False, 1, 50),
        lambda: profile.customer_profile(conn, "a", scope),
        lambda: profile.request_graph(conn, cid, scope, 3600),
        lambda: history.history_count(conn, cid, scope),
        lambda: sidebar.favorites(conn),
    ]


@pytest.mark.sqlite_only  # SQLite's query plans; PostgreSQL's below
@pytest.mark.parametrize("scope_name", SCOPES)
def test_home_customers_and_profile_figures_never_read_raw_requests(dash, scope_name):
    conn, reads = page_reads(dash, scope_name)
    for read in reads:
        for sql in statements(conn, read):
            assert not touches_raw_requests(plan(conn, sql)), sql


@pytest.mark.sqlite_only  # SQLite's query plans; PostgreSQL's below
def test_the_profile_reads_rollups_by_their_primary_key_even_for_all_apis(dash):
    dash.ingest(Call("a", 2), Call("a", 3, api=BILLING_KEY))
    conn = dash.conn
    scope = Scope(None, preset_period("30d", dash.now))
    for sql in statements(conn, lambda: profile.customer_profile(conn, "a", scope)):
        if "customer_hourly" in sql or "customer_latency_daily" in sql:
            query_plan = plan(conn, sql)
            assert "SCAN customer_hourly" not in query_plan and "SCAN customer_latency_daily" not in query_plan, query_plan


@pytest.mark.sqlite_only  # SQLite's query plans; PostgreSQL's below
@pytest.mark.parametrize("api_id", [None, 1])
def test_the_request_history_reads_through_the_customer_time_index(dash, api_id):
    dash.ingest(Call("a", 2), Call("a", 3), *[Call(None, 4) for _ in range(50)])
    conn = dash.conn
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'a'").fetchone()[0]
    scope = Scope(api_id, preset_period("30d", dash.now))
    filters = history.HistoryFilter(methods=("GET",), search="items")
    for read in (lambda: history.history(conn, cid, scope, filters),
                 lambda: history.history(conn, cid, scope, sort="load_time_ms"),
                 lambda: history.history_count(conn, cid, scope, filters),
                 lambda: history.history_options(conn, cid, scope)):
        for sql in statements(conn, read):
            query_plan = plan(conn, sql)
            if touches_raw_requests(query_plan):
                assert "requests_customer_ts" in query_plan, query_plan


def test_sort_keys_and_filters_are_never_spliced_into_sql(dash):
    dash.ingest(Call("a", 2))
    scope = Scope(None, Period(None, None))
    with pytest.raises(ValueError):
        customers.customer_page(dash.conn, scope, sort="requests; DROP TABLE customers")
    with pytest.raises(ValueError):
        history.history(dash.conn, 1, scope, sort="ts); DROP TABLE requests; --")
    hostile = "x' OR 1=1 --"
    rows, total = customers.customer_page(dash.conn, scope, search=hostile)
    assert total == 0
    assert history.history(dash.conn, 1, scope, history.HistoryFilter(methods=(hostile,), search=hostile)).is_empty()


# Rollups read by ranges of their keys or indexes: a SCAN of one reads all of it (at 10M requests,
# megabytes per figure), and a time range open at one end reads on to the end of the key.
ROLLUP_SCAN = re.compile(r"\bSCAN (api_hourly|customer_hourly|customer_daily|customer_latency_daily|api_customers"
                         r"|active_daily|active_hourly|h|d|ac)\b")
PERIODS = {
    "the last 30 days": lambda now: preset_period("30d", now),
    "the 30 days before": lambda now: preset_period("30d", now).previous(),
    "the last 24 hours": lambda now: preset_period("24h", now),
}


def half_open_time_ranges(query_plan: str) -> list[str]:
    return [step for step in query_plan.split(" | ")
            for column in ("hour", "day") if f"{column}>?" in step and f"{column}<?" not in step]


def period_reads(dash, api_id: int | None, period_name: str) -> tuple:
    """Traffic spread over months, and every read of a period's figures for the scope."""
    dash.ingest(Call("a", 2), Call("a", 24 * 45), Call("b", 24 * 40, api=BILLING_KEY), Call("b", 3, api=BILLING_KEY),
                Call("c", 24 * 31), Call("d", 24 * 50), Call("d", 1), Call(None, 3))
    dash.star("a")
    conn = dash.conn
    scope = Scope(api_id, PERIODS[period_name](dash.now))
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'a'").fetchone()[0]
    return conn, [
        lambda: home.home_figures(conn, scope),
        lambda: customers.customer_page(conn, scope),
        lambda: customers.customer_page(conn, scope, "a"),
        lambda: profile.customer_profile(conn, "a", scope),
        lambda: profile.request_graph(conn, cid, scope, 3600),
        lambda: history.history_count(conn, cid, scope),
    ]


@pytest.mark.sqlite_only  # SQLite's query plans; PostgreSQL's below
@pytest.mark.parametrize("api_id", [None, 1])
@pytest.mark.parametrize("period_name", PERIODS)
def test_period_figures_read_rollups_by_bounded_key_ranges_never_whole(dash, api_id, period_name):
    conn, reads = period_reads(dash, api_id, period_name)
    for read in reads:
        for sql in statements(conn, read):
            query_plan = plan(conn, sql)
            assert not ROLLUP_SCAN.search(query_plan), (sql, query_plan)
            assert not half_open_time_ranges(query_plan), (sql, query_plan)


@pytest.mark.sqlite_only  # SQLite's query plans; PostgreSQL's below
@pytest.mark.parametrize("api_id", [None, 1])
def test_the_busiest_come_from_the_requests_index_and_activity_from_the_period_s_customer_sets(dash, api_id):
    dash.ingest(Call("a", 2), Call("a", 24 * 45), Call("b", 24 * 40), Call("b", 3), Call("c", 24 * 31))
    conn = dash.conn
    previous = Scope(api_id, preset_period("30d", dash.now).previous())  # customers seen before and after it
    seen = statements(conn, lambda: (customers.customer_page(conn, previous, "a"),
                                     customers.customer_page(conn, previous, sort="display_name"),
                                     home.top_customers(conn, previous)))
    candidates = [s for s in seen if s.lstrip().startswith("SELECT cid, bound FROM")]
    assert candidates
    requests_index = "customers_requests" if api_id is None else "api_customers_requests"
    for sql in candidates:  # in the index's order: no sort of every customer
        query_plan = plan(conn, sql)
        assert requests_index in query_plan and "TEMP B-TREE" not in query_plan, query_plan
    # A search or another order tests each row against the period's set as it reads the rows, never
    # one seek per customer, and through no SQL function registered on the connection.
    assert not [s for s in seen if "EXISTS" in s or "is_active" in s], seen
    functions = {row[0] for row in conn.execute("PRAGMA function_list")}
    assert "is_active" not in functions
    assert sum("FROM active_daily" in s for s in seen) == 2  # once per page: the count and the filter share it


def not_whole_days(now: float) -> Period:
    """30 days from 05:00 to 05:00 (a preset's edges are whole days when it ends at midnight)."""
    today = int(now) // DAY * DAY
    return Period(today - 60 * DAY + 5 * HOUR, today - 30 * DAY + 5 * HOUR)


@pytest.mark.sqlite_only  # SQLite's query plans; PostgreSQL's below
@pytest.mark.parametrize("api_id", [None, 1])
def test_a_period_s_active_customers_are_counted_from_its_days_and_edge_hours_sets(dash, api_id):
    dash.ingest(Call("a", 2), Call("a", 24 * 45), Call("b", 24 * 40), Call("b", 3), Call("c", 24 * 31))
    conn = dash.conn
    previous = Scope(api_id, not_whole_days(dash.now))
    seen = statements(conn, lambda: figures.active_customers(conn, previous))
    assert len(seen) == 1 and "FROM active_daily" in seen[0] and "FROM active_hourly" in seen[0], seen
    assert "customer_daily" not in seen[0] and "customer_hourly" not in seen[0]
    query_plan = plan(conn, seen[0])
    assert "SEARCH active_daily USING PRIMARY KEY (api_id=? AND day>? AND day<?)" in query_plan, query_plan


# --- PostgreSQL: the same guarantees from its planner ------------------------------------------------
# On test-sized tables PostgreSQL's planner scans whole tables, as it should; what must hold at 10M
# requests is that an index serves each read, so these look at plans with sequential scans priced
# out (pg_plans.index_wherever_possible), except where no index may be read at all.

PG_ROLLUPS = ("api_hourly", "customer_hourly", "customer_daily", "customer_latency_daily", "api_customers",
              "active_daily", "active_hourly")


def pg_plans(conn, read) -> list[tuple[str, list[dict]]]:
    """Each query `read` runs, with its plan's nodes (sequential scans priced out)."""
    seen = pg_statements(conn, read)
    with index_wherever_possible(conn):
        return [(sql, plan_nodes(conn, sql, params)) for sql, params in seen]


@pytest.mark.parametrize("scope_name", SCOPES)
def test_on_postgres_home_customers_and_profile_figures_never_read_raw_requests(pg_dash, scope_name):
    conn, reads = page_reads(pg_dash, scope_name)
    raw = children(conn, "request_log")  # the raw requests, each with its details (the views read it)
    for read in reads:
        seen = pg_statements(conn, read)
        assert seen
        for sql, params in seen:  # as planned, and with sequential scans priced out
            for nodes in (plan_nodes(conn, sql, params), pg_plans(conn, lambda: conn.execute(sql, params))[0][1]):
                assert not [n for n in nodes if n.get("Relation Name") in raw], sql


def test_on_postgres_the_profile_reads_rollups_through_their_keys_even_for_all_apis(pg_dash):
    pg_dash.ingest(Call("a", 2), Call("a", 3, api=BILLING_KEY))
    conn = pg_dash.conn
    scope = Scope(None, preset_period("30d", pg_dash.now))
    read = [(sql, nodes) for sql, nodes in pg_plans(conn, lambda: profile.customer_profile(conn, "a", scope))
            if "customer_hourly" in sql or "customer_latency_daily" in sql]
    assert read
    for sql, nodes in read:
        scans = [n for n in nodes if n.get("Relation Name") in ("customer_hourly", "customer_latency_daily")]
        assert scans and not [n for n in scans if n["Node Type"] == "Seq Scan"], (sql, nodes)


@pytest.mark.parametrize("api_id", [None, 1])
def test_on_postgres_the_request_history_reads_through_the_customer_time_index(pg_dash, api_id):
    pg_dash.ingest(Call("a", 2), Call("a", 3), *[Call(None, 4) for _ in range(50)])
    conn = pg_dash.conn
    conn.execute("ANALYZE")
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'a'").fetchone()[0]
    scope = Scope(api_id, preset_period("30d", pg_dash.now))
    filters = history.HistoryFilter(methods=("GET",), search="items")
    partitions, customer_index = children(conn, "request_log"), children(conn, "requests_customer_ts")
    request_indexes = set().union(*(children(conn, name) for (name,) in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'request_log'")))
    reads = 0
    for read in (lambda: history.history(conn, cid, scope, filters),
                 lambda: history.history(conn, cid, scope, sort="load_time_ms"),
                 lambda: history.history_count(conn, cid, scope, filters),
                 lambda: history.history_options(conn, cid, scope)):
        for sql, nodes in pg_plans(conn, read):
            on_requests = [n for n in nodes if n.get("Relation Name") in partitions]
            if not on_requests:
                continue
            reads += 1
            assert not [n for n in on_requests if n["Node Type"] == "Seq Scan"], nodes
            used = {n["Index Name"] for n in nodes if n.get("Index Name") in request_indexes}
            assert used and used <= customer_index, used
    assert reads == 4


@pytest.mark.parametrize("api_id", [None, 1])
def test_on_postgres_the_history_s_filter_options_read_the_customer_time_index_alone(pg_dash, api_id):
    pg_dash.ingest(*[Call("a", 2 + i, method=("GET", "POST")[i % 2]) for i in range(20)], Call("b", 3))
    conn = pg_dash.conn
    conn.execute("VACUUM ANALYZE request_log")  # as autovacuum leaves the days behind today
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'a'").fetchone()[0]
    scope = Scope(api_id, preset_period("30d", pg_dash.now))
    partitions = children(conn, "request_log")
    [(_, nodes)] = pg_plans(conn, lambda: history.history_options(conn, cid, scope))
    on_requests = [n for n in nodes if n.get("Relation Name") in partitions]
    assert on_requests and {n["Node Type"] for n in on_requests} == {"Index Only Scan"}, nodes


def test_on_postgres_the_customer_s_own_page_reads_the_latest_bodies_from_their_days_alone(pg_dash):
    pg_dash.ingest(*[Call("a", 2 + 24 * d) for d in range(4)], *[Call("b", 24 * d) for d in range(20)])
    conn = pg_dash.conn
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'a'").fetchone()[0]
    link = SharedLink(link_id=0, cid=cid, api_id=None, show_bodies=True, expires_at=2**40)
    period = preset_period("30d", pg_dash.now)
    latest = own_page.shared_latest_requests(conn, link, period)
    assert latest.height == 4 and latest["request_body"].null_count() == 0
    [nodes] = [nodes for sql, nodes in pg_plans(conn, lambda: own_page.shared_latest_requests(conn, link, period))
               if "FROM request_details" in sql]
    searched = {n["Relation Name"] for n in nodes if n.get("Relation Name", "").startswith("request_log")}
    first, last = conn.execute("SELECT MIN(ts), MAX(ts) FROM requests WHERE customer_id = ?", (cid,)).fetchone()
    assert searched == {partition_name("request_log", day) for day in range(first - first % DAY, last + 1, DAY)}


def half_open_ranges(condition: str) -> list[str]:
    """The time columns an index condition bounds from below alone."""
    return [column for column in ("hour", "day")
            if re.search(rf"\((\w+\.)?{column} >=? ", condition) and not re.search(rf"\((\w+\.)?{column} <=? ", condition)]


@pytest.mark.parametrize("api_id", [None, 1])
@pytest.mark.parametrize("period_name", PERIODS)
def test_on_postgres_period_figures_read_rollups_by_bounded_key_ranges_never_whole(pg_dash, api_id, period_name):
    conn, reads = period_reads(pg_dash, api_id, period_name)
    for read in reads:
        for sql, nodes in pg_plans(conn, read):
            rollups = [n for n in nodes if n.get("Relation Name") in PG_ROLLUPS]
            assert not [n for n in rollups if n["Node Type"] == "Seq Scan"], (sql, nodes)
            for node in nodes:
                assert not half_open_ranges(node.get("Index Cond", "")), (sql, node)


@pytest.mark.parametrize("api_id", [None, 1])
def test_on_postgres_the_busiest_come_from_the_requests_index_and_activity_from_the_sets(pg_dash, api_id):
    pg_dash.ingest(Call("a", 2), Call("a", 24 * 45), Call("b", 24 * 40), Call("b", 3), Call("c", 24 * 31))
    conn = pg_dash.conn
    previous = Scope(api_id, preset_period("30d", pg_dash.now).previous())  # customers seen before and after it
    planned = pg_plans(conn, lambda: (customers.customer_page(conn, previous, "a"),
                                      customers.customer_page(conn, previous, sort="display_name"),
                                      home.top_customers(conn, previous)))
    assert [sql for sql, _ in planned if sql.lstrip().startswith("SELECT cid, bound FROM")]
    requests_index = "customers_requests" if api_id is None else "api_customers_requests"
    for sql, params in pg_statements(conn, lambda: home.top_customers(conn, previous)):
        if sql.lstrip().startswith("SELECT cid, bound FROM"):  # in the index's order, ties by id as they stream:
            with index_wherever_possible(conn, in_order=True):  # no sort of every customer
                nodes = plan_nodes(conn, sql, params)
            assert requests_index in {n.get("Index Name") for n in nodes}, nodes
            assert not [n for n in nodes if n["Node Type"] == "Sort"], nodes
    seen = [sql for sql, _ in planned]
    assert not [s for s in seen if "EXISTS" in s or "is_active" in s], seen
    assert sum("FROM active_daily" in s for s in seen) == 2  # once per page: the count and the filter share it


@pytest.mark.parametrize("api_id", [None, 1])
def test_on_postgres_a_period_s_active_customers_are_counted_from_its_days_and_edge_hours_sets(pg_dash, api_id):
    pg_dash.ingest(Call("a", 2), Call("a", 24 * 45), Call("b", 24 * 40), Call("b", 3), Call("c", 24 * 31))
    conn = pg_dash.conn
    previous = Scope(api_id, not_whole_days(pg_dash.now))
    [(sql, nodes)] = pg_plans(conn, lambda: figures.active_customers(conn, previous))
    assert "FROM active_daily" in sql and "FROM active_hourly" in sql
    assert "customer_daily" not in sql and "customer_hourly" not in sql
    daily = [n for n in nodes if n.get("Index Name") == "active_daily_pkey"]
    assert daily and not half_open_ranges(daily[0]["Index Cond"]) and "(day < " in daily[0]["Index Cond"], nodes
