"""How the pages reach the database (ui/data.py): read-model functions by reference, cached; edits
apart, never cached; read-only connections that keep no SQL function of a read."""

import json

import pytest
from dashboard_support import Call, dash, pg_dash, table  # noqa: F401, F811 (fixtures)

from core.periods import Period
from core.scope import Scope
from db.connection import transaction
from db.errors import OperationalError
from db.queries import figures
from db.reads import customers, home, sidebar
from db.writes import apis, edits, records
from ui import data


def test_a_read_is_cached_under_its_function_and_arguments_until_an_edit(dash):
    dash.ingest(Call("a", 2), Call("b", 3))
    scope = Scope(None, Period(None, None))
    first = data.read(customers.customer_page, scope)
    # A name changed behind the dashboard's back: no edit, no request, so the same data version.
    with transaction(dash.conn):
        dash.conn.execute("UPDATE customers SET display_name = 'Unseen' WHERE external_id = 'a'")
    assert data.read(customers.customer_page, scope)[0].equals(first[0])  # from the cache
    assert "Unseen" in data.read(customers.customer_page, scope, "a")[0]["display_name"].to_list()  # read anew
    data.write(edits.save_display_name, "a", "Acme")
    rows, _ = data.read(customers.customer_page, scope)
    assert "Acme" in rows["display_name"].to_list()


@pytest.mark.parametrize("fn", [edits.save_favorite, edits.save_widget_choices, apis.add_api, records.RecordWriter,
                                figures.active_count, customers._busiest, lambda conn: conn.execute("DELETE FROM apis")],
                         ids=["an edit", "another edit", "an API registration", "the writer", "a figure builder",
                              "a private function", "a lambda"])
def test_only_public_read_model_functions_can_be_read_through_the_cache(dash, fn):
    with pytest.raises(TypeError, match="is not a read-model function"):
        data.read(fn, Scope(None, Period(None, None)))


@pytest.mark.parametrize("fn", [home.home_figures, sidebar.favorites, apis.add_api], ids=lambda f: f.__name__)
def test_only_edits_can_be_written(dash, fn):
    with pytest.raises(TypeError, match="is not an edit"):
        data.write(fn, "a", True)


def test_the_dashboard_reads_through_connections_that_cannot_write(dash):
    dash.ingest(Call("a", 2))
    with data.connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM requests").fetchone() == (1,)
        with pytest.raises(OperationalError, match="read-?only"):
            conn.execute("DELETE FROM request_log")
    assert dash.conn.execute("SELECT COUNT(*) FROM requests").fetchone() == (1,)


def sql_functions(conn) -> set[str]:
    """The SQL functions the connection knows; on PostgreSQL, those made for its session alone."""
    if conn.backend.name == "postgresql":
        return {row[0] for row in conn.execute("SELECT proname FROM pg_proc WHERE pronamespace = pg_my_temp_schema()")}
    return {row[0] for row in conn.execute("PRAGMA function_list")}


def test_no_read_leaves_a_sql_function_on_the_pooled_connection(dash):
    dash.ingest(Call("a", 2), Call("a", 24 * 40), Call("b", 24 * 35), Call("c", 5))
    builtin = sql_functions(dash.conn)
    at = dash.app("pages/customers.py", period="30d")
    at.text_input(key="customers_search").input("a").run()  # a search and an order other than requests
    at.selectbox(key="customers_sort").select("display_name").run()  # test rows against the active set
    assert list(table(at, "customers_table")["customer_id"]) == ["a"]
    dash.app("pages/customer.py", id="a", period="30d")
    with data.connection() as pooled:  # the one connection every read above ran on
        assert sql_functions(pooled) == builtin


def test_a_deep_link_run_alone_by_streamlit_gets_the_sidebar_through_st_navigation(dash):
    """With a pages/ folder Streamlit starts in its old mode and runs a deep-linked page alone,
    without streamlit_app.py; AppTest starts every run that way. The page hands over to
    st.navigation and reruns through the entry script: the sidebar is there."""
    dash.ingest(Call("a", 2))
    at = dash.app("pages/customer.py", id="a")
    assert at.sidebar.selectbox(key="api").value == "All APIs"
    assert at.title[0].value == "a"


def test_on_postgres_reads_share_a_pool_that_grows_and_replaces_a_dropped_connection(pg_dash):
    pg_dash.ingest(Call("a", 2))
    with data.connection() as first, data.connection() as second:  # two at once: the pool grows
        pids = {conn.execute("SELECT pg_backend_pid()").fetchone()[0] for conn in (first, second)}
        assert len(pids) == 2
    pg_dash.conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (SELECT value FROM"
                         " json_each(?))", [json.dumps(sorted(pids))])  # a server restart, as the pool sees it
    for _ in range(3):
        with data.connection() as conn:  # checked before it is handed out: a live one, read-only as ever
            assert conn.execute("SELECT COUNT(*) FROM requests").fetchone() == (1,)
            assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] not in pids
            with pytest.raises(OperationalError, match="read-only"):
                conn.execute("DELETE FROM request_log")
