"""Customer profile (customer?id=...): header, graph, notes, favorite, and the request history."""

import csv
import io
import json
import math
import re

from dashboard_support import BILLING_KEY, HOUR, Call, dash, metric, select_row, table  # noqa: F401, F811 (dash: a fixture)
from factories import GPTBOT, IPHONE
from loading import load
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from ui.history import history_csv_text

PROFILE = "pages/customer.py"
SQL_INJECTION = "https://api.example.com/api/items?id=1' OR '1'='1"
HISTORY_COLUMNS = ["Method", "Response", "Name", "Load Time", "Threat Level", "Device", "AI Agent", "Location", "Time"]


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1]


def chart_bars(at: AppTest) -> list[dict]:
    """The rows behind the request graph's bars: start (ms), status class, requests."""
    [chart] = at.get("vega_lite_chart")
    datasets = [dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data).to_dict("records") for d in chart.proto.datasets]
    datasets += list(json.loads(chart.proto.spec).get("datasets", {}).values())
    for rows in datasets:
        if rows and "status" in rows[0]:
            return rows
    raise AssertionError("the chart has no bars")


def test_a_deep_link_shows_the_name_requests_share_last_active_error_rate_and_latency(dash):
    loads = [12.0, 15.0, 18.0, 22.0, 30.0, 45.0, 60.0, 80.0, 150.0, 900.0]
    statuses = [200, 200, 201, 200, 404, 200, 500, 200, 200, 200]
    mine = [Call("cus_9", 2 + i, name="Umbrella Corp", load_ms=ms, status=s) for i, (ms, s) in enumerate(zip(loads, statuses))]
    others = [Call("cus_1", 3), Call(None, 4), Call(None, 5), Call("cus_9", 2000)]  # the last one is too old
    dash.ingest(*mine, *others)
    in_period = [c for c in dash.calls if c.hours_ago < 700]

    at = dash.app(PROFILE, id="cus_9")
    assert [t.value for t in at.title] == ["Umbrella Corp"]
    assert metric(at, "Total Requests").value == "10"
    assert metric(at, "Share").value == f"{100 * len(mine) / len(in_period):.1f}%"  # as the Customers list shows it
    assert metric(at, "Error rate").value == f"{100 * sum(s >= 400 for s in statuses) / len(mine):.1f}%"
    assert metric(at, "Last active").value == "2h ago"
    p50, p95 = (float(metric(at, f"p{q} load time").value.removesuffix(" ms")) for q in (50, 95))
    assert abs(p50 - nearest_rank(loads, 50)) <= 0.06 * nearest_rank(loads, 50)  # histogram buckets: within ~5%
    assert abs(p95 - nearest_rank(loads, 95)) <= 0.06 * nearest_rank(loads, 95)
    assert any("cus\\_9" in c.value for c in at.caption)  # the ID, escaped so markdown shows it as is


def test_an_unknown_customer_id_gets_a_clear_message_not_a_traceback(dash):
    dash.ingest(Call("cus_1", 1))
    at = dash.app(PROFILE, id="nobody-here")
    assert not at.exception
    assert len(at.error) == 1 and "no customer with the ID" in at.error[0].value
    assert "nobody\\-here" in at.error[0].value  # escaped: markdown shows it exactly as typed
    assert not at.metric


def test_without_an_id_the_profile_points_to_the_customers_page(dash):
    at = dash.app(PROFILE)
    assert not at.exception and not at.error
    assert any("Customers page" in i.value for i in at.info)


def test_the_request_graph_counts_every_request_in_hourly_bars_split_by_status_class(dash):
    into_hour = (dash.now % HOUR) / HOUR  # so that three calls share one clock hour, two hours back
    calls = [Call("c", into_hour + 2.1), Call("c", into_hour + 2.2), Call("c", into_hour + 2.3, status=404),
             Call("c", 5.2, status=503), Call("c", 30), Call("c", 100)]
    dash.ingest(*calls)
    at = dash.app(PROFILE, id="c", period="7d")
    bars = chart_bars(at)
    assert sum(b["requests"] for b in bars) == len(calls)
    assert all(b["end"] - b["start"] == HOUR * 1000 for b in bars)  # a week: one bar per hour
    by_class = {}
    for b in bars:
        by_class[b["status"]] = by_class.get(b["status"], 0) + b["requests"]
    assert by_class == {"2xx": 4, "4xx": 1, "5xx": 1}
    peak = max(bars, key=lambda b: b["top"])
    assert peak["top"] == 3  # the busiest hour holds those three calls
    assert any("Busiest hour: 3 requests" in c.value for c in at.caption)

    wider = dash.app(PROFILE, id="c", period="90d")
    assert {b["end"] - b["start"] for b in chart_bars(wider)} == {24 * HOUR * 1000}  # 90 days: daily bars
    assert sum(b["requests"] for b in chart_bars(wider)) == len(calls)


