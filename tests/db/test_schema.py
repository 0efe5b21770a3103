"""The schema is built by migrations: on SQLite in WAL mode; on PostgreSQL with raw requests
partitioned by day."""

import re
import time

import pytest
import sqlite_utils

from db.connection import connect
from db.schema.sqlite import MIGRATIONS
from db.writes.apis import add_api
from pg_plans import children, index_wherever_possible, plan_nodes, statements


@pytest.mark.sqlite_only
def test_a_new_database_is_migrated_to_the_latest_version_in_wal_mode(db_path):
    conn = connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_does_not_migrate_again(db_path):
    add_api(connect(db_path), "a", "k")
    assert connect(db_path).execute("SELECT COUNT(*) FROM apis").fetchone()[0] == 1


@pytest.mark.sqlite_only
def test_the_history_query_uses_the_customer_index_not_a_scan(db_path):
    db = sqlite_utils.Database(connect(db_path))
    plan = " ".join(str(row) for row in db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM requests WHERE customer_id = 1 AND ts >= 0 ORDER BY ts DESC"
    ).fetchall())
    assert "requests_customer_ts" in plan and "SCAN requests" not in plan


def test_a_semicolon_inside_a_sql_comment_does_not_split_a_statement():
    from db.schema.sqlite import _statements

    script = "CREATE TABLE a (\n  x INTEGER -- one; two\n);\nCREATE TABLE b (y TEXT);\n"
    assert [s.strip() for s in _statements(script)] == ["CREATE TABLE a (\n  x INTEGER -- one; two\n);", "CREATE TABLE b (y TEXT);"]


@pytest.mark.sqlite_only
def test_a_customers_history_for_one_api_reads_the_customer_index_in_time_order(conn, writer):
    import time

    from core.periods import Period
    from core.record import record_from_payload
    from core.scope import Scope
    from db.reads.history import customer_requests
    from factories import payload

    writer.write([record_from_payload(payload(user_id=f"c{i % 7}"), received_at=time.time()) for i in range(300)])
    conn.execute("ANALYZE")  # with statistics SQLite would otherwise sort the customer's rows itself
    statements: list[str] = []
    conn.set_trace_callback(statements.append)  # the SQL as run, parameters expanded
    customer_requests(conn, "c1", Scope(1, Period(0, 2**31)), limit=100)
    conn.set_trace_callback(None)
    [history_sql] = [s for s in statements if "FROM requests r" in s]
    plan = " ".join(str(row) for row in conn.execute("EXPLAIN QUERY PLAN " + history_sql))
    assert "requests_customer_ts" in plan and "TEMP B-TREE" not in plan


