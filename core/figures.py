"""Dashboard figures and tables: pure functions over plain values and polars frames.

No SQL and no Streamlit here: db/dashboard.py reads the numbers, pages lay them out, and what lies
between (deltas, shares, buckets, table shapes, safe text) is decided here, where it can be tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson
import polars as pl

from core.periods import DAY, HOUR, PRESETS, Period

# --- Home widgets --------------------------------------------------------------------------------

# key -> title, in the order the home page lays them out.
WIDGETS: dict[str, str] = {
    "new_customers": "New Customers",
    "active_customers": "Active Customers",
    "top_customer": "Top Customer",
    "average_requests": "Average Requests per Customer",
    "unattributed": "Unattributed traffic",
    "customers_list": "Customers List",
    "favorite_customers": "Favorite Customers",
    "top_customers": "Top Customers List",
}


def widget_choices(saved: str | None) -> dict[str, bool]:
    """The widgets switched on, from the saved JSON; every widget is on until switched off.
    Unknown keys in the saved text are ignored and a damaged value falls back to all on."""
    choices = dict.fromkeys(WIDGETS, True)
    if saved:
        try:
            stored = orjson.loads(saved)
        except orjson.JSONDecodeError:
            stored = {}
        if isinstance(stored, dict):
            choices.update({k: bool(v) for k, v in stored.items() if k in WIDGETS})
    return choices


def dump_widget_choices(choices: dict[str, bool]) -> str:
    return orjson.dumps({k: bool(choices.get(k, True)) for k in WIDGETS}).decode()


# --- Counts and their change -----------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A number for the current period and, when the period has one, for the previous one."""

    value: float | None
    previous: float | None = None

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def ratio(part: float, whole: float) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return None if not whole else part / whole


def average_requests(identified_requests: int, active_customers: int) -> float | None:
    """Average requests per active customer in a period: identified requests / active customers."""
    return ratio(identified_requests, active_customers)


def unattributed_share(total_requests: int, identified_requests: int) -> float | None:
    """Percentage of the API's requests that belong to no customer."""
    share = ratio(total_requests - identified_requests, total_requests)
    return None if share is None else 100.0 * share


def format_count(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


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
    if value is None:
        return "–"
    if 0 < value < 10 ** -digits:
        return f"<{10 ** -digits:.{digits}f}%"
    return f"{value:.{digits}f}%"


def format_ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def format_time(ts: int | None) -> str:
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


# --- Request graph buckets -------------------------------------------------------------------------

STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")


def graph_bucket(since: int, until: int) -> int:
    """Seconds per bar for a graph over [since, until): at most a few hundred bars, and hourly
    up to a week so single-hour peaks stay visible."""
    span = until - since
    if span <= 7 * DAY:
        return HOUR
    if span <= 31 * DAY:
        return 6 * HOUR
    if span <= 200 * DAY:
        return DAY
    return 7 * DAY


def bucket_label(seconds: int) -> str:
    return {HOUR: "hour", 6 * HOUR: "6 hours", DAY: "day", 7 * DAY: "week"}.get(seconds, f"{seconds // HOUR} hours")


def graph_frame(wide: pl.DataFrame) -> pl.DataFrame:
    """Per-bucket status counts (bucket, s2xx, s3xx, s4xx, s5xx) in long form for a stacked
    chart: bucket (epoch seconds), status (2xx...5xx), requests; empty classes are left out."""
    if wide.is_empty():
        return pl.DataFrame(schema={"bucket": pl.Int64, "status": pl.Utf8, "requests": pl.Int64})
    long = wide.unpivot(
        index="bucket", on=["s2xx", "s3xx", "s4xx", "s5xx"], variable_name="status", value_name="requests"
    )
    return (
        long.filter(pl.col("requests") > 0)
        .with_columns(pl.col("bucket").cast(pl.Int64), pl.col("status").str.slice(1), pl.col("requests").cast(pl.Int64))
        .select("bucket", "status", "requests")
        .sort("bucket", "status")
    )


def peak(wide: pl.DataFrame) -> tuple[int, int] | None:
    """(bucket start, requests) of the busiest bucket, the earliest one on a tie."""
    if wide.is_empty():
        return None
    totals = wide.select("bucket", (pl.col("s2xx") + pl.col("s3xx") + pl.col("s4xx") + pl.col("s5xx")).alias("n"))
    best = totals.sort(["n", "bucket"], descending=[True, False]).row(0)
    return (int(best[0]), int(best[1])) if best[1] else None


# --- Tables as the pages show them ----------------------------------------------------------------


def _utc_datetime(column: str, alias: str) -> pl.Expr:
    return pl.from_epoch(pl.col(column), time_unit="s").dt.replace_time_zone("UTC").alias(alias)


def customers_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Customer rows (db.dashboard.customer_page) as the Customers page shows them."""
    return frame.select(
        pl.col("display_name").alias("Customer"),
        pl.col("customer_id").alias("Customer ID"),
        pl.col("requests").alias("Requests"),
        pl.col("share").alias("Share"),
        _utc_datetime("last_active", "Last active"),
        pl.when(pl.col("favorite")).then(pl.lit("★")).otherwise(pl.lit("")).alias("Favorite"),
    )


HISTORY_COLUMNS = ("Method", "Response", "Name", "Load Time", "Threat Level", "Device", "AI Agent", "Location", "Time")


def location_expr() -> pl.Expr:
    return (
        pl.when(pl.col("city").is_not_null() & pl.col("country").is_not_null())
        .then(pl.col("city") + pl.lit(", ") + pl.col("country"))
        .otherwise(pl.col("country"))
    )


def history_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Request rows (db.dashboard.history) with the request history's columns, in its order."""
    return frame.select(
        pl.col("method").alias("Method"),
        pl.col("status").alias("Response"),
        pl.col("endpoint").alias("Name"),
        pl.col("load_time_ms").alias("Load Time"),
        pl.col("threat_level").str.to_titlecase().alias("Threat Level"),
        pl.col("device").alias("Device"),
        pl.col("ai_agent").fill_null("").alias("AI Agent"),
        location_expr().fill_null("unknown").alias("Location"),
        _utc_datetime("time", "Time"),
    )


def history_csv(frame: pl.DataFrame) -> str:
    """The history rows as CSV: the columns the table shows, plus the path, the request id and an
    ISO time, so a spreadsheet gets everything the analyst saw."""
    return frame.select(
        pl.col("method").alias("Method"),
        pl.col("status").alias("Response"),
        pl.col("endpoint").alias("Name"),
        pl.col("path").alias("Path"),
        pl.col("load_time_ms").alias("Load Time (ms)"),
        pl.col("threat_level").alias("Threat Level"),
        pl.col("device").alias("Device"),
        pl.col("ai_agent").alias("AI Agent"),
        location_expr().alias("Location"),
        pl.from_epoch(pl.col("time"), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("Time"),
        pl.col("id").alias("Request ID"),
    ).write_csv()


def pretty_json(text: str | None) -> str:
    """Stored JSON text indented for reading; text that is not JSON comes back unchanged."""
    if text is None:
        return ""
    try:
        return orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return text


def json_list(text: str | None) -> list:
    try:
        value = orjson.loads(text or "[]")
    except orjson.JSONDecodeError:
        return [text]
    return value if isinstance(value, list) else [value]


# --- Text from traffic, shown as text ----------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=^&])")


def plain(text: object) -> str:
    """Text from API traffic or users, escaped so that Streamlit's markdown shows it literally:
    no emphasis, links, images, HTML, colour directives, icons or LaTeX; line breaks become spaces."""
    value = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value)
