"""Dashboard figures: pure functions over plain values and polars frames.

db/ reads the numbers (db/queries/figures.py says where each comes from), pages lay them out, and what
lies between (changes, shares, rates, graph buckets) is decided here, where it can be tested.
How a value is written on screen is ui/format.py's business.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from core.periods import DAY, HOUR

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


def share(requests: int, api_requests: int) -> float | None:
    """A customer's share, in percent, of ALL the API's requests in the period (unidentified ones
    included, so shares sum to at most 100%); None when the API had none."""
    part = ratio(requests, api_requests)
    return None if part is None else 100.0 * part


def with_share(frame: pl.DataFrame, api_requests: int) -> pl.DataFrame:
    """The frame's requests column as a share (column share), as share() computes it; 0 when the
    API had no requests at all."""
    return frame.with_columns((100.0 * pl.col("requests") / max(api_requests, 1)).alias("share"))


def error_rate(errors: int, requests: int) -> float | None:
    """Responses 4xx and 5xx, in percent of the requests; None without requests."""
    part = ratio(errors, requests)
    return None if part is None else 100.0 * part


def average_requests(identified_requests: int, active_customers: int) -> float | None:
    """Average requests per active customer in a period: identified requests / active customers."""
    return ratio(identified_requests, active_customers)


def unattributed_share(total_requests: int, identified_requests: int) -> float | None:
    """Percentage of the API's requests that belong to no customer."""
    part = ratio(total_requests - identified_requests, total_requests)
    return None if part is None else 100.0 * part


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
    """A bucket's length in words: "hour", "6 hours", "day", "week"."""
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
