"""Altair charts from polars frames. Pure: frames in, chart specifications out."""

from __future__ import annotations

import altair as alt
import polars as pl

from core.figures import STATUS_CLASSES, bucket_label

# Green for success, grey-blue for redirects, amber for client errors, red for server errors.
STATUS_COLORS = ("#2e9d5b", "#7b8fa6", "#f0a030", "#d64545")
# The time axis in the dashboard's one time style (ui/format.py): the date at midnight, else the
# 24-hour time, both UTC (Vega's own labels would say "03 PM" and "Dec 07").
AXIS_LABEL = ("utchours(datum.value) == 0 && utcminutes(datum.value) == 0"
              " ? utcFormat(datum.value, '%Y-%m-%d') : utcFormat(datum.value, '%H:%M')")


def request_chart(
    long: pl.DataFrame, bucket_seconds: int, since: int, until: int, peak: tuple[int, int] | None = None
) -> alt.Chart | alt.LayerChart:
    """Stacked bars of requests per time bucket, split by status class (core.figures.graph_frame),
    drawn over the whole period so quiet stretches show as gaps; the busiest bucket is labelled
    with its count. Times are UTC."""
    ordered = long.with_columns(
        pl.col("status").replace_strict(STATUS_CLASSES, range(len(STATUS_CLASSES)), default=9).alias("order")
    ).sort("bucket", "order")
    # Stacked by hand (top = running total within the bucket): Vega-Lite does not stack ranged bars.
    data = ordered.select(
        (pl.col("bucket") * 1000).alias("start"),
        ((pl.col("bucket") + bucket_seconds) * 1000).alias("end"),
        pl.col("status"),
        pl.col("requests"),
        (pl.col("requests").cum_sum().over("bucket") - pl.col("requests")).alias("bottom"),
        pl.col("requests").cum_sum().over("bucket").alias("top"),
    )
    unit = bucket_label(bucket_seconds)
    x_scale = alt.Scale(type="utc", domain=[since * 1000, until * 1000])
    bars = (
        alt.Chart(data)
        .mark_bar(binSpacing=0, cornerRadius=0)
        .encode(
            x=alt.X(
                "start:T",
                title=f"Time (UTC), one bar per {unit}",
                scale=x_scale,
                axis=alt.Axis(labelOverlap=True, grid=False, labelExpr=AXIS_LABEL),
            ),
            x2="end:T",
            y=alt.Y("top:Q", title="Requests"),
            y2="bottom:Q",
            color=alt.Color(
                "status:N",
                title="Response",
                scale=alt.Scale(domain=list(STATUS_CLASSES), range=list(STATUS_COLORS)),
                legend=alt.Legend(orient="top", direction="horizontal", title=None),
            ),
            tooltip=[
                alt.Tooltip(
                    "start:T", title=f"{unit.capitalize()} from (UTC)", format="%Y-%m-%d %H:%M", formatType="utc"
                ),
                alt.Tooltip("status:N", title="Response"),
                alt.Tooltip("requests:Q", title="Requests", format=","),
            ],
        )
        .properties(height=260)
    )
    if peak is None:
        return bars
    start, count = peak
    label = (
        alt.Chart(pl.DataFrame({"middle": [(start + bucket_seconds / 2) * 1000], "requests": [count],
                                "text": [f"peak {count:,}"]}))
        .mark_text(dy=-8, fontSize=11, color="#444")
        .encode(x=alt.X("middle:T", scale=x_scale), y=alt.Y("requests:Q"), text="text:N")
    )
    return alt.layer(bars, label)