def test_the_description_is_saved_when_edited_and_kept_for_the_next_visit(dash):
    dash.ingest(Call("cus_5", 1))
    at = dash.app(PROFILE, id="cus_5")
    at.text_area(key="description_cus_5").input("Enterprise plan; renewal in March").run()
    stored = dash.conn.execute("SELECT description FROM customers WHERE external_id = 'cus_5'").fetchone()[0]
    assert stored == "Enterprise plan; renewal in March"
    again = dash.app(PROFILE, id="cus_5")
    assert again.text_area(key="description_cus_5").value == "Enterprise plan; renewal in March"


def test_a_display_name_set_on_the_profile_replaces_the_id_everywhere(dash):
    dash.ingest(Call("cus_5", 1))
    at = dash.app(PROFILE, id="cus_5")
    at.text_input(key="display_name_cus_5").input("Soylent").run()
    assert [t.value for t in at.title] == ["Soylent"]
    assert list(table(dash.app("pages/customers.py"), "customers_table")["display_name"]) == ["Soylent"]


def starred(dash) -> list[str]:
    """The customers starred for everyone (sign-in is off in these tests)."""
    return [c for (c,) in dash.conn.execute("SELECT c.external_id FROM favorites f JOIN customers c ON c.id = f.customer_id"
                                            " WHERE f.analyst = '' ORDER BY 1")]


def test_the_favorite_toggle_stars_the_customer_and_the_sidebar_lists_it(dash):
    dash.ingest(Call("cus_5", 1, name="Wonka"), Call("cus_6", 1))
    at = dash.app(PROFILE, id="cus_5")
    assert at.toggle(key="favorite_cus_5").value is False
    assert not at.sidebar.get("page_link") or all("Wonka" not in p.label for p in at.sidebar.get("page_link"))
    at.toggle(key="favorite_cus_5").set_value(True).run()
    assert starred(dash) == ["cus_5"]
    links = [p for p in at.sidebar.get("page_link") if p.proto.label == "Wonka"]
    assert len(links) == 1 and "id=cus_5" in links[0].proto.query_string
    assert at.toggle(key="sidebar_favorite_cus_5").value is True

    at.toggle(key="sidebar_favorite_cus_5").set_value(False).run()  # unstar from the sidebar
    assert starred(dash) == []
    assert at.toggle(key="favorite_cus_5").value is False
    assert not [p for p in at.sidebar.get("page_link") if p.proto.label == "Wonka"]


def history_traffic(dash) -> list[Call]:
    calls = [
        Call("h", 1, method="GET", url="https://api.example.com/api/orders/17", load_ms=40),
        Call("h", 2, method="POST", url="https://api.example.com/api/orders", status=201, load_ms=120),
        Call("h", 3, method="GET", url=SQL_INJECTION, status=400, load_ms=5),
        Call("h", 4, method="GET", url="https://api.example.com/api/refunds/9", user_agent=IPHONE, load_ms=60),
        Call("h", 5, method="DELETE", url="https://api.example.com/api/orders/17", status=500, load_ms=700,
             user_agent=GPTBOT, ip="23.21.1.10"),
        Call("h", 900, method="GET", url="https://api.example.com/api/orders/1"),  # before the period
        Call("other", 1, method="GET", url="https://api.example.com/api/orders/2"),  # someone else's
    ]
    dash.ingest(*calls)
    return calls


def test_the_history_lists_the_customers_requests_in_the_period_newest_first_with_its_columns(dash):
    history_traffic(dash)
    at = dash.app(PROFILE, id="h")
    shown = table(at, "history_table")
    assert list(shown.columns) == HISTORY_COLUMNS
    assert list(shown["Method"]) == ["GET", "POST", "GET", "GET", "DELETE"]
    assert list(shown["Response"]) == [200, 201, 400, 200, 500]
    assert list(shown["Name"]) == ["/api/orders/{id}", "/api/orders", "/api/items", "/api/refunds/{id}", "/api/orders/{id}"]
    assert list(shown["Load Time"]) == [40, 120, 5, 60, 700]
    assert list(shown["Threat Level"]) == ["low", "low", "high", "low", "low"]  # as the CSV spells them
    assert list(shown["Device"])[3:] == ["mobile", "bot"]
    assert list(shown["AI Agent"]) == ["", "", "", "", "GPTBot"]
    assert list(shown["Location"]) == ["GB", "GB", "GB", "GB", "US"]
    times = [t.timestamp() for t in shown["Time"]]
    assert times == sorted(times, reverse=True)