# --- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture
def pg_url(pg_cluster):
    """An empty database on the session's PostgreSQL cluster (not the migrated template)."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)


def test_a_new_postgres_database_is_migrated_to_the_latest_version_once(pg_url):
    from db.schema.postgres import MIGRATIONS as PG_MIGRATIONS

    conn = connect(pg_url)
    assert conn.execute("SELECT MAX(version) FROM footfall_schema").fetchone()[0] == len(PG_MIGRATIONS)
    add_api(conn, "a", "k")
    conn.close()
    again = connect(pg_url)
    assert again.execute("SELECT COUNT(*), MAX(version) FROM footfall_schema").fetchone() == (len(PG_MIGRATIONS),) * 2
    assert again.execute("SELECT COUNT(*) FROM apis").fetchone()[0] == 1
    again.close()


def test_a_postgres_database_of_an_earlier_version_is_brought_up_to_date_keeping_its_requests(pg_url):
    from db.backends.postgres import PgConnection
    from db.schema.postgres import MIGRATIONS as PG_MIGRATIONS, migrate as migrate_postgres
    from factories import API_KEY

    old = PgConnection(pg_url)  # as an earlier Footfall left it: version 2
    migrate_postgres(old, until=2)
    add_api(old, "Test API", API_KEY)
    # Its rows as its writer left them (today's writer writes today's columns).
    for table in ("requests", "request_details"):
        old.execute(f"CREATE TABLE {table}_d0 PARTITION OF {table} FOR VALUES FROM (0) TO (86400)")
    old.execute("INSERT INTO customers (external_id, name_from_traffic, first_seen, last_seen, requests)"
                " VALUES ('acme', 'Acme', 60, 60, 1)")
    old.execute("INSERT INTO requests (id, api_id, customer_id, ts, method, status, path, endpoint, load_time_ms,"
                " threat_level, device) VALUES (1, 1, 1, 60, 'GET', 200, '/', '/', 1.0, 'low', 'desktop')")
    old.close()

    conn = connect(pg_url)
    assert conn.execute("SELECT MAX(version) FROM footfall_schema").fetchone()[0] == len(PG_MIGRATIONS)
    [definition] = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'requests_customer_ts'").fetchone()
    assert "INCLUDE (api_id, status, route_id, agent_id, place_id)" in definition
    assert conn.execute("SELECT COUNT(*) FROM requests r JOIN customers c ON c.id = r.customer_id"
                        " WHERE c.external_id = 'acme'").fetchone()[0] == 1
    # A name kept so far counts as the server's: no caller can change it (db/writes/records.py).
    assert conn.execute("SELECT name_from_traffic, name_by_caller FROM customers").fetchall() == [("Acme", 0)]
    conn.close()


def test_postgres_keeps_raw_requests_in_day_partitions_with_brin_on_time(pg_url):
    from core.periods import DAY
    from core.record import record_from_payload
    from db.backends.partitions import partition_name
    from db.writes.records import RecordWriter
    from factories import API_KEY, payload

    conn = connect(pg_url)
    add_api(conn, "Test API", API_KEY)
    RecordWriter(conn).write([record_from_payload(payload(user_id="a", timestamp=stamp), received_at=time.time())
                              for stamp in ("2026-11-01 23:59:59", "2026-11-02 00:00:00")])
    strategy, column = conn.execute(
        "SELECT p.partstrat, a.attname FROM pg_partitioned_table p JOIN pg_attribute a"
        " ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] WHERE p.partrelid = CAST(? AS regclass)",
        ("request_log",)).fetchone()
    assert (strategy, column) == ("r", "ts")  # by range of ts (the details are in the rows)
    bounds = conn.execute(
        "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = CAST('request_log' AS regclass)").fetchall()
    spans = {tuple(int(n) for n in re.findall(r"\d+", bound)) for (bound,) in bounds}
    assert spans and all(end - start == DAY and start % DAY == 0 for start, end in spans), spans  # whole UTC days
    # The two requests, a second apart across midnight, lie in the partitions of their two days.
    days = conn.execute("SELECT tableoid::regclass::text, ts FROM request_log ORDER BY ts").fetchall()
    assert [name for name, _ in days] == [partition_name("request_log", ts - ts % DAY) for _, ts in days]
    assert days[1][1] - days[0][1] == 1 and days[0][0] != days[1][0]
    assert {(ts - ts % DAY, ts - ts % DAY + DAY) for _, ts in days} <= spans
    [(definition,)] = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'requests_ts'").fetchall()
    assert "USING brin (ts)" in definition
    conn.close()


def test_postgres_reads_a_customers_history_through_the_customer_index_not_a_scan(pg_url):
    from core.periods import Period
    from core.record import record_from_payload
    from core.scope import Scope
    from db.reads.history import customer_requests, history
    from db.writes.records import RecordWriter
    from factories import API_KEY, payload

    conn = connect(pg_url)
    add_api(conn, "Test API", API_KEY)
    RecordWriter(conn).write([record_from_payload(payload(user_id=f"c{i % 40}"), received_at=time.time())
                              for i in range(4000)])
    conn.execute("ANALYZE")
    cid = conn.execute("SELECT id FROM customers WHERE external_id = 'c1'").fetchone()[0]
    scope = Scope(1, Period(0, 2**31))
    seen = statements(conn, lambda: (customer_requests(conn, "c1", scope, limit=100), history(conn, cid, scope)))
    reads = [(sql, params) for sql, params in seen if "FROM requests" in sql]
    assert len(reads) == 2
    partitions, customer_index = children(conn, "request_log"), children(conn, "requests_customer_ts")
    on_requests_index = set().union(*(children(conn, name) for (name,) in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'request_log'")))
    for sql, params in reads:
        for planned in (plan_nodes(conn, sql, params), _priced_out(conn, sql, params)):
            on_requests = [node for node in planned if node.get("Relation Name") in partitions]
            assert on_requests and not [node for node in on_requests if node["Node Type"] == "Seq Scan"], planned
            used = {node["Index Name"] for node in planned if node.get("Index Name") in on_requests_index}
            assert used and used <= customer_index, used
        # At this size a sort of the customer's rows is cheap and the planner may take it; the index
        # gives them in time order too (for a customer with millions of requests, only the page's
        # are read; an incremental sort orders the rows of one same second by id as they stream).
        assert not [node for node in _priced_out(conn, sql, params) if node["Node Type"] == "Sort"]
    conn.close()


def _priced_out(conn, sql, params):
    """The plan with sequential scans and sorts priced out: what the indexes can do alone."""
    with index_wherever_possible(conn, in_order=True):
        return plan_nodes(conn, sql, params)


def table_columns(conn) -> dict[str, set[str]]:
    """Every table and view with its columns, as the database itself lists them (PostgreSQL: a
    partitioned table as a whole, without its partitions; neither engine's own bookkeeping of the version)."""
    if conn.backend.name == "postgresql":
        rows = conn.execute(
            "SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v')"
            " AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> 'footfall_schema'")
    else:
        rows = conn.execute("SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p"
                            " WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite_%'")
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


# Columns one engine has for a reason of its own: PostgreSQL keeps each request's details in its
# request_log row, request_details being a view of them that shows their time too
# (db/schema/inline_details.py).
ONE_ENGINE_ONLY = {"postgresql": {("request_details", "ts"), ("request_log", "dictionary_id"),
                                  ("request_log", "details")}, "sqlite": set()}


def test_both_engines_define_the_same_tables_and_columns(tmp_path, pg_url):
    sqlite_conn, pg_conn = connect(tmp_path / "footfall.db"), connect(pg_url)
    try:
        sqlite_tables, pg_tables = table_columns(sqlite_conn), table_columns(pg_conn)
    finally:
        sqlite_conn.close()
        pg_conn.close()
    assert sorted(sqlite_tables) == sorted(pg_tables)
    columns = {engine: {(table, column) for table, names in tables.items() for column in names}
               for engine, tables in (("sqlite", sqlite_tables), ("postgresql", pg_tables))}
    assert columns["postgresql"] - columns["sqlite"] == ONE_ENGINE_ONLY["postgresql"]
    assert columns["sqlite"] - columns["postgresql"] == ONE_ENGINE_ONLY["sqlite"]
