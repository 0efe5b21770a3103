"""`footfall copy --to postgresql://...`: a SQLite database moved up to PostgreSQL, every figure
and edit the same after as before, and safe to run again."""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path

import pytest

from conftest import footfall
from core.periods import Period
from core.record import record_from_payload
from core.scope import Scope
from db.connection import connect
from db.operations.copy import copied_tables
from db.queries.details import unpacked
from db.reads.customers import customer_list
from db.reads.home import home_figures
from db.writes.apis import add_api
from db.writes.edits import add_alert_rule, save_description, save_display_name, save_favorite
from db.writes.records import RecordWriter
from factories import payload
from core.keys import key_hash
from core.links import link_state, token_link_id
from db.writes.links import key_file, link_by_token_hash, signing_key

EVERYTHING = Scope(None, Period(None, None))


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A SQLite database with demo traffic, the signals' snapshots and an analyst's edits."""
    db = tmp_path_factory.mktemp("copy") / "footfall.db"
    footfall("demo", "--requests", "3000", db=db)
    footfall("signals", db=db)
    with closing(connect(db)) as conn:
        customer = customer_list(conn, EVERYTHING)["customer_id"][0]
        save_description(conn, customer, "Renews in March", editor="ana@example.com")
        save_display_name(conn, customer, "Globex (EU)")
        save_favorite(conn, "ana@example.com", customer, True)
        add_alert_rule(conn, 1, customer, "spike", 3.0, created_by="ana@example.com")
    return db


def table_rows(conn, table: str, columns: list[str]) -> list[tuple]:
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
    return sorted((tuple(_comparable(v) for v in row) for row in rows), key=repr)


def _comparable(value):
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def pg_columns(pg_conn, table: str) -> list[str]:
    return [c for (c,) in pg_conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? ORDER BY ordinal_position", (table,))]


def same_contents(sqlite_conn, pg_conn) -> dict[str, int]:
    """Every table's rows, compared as multisets; returns the row count of each table."""
    counts = {}
    for table in copied_tables(pg_conn):
        if table == "request_log":  # with each request's details in its row there: as both engines' views read them
            for view in ("requests", "request_details"):
                columns = [c for c in pg_columns(pg_conn, view) if not (view == "request_details" and c == "ts")]
                assert table_rows(pg_conn, view, columns) == table_rows(sqlite_conn, view, columns), view
            counts[table] = len(table_rows(sqlite_conn, table, ["id"]))
            continue
        columns = pg_columns(pg_conn, table)
        expected = table_rows(sqlite_conn, table, columns)
        if table == "settings":  # the copy adds its own marker
            assert [r for r in table_rows(pg_conn, table, columns) if r[0] != "copy.source"] == expected
        else:
            assert table_rows(pg_conn, table, columns) == expected, table
        counts[table] = len(expected)
    return counts


def test_every_table_and_figure_is_the_same_after_the_copy_and_after_copying_again(source, pg_cluster):
    target = pg_cluster.create_database()
    first = footfall("copy", "--to", target, db=source)
    assert "requests" in first.stdout
    with closing(connect(source)) as sqlite_conn, closing(connect(target)) as pg_conn:
        counts = same_contents(sqlite_conn, pg_conn)
        assert counts["request_log"] == 3000 and counts["signal_snapshots"] > 0 and counts["alert_rules"] == 1
        assert counts["favorites"] == 1 and counts["active_daily"] > 0 and counts["endpoint_callers_daily"] > 0
        for scope in (EVERYTHING, Scope(1, Period(None, None))):
            assert customer_list(pg_conn, scope).equals(customer_list(sqlite_conn, scope))
            on_pg, on_sqlite = (home_figures(c, scope, "ana@example.com") for c in (pg_conn, sqlite_conn))
            assert on_pg.current == on_sqlite.current and on_pg.current.requests > 0
            assert all(getattr(on_pg, f).equals(getattr(on_sqlite, f)) for f in ("top", "newest", "favorites"))
    footfall("copy", "--to", target, db=source)  # again: the same, nothing doubled
    with closing(connect(source)) as sqlite_conn, closing(connect(target)) as pg_conn:
        assert same_contents(sqlite_conn, pg_conn) == counts