def open_filters(at: AppTest) -> None:
    """Open the history's Filters expander (its widgets are drawn only while it is open)."""
    at.session_state["history_filters"] = True
    at.run()
    assert at.multiselect(key="history_methods") is not None


def test_each_history_column_filters_and_the_filters_combine(dash):
    history_traffic(dash)
    at = dash.app(PROFILE, id="h")
    open_filters(at)
    at.multiselect(key="history_threats").set_value(["high"]).run()
    assert list(table(at, "history_table")["Name"]) == ["/api/items"]
    at.multiselect(key="history_threats").set_value([]).run()

    at.multiselect(key="history_methods").set_value(["GET", "DELETE"]).run()
    assert list(table(at, "history_table")["Method"]) == ["GET", "GET", "GET", "DELETE"]
    at.multiselect(key="history_statuses").set_value(["4xx", "5xx"]).run()
    assert list(table(at, "history_table")["Response"]) == [400, 500]
    at.multiselect(key="history_statuses").set_value(["200"]).run()
    assert list(table(at, "history_table")["Response"]) == [200, 200]
    at.multiselect(key="history_methods").set_value([]).run()
    at.multiselect(key="history_statuses").set_value([]).run()

    at.multiselect(key="history_devices").set_value(["mobile"]).run()
    assert list(table(at, "history_table")["Name"]) == ["/api/refunds/{id}"]
    at.multiselect(key="history_devices").set_value([]).run()
    at.multiselect(key="history_ai_agents").set_value(["GPTBot"]).run()
    assert list(table(at, "history_table")["Method"]) == ["DELETE"]
    at.multiselect(key="history_ai_agents").set_value(["(none)"]).run()
    assert len(table(at, "history_table")) == 4
    at.multiselect(key="history_ai_agents").set_value([]).run()
    at.multiselect(key="history_countries").set_value(["US"]).run()
    assert list(table(at, "history_table")["Location"]) == ["US"]
    at.multiselect(key="history_countries").set_value([]).run()
    at.multiselect(key="history_endpoints").set_value(["/api/orders/{id}"]).run()
    assert list(table(at, "history_table")["Method"]) == ["GET", "DELETE"]
    at.multiselect(key="history_endpoints").set_value([]).run()
    at.number_input(key="history_min_ms").set_value(50.0).run()
    at.number_input(key="history_max_ms").set_value(200.0).run()
    assert list(table(at, "history_table")["Load Time"]) == [120, 60]


def test_filters_still_apply_while_their_expander_is_closed_and_come_back_when_it_opens(dash):
    history_traffic(dash)
    at = dash.app(PROFILE, id="h")
    assert len(at.multiselect) == 0  # closed: the filter widgets are not drawn at all
    open_filters(at)
    at.multiselect(key="history_threats").set_value(["high"]).run()
    at.number_input(key="history_max_ms").set_value(100.0).run()
    at.session_state["history_filters"] = False
    at.run()
    assert len(at.multiselect) == 0
    assert list(table(at, "history_table")["Name"]) == ["/api/items"]
    at.run()
    assert list(table(at, "history_table")["Name"]) == ["/api/items"]
    open_filters(at)
    assert at.multiselect(key="history_threats").value == ["high"]
    assert at.number_input(key="history_max_ms").value == 100.0
    assert list(table(at, "history_table")["Name"]) == ["/api/items"]


def test_search_looks_in_the_path_and_the_endpoint_name(dash):
    history_traffic(dash)
    at = dash.app(PROFILE, id="h")
    at.text_input(key="history_search").input("refunds").run()
    assert list(table(at, "history_table")["Name"]) == ["/api/refunds/{id}"]
    at.text_input(key="history_search").input("{id}").run()  # only endpoint names hold placeholders
    assert list(table(at, "history_table")["Name"]) == ["/api/orders/{id}", "/api/refunds/{id}", "/api/orders/{id}"]
    at.text_input(key="history_search").input("orders/17").run()  # only paths hold the real id
    assert list(table(at, "history_table")["Method"]) == ["GET", "DELETE"]
    at.text_input(key="history_search").input("nothing like this").run()
    assert any("No requests match" in i.value for i in at.info)


def test_the_history_sorts_by_a_chosen_column(dash):
    history_traffic(dash)
    at = dash.app(PROFILE, id="h")
    at.selectbox(key="history_sort").select("load_time_ms").run()
    assert list(table(at, "history_table")["Load Time"]) == [700, 120, 60, 40, 5]
    at.segmented_control(key="history_order").set_value("Ascending").run()
    assert list(table(at, "history_table")["Load Time"]) == [5, 40, 60, 120, 700]
    at.selectbox(key="history_sort").select("threat_level").run()
    assert list(table(at, "history_table")["Threat Level"])[-1] == "high"
    at.selectbox(key="history_sort").select("ai_agent").run()  # those without one first, then by time
    assert list(table(at, "history_table")["Load Time"]) == [60, 5, 120, 40, 700]
    at.segmented_control(key="history_order").set_value("Descending").run()
    assert list(table(at, "history_table")["Load Time"]) == [700, 40, 120, 5, 60]


