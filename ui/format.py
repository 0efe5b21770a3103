"""How values are written on screen and in exports: numbers, times, periods, tables, safe text.

Pure (no Streamlit), so that it can be tested on its own; the pages and ui/ call it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import orjson
import polars as pl

from core.periods import DAY, HOUR, PRESETS, Period
from core.spreadsheet import safe_frame

# --- Numbers and times -----------------------------------------------------------------------------


def format_count(value: float | None) -> str:
    """A count with thousands separators; one decimal when it is not whole; – for none."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def plural(count: float | None, noun: str, nouns: str | None = None) -> str:
    """A count with its noun, singular for one: "1 request", "2,000 requests", "3 APIs"."""
    return f"{format_count(count)} {noun if count == 1 else nouns or noun + 's'}"


def format_delta(delta: float | None, *, percent: bool = False) -> str | None:
    """The change as st.metric shows it; None hides the delta (no previous period)."""
    if delta is None:
        return None
    if percent:
        return f"{delta:+.1f} pp"
    if float(delta).is_integer():
        return f"{int(delta):+,}"
    return f"{delta:+,.1f}"


def format_percent(value: float | None, digits: int = 1) -> str:
    """A percentage; tiny ones as <0.1%; – for none."""
    if value is None:
        return "–"
    if 0 < value < 10 ** -digits:
        return f"<{10 ** -digits:.{digits}f}%"
    return f"{value:.{digits}f}%"


# Load times everywhere (metrics, tables, the CSV's column name): milliseconds, one decimal, thousands
# separated: "10,758.8 ms". LOAD_TIME_FORMAT is the same for st.column_config (sprintf-js).
LOAD_TIME_FORMAT = "%,.1f ms"
# Times everywhere: YYYY-MM-DD HH:MM, 24-hour, UTC (format_time). WHEN and REQUEST_TIME (to the second,
# for one request) are the same for st.column_config (moment.js); axes and tooltips: core/charts.py.
WHEN = "YYYY-MM-DD HH:mm"
REQUEST_TIME = "YYYY-MM-DD HH:mm:ss"


def format_ms(value: float | None) -> str:
    """A load time in milliseconds: "12.3 ms", "10,758.8 ms"; – for none."""
    if value is None:
        return "–"
    return f"{value:,.1f} ms"


def format_time(ts: int | None) -> str:
    """An epoch time as YYYY-MM-DD HH:MM UTC; never for none."""
    if ts is None:
        return "never"
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def ago(ts: int | None, now: float) -> str:
    """How long ago, briefly: "just now", "5m ago", "3h ago", "2d ago"."""
    if ts is None:
        return "never"
    seconds = max(0, int(now) - ts)
    if seconds < 60:
        return "just now"
    if seconds < HOUR:
        return f"{seconds // 60}m ago"
    if seconds < DAY:
        return f"{seconds // HOUR}h ago"
    return f"{seconds // DAY}d ago"


PERIOD_LABELS: dict[str, str] = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "14d": "Last 14 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "all": "All time",
    "custom": "Custom",
}
assert set(PRESETS) | {"custom"} == set(PERIOD_LABELS)


def describe_period(period: Period) -> str:
    """A period in words: "all time", "2026-11-01 to 2026-11-07 (UTC)", "since ..."."""
    if period.since is None and period.until is None:
        return "all time"
    if period.since is None:
        return f"until {format_time(period.until)}"
    if period.until is None:
        return f"since {format_time(period.since)}"
    last = period.until - 1
    if period.since % DAY == 0 and period.until % DAY == 0:
        first_day, last_day = (datetime.fromtimestamp(t, tz=timezone.utc).date() for t in (period.since, last))
        return f"{first_day}" if first_day == last_day else f"{first_day} to {last_day} (UTC)"
    return f"{format_time(period.since)} to {format_time(period.until)}"


# --- The request history, as a table and as CSV ------------------------------------------------------

HISTORY_COLUMNS = ("Method", "Response", "Name", "Load Time", "Threat Level", "Device", "AI Agent", "Location", "Time")


NO_LOCATION = "unknown"  # a request whose IP has no known country, in the table, the CSV and the filters


