"""The schema is built by migrations, in WAL mode."""

import sqlite_utils

from db.apis import add_api
from db.connection import connect
from db.schema import MIGRATIONS


def test_a_new_database_is_migrated_to_the_latest_version_in_wal_mode(db_path):
    conn = connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_does_not_migrate_again(db_path):
    add_api(connect(db_path), "a", "k")
    assert connect(db_path).execute("SELECT COUNT(*) FROM apis").fetchone()[0] == 1


def test_the_history_query_uses_the_customer_index_not_a_scan(db_path):
    db = sqlite_utils.Database(connect(db_path))
    plan = " ".join(str(row) for row in db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM requests WHERE customer_id = 1 AND ts >= 0 ORDER BY ts DESC"
    ).fetchall())
    assert "requests_customer_ts" in plan and "SCAN requests" not in plan


def test_a_semicolon_inside_a_sql_comment_does_not_split_a_statement():
    from db.schema import _statements

    script = "CREATE TABLE a (\n  x INTEGER -- one; two\n);\nCREATE TABLE b (y TEXT);\n"
    assert [s.strip() for s in _statements(script)] == ["CREATE TABLE a (\n  x INTEGER -- one; two\n);", "CREATE TABLE b (y TEXT);"]


def test_a_customers_history_for_one_api_reads_the_customer_index_in_time_order(conn, writer):
    import time

    from core.periods import Period
    from core.record import record_from_payload
    from core.scope import Scope
    from db.history import customer_requests
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