def test_the_csv_export_holds_exactly_the_filtered_rows_in_the_shown_order(dash):
    history_traffic(dash)
    at = dash.app(PROFILE, id="h")
    open_filters(at)
    at.multiselect(key="history_methods").set_value(["GET"]).run()
    at.selectbox(key="history_sort").select("load_time_ms").run()
    assert [b.label for b in at.download_button] == ["Export CSV"]
    shown = table(at, "history_table")
    rows = list(csv.DictReader(io.StringIO(history_csv_text(*at.session_state["_history_export"]))))
    assert [r["Method"] for r in rows] == list(shown["Method"]) == ["GET", "GET", "GET"]
    assert [float(r["Load Time (ms)"]) for r in rows] == list(shown["Load Time"]) == [60, 40, 5]
    assert [r["Path"] for r in rows] == ["/api/refunds/9", "/api/orders/17", "/api/items"]


def test_opening_a_request_shows_masked_headers_bodies_threat_reasons_and_errors(dash):
    attack = Call("h", 1, method="POST", url=SQL_INJECTION, status=500,
                  body={"password": "hunter2", "note": "<b>hi</b>"},
                  extra_headers={"cookie": "session=abc123", "x-api-key": "live-key-123"})
    dash.ingest(attack, Call("h", 2))
    at = dash.app(PROFILE, id="h")
    select_row(at, "history_table", 0)
    assert not at.exception
    code = "\n".join(c.value for c in at.code)
    for secret in ("SECRET-token", "hunter2", "abc123", "live-key-123"):
        assert secret not in code
    assert '"password": "*****"' in code and '"authorization": "*****"' in code
    assert '"note": "<b>hi</b>"' in code  # shown as text, in a code block
    assert any("SQL injection" in t.value for t in at.text)
    assert any("Threat level:** high" in m.value for m in at.markdown)
    assert [s.value for s in at.main.subheader][-1].startswith("POST \\/api\\/items")  # escaped: shown as sent


def test_request_errors_are_listed_in_the_detail(dash):
    call = Call("h", 1, status=500)
    payload = call.payload(dash.now)
    payload["data"]["errors"] = [{"message": "Division by zero", "file": "app.py", "line": 7, "source": "onError",
                                  "type": "ZeroDivisionError"}]
    load(dash.conn, [payload], received_at=dash.now)
    at = dash.app(PROFILE, id="h")
    select_row(at, "history_table", 0)
    assert any("Errors:** 1" in m.value for m in at.markdown)
    assert any("Division by zero" in c.value and "ZeroDivisionError" in c.value for c in at.code)


def test_with_one_api_selected_the_profile_counts_only_that_apis_requests(dash):
    dash.ingest(Call("both", 1), Call("both", 2), Call("both", 3, api=BILLING_KEY), Call(None, 4, api=BILLING_KEY))
    at = dash.app(PROFILE, id="both", api="Billing API")
    assert metric(at, "Total Requests").value == "1"
    assert metric(at, "Share").value == "50.0%"
    assert len(table(at, "history_table")) == 1


def test_names_and_ids_from_traffic_are_shown_as_text_never_as_markup(dash):
    hostile = "<img src=x onerror=alert(1)>**Bold** [click](javascript:alert(1)) :red[x] $x$"
    dash.ingest(Call("evil<script>", 1, name=hostile), Call("evil<script>", 2))
    dash.star(*[c for (c,) in dash.conn.execute("SELECT external_id FROM customers")])  # so the sidebar lists it too
    for page in ("pages/home.py", "pages/customers.py", PROFILE):
        at = dash.app(page, id="evil<script>") if page == PROFILE else dash.app(page)
        assert not at.get("html")
        for element in (*at.markdown, *at.caption, *at.title, *at.subheader, *at.error, *at.info):
            assert not getattr(element.proto, "allow_html", False)
            assert not re.search(r"(?<!\\)(<img|\[click|\*\*Bold|:red\[|\$x)", element.value), element.value
        [link] = at.sidebar.get("page_link")
        assert not re.search(r"(?<!\\)(<img|\[click|\*\*Bold|:red\[|\$x)", link.proto.label)
    at = dash.app(PROFILE, id="evil<script>")
    # Markdown's backslash escapes undone, the title is the name exactly as the traffic sent it.
    assert re.sub(r"\\(.)", r"\1", at.title[0].value) == hostile
    assert list(table(dash.app("pages/customers.py"), "customers_table")["display_name"]) == [hostile]  # a plain cell
