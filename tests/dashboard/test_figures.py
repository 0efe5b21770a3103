"""The pure pieces behind the pages: safe text, graph buckets, saved widget choices, deltas."""

import csv
import io
import re
from datetime import datetime, timezone

import polars as pl
import pytest

from core.charts import request_chart
from core.figures import Figure, graph_bucket, graph_frame, peak
from core.home_widgets import WIDGETS, dump_widget_choices, widget_choices
from dashboard_support import live_markup
from ui.format import JOINER, history_csv, plain

DAY, HOUR = 86400, 3600


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "**bold** _it_ `code`", "[x](javascript:alert(1))", "![img](http://evil/x.png)",
    ":red[alarm] :material/home:", "$E=mc^2$", "# heading", "1. list", "- item", "a\\b", "&lt;tag&gt;",
    "https://example.com", "plain name", ":material_home: :streamlit: :smile: :+1:", "a -> b <- c <-> d -- e >= f",
    "WWW.example.com", ":small[tiny] :blue-badge[b] :color[c]{foreground=red}",
])
def test_plain_text_survives_markdown_exactly(text):
    escaped = plain(text)
    # Undoing markdown's escapes gives the text back, but for word joiners, which show as nothing.
    assert re.sub(r"\\(.)", r"\1", escaped).replace(JOINER, "") == text
    assert not re.search(r"(?<!\\)[<>\[\]*_`$:#&]", escaped)  # no markdown or HTML syntax left active
    assert not live_markup(escaped)  # nor what Streamlit rewrites past markdown: icons, emoji, arrows, links


def test_plain_text_keeps_to_one_line():
    assert plain("two\nlines\r\n  here") == "two lines here"


@pytest.mark.parametrize(("span", "bucket"), [
    (24 * HOUR, HOUR), (7 * DAY, HOUR), (14 * DAY, 6 * HOUR), (30 * DAY, 6 * HOUR), (90 * DAY, DAY), (400 * DAY, 7 * DAY),
])
def test_graph_buckets_fit_the_period(span, bucket):
    assert graph_bucket(0, span) == bucket
    assert span / graph_bucket(0, span) <= 200


def test_widget_choices_default_to_on_and_survive_damaged_settings():
    assert widget_choices(None) == dict.fromkeys(WIDGETS, True)
    assert widget_choices("not json") == dict.fromkeys(WIDGETS, True)
    assert widget_choices('{"top_customer": false, "unknown": false}') == {**dict.fromkeys(WIDGETS, True), "top_customer": False}
    saved = {**dict.fromkeys(WIDGETS, False), "customers_list": True}
    assert widget_choices(dump_widget_choices(saved)) == saved


def test_a_figure_without_a_previous_period_has_no_delta():
    assert Figure(5, None).delta is None
    assert Figure(5, 7).delta == -2


def test_graph_frame_and_peak_from_status_counts():
    wide = pl.DataFrame({"bucket": [0, 3600], "s2xx": [5, 3], "s3xx": [0, 0], "s4xx": [1, 0], "s5xx": [0, 4]})
    long = graph_frame(wide)
    assert long.rows() == [(0, "2xx", 5), (0, "4xx", 1), (3600, "2xx", 3), (3600, "5xx", 4)]
    assert peak(wide) == (3600, 7)
    spec = request_chart(long, 3600, 0, 7200, peak(wide)).to_dict()
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0, 7_200_000]


def test_history_csv_has_the_shown_columns_and_an_iso_time():
    rows = pl.DataFrame({
        "id": [7], "time": [1_795_000_000], "method": ["GET"], "status": [200], "endpoint": ["/a/{id}"],
        "path": ["/a/1"], "load_time_ms": [12.5], "threat_level": ["low"], "device": ["desktop"],
        "ai_agent": [None], "country": ["GB"], "city": ["London"],
    })
    text = history_csv(rows)
    assert text.splitlines()[0] == "Method,Response,Name,Path,Load Time (ms),Threat Level,Device,AI Agent,Location,Time,Request ID"
    iso = datetime.fromtimestamp(1_795_000_000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert text.splitlines()[1] == f'GET,200,/a/{{id}},/a/1,12.5,low,desktop,,"London, GB",{iso},7'


def test_a_history_cell_that_would_run_as_a_formula_is_exported_as_text():
    rows = pl.DataFrame({
        "id": [8], "time": [1_795_000_000], "method": ["GET"], "status": [200], "endpoint": ["=cmd|'/c calc'!A1"],
        "path": ["@SUM(1+1)"], "load_time_ms": [3.0], "threat_level": ["high"], "device": ["-desktop"],
        "ai_agent": ["+bot"], "country": [None], "city": [None],
    })
    cells = next(csv.reader(io.StringIO(history_csv(rows).splitlines()[1])))
    assert cells[2:4] == ["'=cmd|'/c calc'!A1", "'@SUM(1+1)"] and cells[6:8] == ["'-desktop", "'+bot"]