def test_traffic_written_after_the_copy_goes_on_from_the_copied_ids(source, pg_cluster):
    target = pg_cluster.create_database()
    footfall("copy", "--to", target, db=source)
    with closing(connect(target)) as pg_conn:
        api_key = "key-written-after-the-copy"
        add_api(pg_conn, "After the copy", api_key)
        RecordWriter(pg_conn).write([record_from_payload(payload(api_key=api_key, user_id="cus_new"), received_at=0)])
        ids = [i for (i,) in pg_conn.execute("SELECT id FROM requests ORDER BY id")]
        assert len(ids) == len(set(ids)) == 3001 and ids[-1] > ids[-2]
        assert pg_conn.execute("SELECT MAX(id) FROM apis").fetchone()[0] == pg_conn.execute(
            "SELECT id FROM apis WHERE name = 'After the copy'").fetchone()[0]


def test_customer_links_made_on_sqlite_keep_opening_after_the_copy(source, pg_cluster):
    with closing(connect(source)) as conn:
        customer = customer_list(conn, EVERYTHING)["customer_id"][0]
    made = footfall("links", "create", "--customer", customer, "--days", "7", db=source)
    token = made.stdout.strip().rsplit("link=", 1)[1]
    target = pg_cluster.create_database()
    footfall("copy", "--to", target, db=source)
    with closing(connect(target)) as pg_conn:
        stored = link_by_token_hash(pg_conn, key_hash(token))
        assert link_state(stored, token_link_id(token, signing_key(target)), time.time()) is not None
    assert signing_key(target) == key_file(source)


def test_a_target_with_data_of_its_own_is_refused_and_left_as_it_was(source, pg_cluster, tmp_path):
    target = pg_cluster.create_database()
    with closing(connect(target)) as pg_conn:
        add_api(pg_conn, "Live on the server", "live-key-0123456789")
    refused = footfall("copy", "--to", target, db=source, check=False)
    assert refused.returncode == 1 and "already holds data of its own" in refused.stderr
    with closing(connect(target)) as pg_conn:
        assert [n for (n,) in pg_conn.execute("SELECT name FROM apis")] == ["Live on the server"]
        assert pg_conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 0


def test_copy_asks_for_a_file_and_a_server(source, tmp_path):
    not_a_url = footfall("copy", "--to", str(tmp_path / "other.db"), db=source, check=False)
    assert not_a_url.returncode == 1 and "--to must be a postgresql:// URL" in not_a_url.stderr
    missing = footfall("copy", "--to", "postgresql://nobody@127.0.0.1:1/x", db=tmp_path / "none.db", check=False)
    assert missing.returncode == 1 and "no database at" in missing.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_nul_a_sqlite_file_holds_from_before_is_copied_as_the_replacement_character(tmp_path, pg_cluster):
    db = tmp_path / "old.db"
    with closing(connect(db)) as conn:
        add_api(conn, "Test API", "k")
        RecordWriter(conn).write([record_from_payload(payload(api_key="k", user_id="a"), received_at=time.time())])
        conn.execute("UPDATE request_log SET path = '/a' || char(0) || 'b'")  # as a writer of before stored it
    target = pg_cluster.create_database()
    footfall("copy", "--to", target, db=db)
    with closing(connect(target)) as pg_conn:
        assert pg_conn.execute("SELECT path FROM requests").fetchall() == [("/a\ufffdb",)]


def test_a_request_whose_details_row_is_missing_is_copied_with_empty_details(tmp_path, pg_cluster):
    db = tmp_path / "old.db"
    with closing(connect(db)) as conn:
        add_api(conn, "Test API", "k")
        RecordWriter(conn).write([record_from_payload(payload(api_key="k", user_id="a", body={"n": n}),
                                                      received_at=time.time()) for n in range(2)])
        conn.execute("DELETE FROM request_details WHERE request_id = (SELECT MIN(id) FROM request_log)")
    target = pg_cluster.create_database()
    footfall("copy", "--to", target, db=db)
    with closing(connect(target)) as pg_conn:
        rows = pg_conn.execute("SELECT dictionary_id, details FROM request_details ORDER BY request_id").fetchall()
        assert [detail["request_body"] for detail in unpacked(pg_conn, rows)] == ["", '{"n":1}']
