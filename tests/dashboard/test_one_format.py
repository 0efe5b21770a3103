"""One format everywhere on the pages: shares to one decimal, load times in milliseconds with
thousands separators, times as YYYY-MM-DD HH:MM (24-hour, UTC) in every table and on the graph's
axis, a missing location as "unknown", and threat levels spelled as the CSV export spells them."""

from __future__ import annotations

import csv
import io
import json

import polars as pl
from dashboard_support import API_IDS, HOUR, SHOP_KEY, Call, dash, metric, select_row, table  # noqa: F401, F811
from streamlit.testing.v1 import AppTest

from core.charts import request_chart
from core.figures import graph_frame, peak
from db.operations.alert_checks import check_alerts
from db.writes.edits import add_alert_rule
from ui.format import format_ms
from ui.history import history_csv_text

PROFILE = "pages/customer.py"
DAY = 86400
SQL_INJECTION = "https://api.example.com/api/items?id=1' OR '1'='1"
PRIVATE_IP = "10.0.0.7"  # no country: a missing location


def column_formats(at: AppTest, key: str) -> dict[str, str]:
    """The display format st.column_config gives each column of a keyed table."""
    [frame] = [f for f in at.dataframe if f.key == key]
    columns = json.loads(frame.proto.columns)
    return {name: config["type_config"]["format"] for name, config in columns.items()
            if config.get("type_config", {}).get("format")}


def time_formats(at: AppTest) -> set[str]:
    """The format of every date-and-time column of every table the run drew."""
    return {config["type_config"]["format"] for frame in at.dataframe
            for config in json.loads(frame.proto.columns).values()
            if config.get("type_config", {}).get("type") == "datetime"}


def test_a_share_reads_with_one_decimal_in_the_customers_list_and_on_the_profile(dash):
    dash.ingest(*[Call("acme", 1 + i) for i in range(3)], *[Call(None, 2) for _ in range(4)])  # 3 of 7: 42.857%

    listed = dash.app("pages/customers.py")
    profile = dash.app(PROFILE, id="acme")

    assert column_formats(listed, "customers_table")["share"] == "%.1f%%"
    assert metric(profile, "Share").value == "42.9%"


def test_load_times_read_in_milliseconds_with_thousands_separators(dash):
    dash.ingest(Call("acme", 1, load_ms=10_758.8))

    at = dash.app(PROFILE, id="acme")
    select_row(at, "history_table", 0)

    assert format_ms(10_758.8) == "10,758.8 ms" and format_ms(12.25) == "12.2 ms"
    assert column_formats(at, "history_table")["Load Time"] == "%,.1f ms"  # sprintf-js: "10,758.8 ms"
    assert any(c.value.endswith("· 10,758.8 ms") for c in at.caption)  # the request's own line
    assert metric(at, "p95 load time").value.endswith(" ms") and "," in metric(at, "p95 load time").value


def test_every_table_on_every_page_writes_times_as_year_month_day_and_24_hour_time(dash):
    today = int(dash.now) // DAY * DAY
    # A steady customer who went quiet a week ago, so that home's gone-quiet widget has a row.
    dash.ingest(*[Call("fading", (dash.now - (today - d * DAY + 3600 * i)) / HOUR, name="Fading Corp")
                  for d in range(35, 7, -1) for i in range(12)],
                *[Call("fading", (dash.now - (today - d * DAY)) / HOUR) for d in range(7, 0, -1)],
                *[Call("acme", 1 + i / 60, status=500) for i in range(30)])
    add_alert_rule(dash.conn, API_IDS[SHOP_KEY], None, "error_rate", 0.2)
    check_alerts(dash.conn, dash.now)
    drawn = set()
    for page, query in (("pages/home.py", {}), ("pages/customers.py", {}), (PROFILE, {"id": "fading"}),
                        ("pages/endpoints.py", {}), ("pages/alerts.py", {})):
        at = dash.app(page, **query)
        drawn |= time_formats(at)
    quiet = dash.app("pages/customers.py")
    quiet.toggle(key="customers_quiet").set_value(True).run()
    drawn |= time_formats(quiet)

    assert "home_quiet" in [f.key for f in dash.app("pages/home.py").dataframe]
    assert drawn == {"YYYY-MM-DD HH:mm", "YYYY-MM-DD HH:mm:ss"}  # one request's time to the second


def test_the_request_graph_labels_its_time_axis_with_dates_and_24_hour_times():
    wide = pl.DataFrame({"bucket": [0, 3600], "s2xx": [5, 3], "s3xx": [0, 0], "s4xx": [1, 0], "s5xx": [0, 4]})
    spec = request_chart(graph_frame(wide), 3600, 0, 7 * DAY, peak(wide)).to_dict()

    axis = spec["layer"][0]["encoding"]["x"]["axis"]
    assert "utcFormat(datum.value, '%H:%M')" in axis["labelExpr"]
    assert "utcFormat(datum.value, '%Y-%m-%d')" in axis["labelExpr"]
    assert "%I" not in json.dumps(spec) and "%p" not in json.dumps(spec)  # no 12-hour clock anywhere


def test_a_missing_location_reads_unknown_in_the_table_the_filter_and_the_csv(dash):
    dash.ingest(Call("acme", 1, ip=PRIVATE_IP), Call("acme", 2))

    at = dash.app(PROFILE, id="acme")
    at.session_state["history_filters"] = True
    at.run()
    exported = list(csv.DictReader(io.StringIO(history_csv_text(*at.session_state["_history_export"]))))

    assert list(table(at, "history_table")["Location"]) == ["unknown", "GB"]
    assert at.multiselect(key="history_countries").options == ["GB", "unknown"]
    assert [row["Location"] for row in exported] == ["unknown", "GB"]
    at.multiselect(key="history_countries").set_value(["(none)"]).run()  # "unknown" picked in the filter
    assert list(table(at, "history_table")["Location"]) == ["unknown"]


def test_threat_levels_are_spelled_the_same_in_the_table_the_filter_and_the_csv(dash):
    dash.ingest(Call("acme", 1, url=SQL_INJECTION), Call("acme", 2))

    at = dash.app(PROFILE, id="acme")
    at.session_state["history_filters"] = True
    at.run()
    exported = list(csv.DictReader(io.StringIO(history_csv_text(*at.session_state["_history_export"]))))

    shown = list(table(at, "history_table")["Threat Level"])
    assert shown == [row["Threat Level"] for row in exported] == ["high", "low"]
    assert at.multiselect(key="history_threats").options == ["low", "medium", "high"]