def location_expr() -> pl.Expr:
    """"City, CC" where the city is known, else the country code, else NO_LOCATION."""
    return (
        pl.when(pl.col("city").is_not_null() & pl.col("country").is_not_null())
        .then(pl.col("city") + pl.lit(", ") + pl.col("country"))
        .otherwise(pl.col("country"))
        .fill_null(NO_LOCATION)
    )


def history_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Request rows (db.reads.history.history) with the request history's columns, in its order."""
    columns = {
        "Method": pl.col("method"), "Response": pl.col("status"), "Name": pl.col("endpoint"),
        "Load Time": pl.col("load_time_ms"), "Threat Level": pl.col("threat_level"),  # as in the CSV: "high"
        "Device": pl.col("device"), "AI Agent": pl.col("ai_agent").fill_null(""),
        "Location": location_expr(),
        "Time": pl.from_epoch(pl.col("time"), time_unit="s").dt.replace_time_zone("UTC"),
    }
    assert tuple(columns) == HISTORY_COLUMNS
    return frame.select(expr.alias(name) for name, expr in columns.items())


def history_csv(frame: pl.DataFrame) -> str:
    """The history rows as CSV: the columns the table shows, plus the path, the request id and an
    ISO time, so a spreadsheet gets everything the analyst saw; a cell that would run as a formula
    is escaped (core.spreadsheet)."""
    columns = {
        "Method": pl.col("method"), "Response": pl.col("status"), "Name": pl.col("endpoint"), "Path": pl.col("path"),
        "Load Time (ms)": pl.col("load_time_ms"), "Threat Level": pl.col("threat_level"), "Device": pl.col("device"),
        "AI Agent": pl.col("ai_agent"), "Location": location_expr(),
        "Time": pl.from_epoch(pl.col("time"), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Request ID": pl.col("id"),
    }
    return safe_frame(frame.select(expr.alias(name) for name, expr in columns.items())).write_csv()


def pretty_json(text: str | None) -> str:
    """Stored JSON text indented for reading; text that is not JSON comes back unchanged."""
    if text is None:
        return ""
    try:
        return orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return text


def json_list(text: str | None) -> list:
    """A stored JSON array as a list; anything else as a list of that one value."""
    try:
        value = orjson.loads(text or "[]")
    except orjson.JSONDecodeError:
        return [text]
    return value if isinstance(value, list) else [value]


# --- Text from traffic, shown as text ----------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=^&/])")
# U+2060 WORD JOINER: invisible, and breaks what Streamlit rewrites after markdown has been parsed,
# where no backslash escape reaches: icons and emoji (:material_home:, :streamlit:, :smile:),
# typographic arrows and dashes (->, <-, <->, --, >=, <=, ~=) and bare links (http://, www.).
JOINER = "\u2060"
_SHORTCODE = re.compile(r":(?=[\w+-]+:)")
_TYPOGRAPHY = re.compile(r"(?<!\S)([<>~-])(?=(?:->|-|>|=)(?!\S))")
_LINK_START = re.compile(r"(?i)(\bhttps?:(?=//)|\bwww(?=\.))")


def plain(text: object) -> str:
    """Text from API traffic or users, escaped so that Streamlit's markdown shows it literally:
    no emphasis, links, images, HTML, colour or size directives, icons, emoji or LaTeX; line breaks
    become spaces. Markdown's backslash escapes do most of it ('/' too: Streamlit turns
    ":material/" into an icon before parsing); a word joiner, which shows as nothing, breaks the
    rest (JOINER). E-mail addresses stay mailto: links, as the address shown is where they go."""
    value = " ".join(str(text).split())
    for pattern in (_SHORTCODE, _TYPOGRAPHY, _LINK_START):
        value = pattern.sub(lambda match: match[0] + JOINER, value)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value)


def inline_code(text: str) -> str:
    """Text to copy (an address, a key's start) as inline code, where markdown shows it as it is;
    as plain() text if it holds a backtick, which would end the code span."""
    return f"`{text}`" if "`" not in text and "\n" not in text else plain(text)
