"""Small building blocks the pages share: metrics with their change, customer tables that open
a profile when a row is selected."""

from __future__ import annotations

import polars as pl
import streamlit as st

from core.figures import Figure
from ui.format import format_count, format_delta
from ui.sidebar import open_profile

# Narrower than "medium" (200 px) so that with Requests and Share it fits a half-width card on a
# 1280-pixel screen; columns grow to fill wider cards.
NAME = st.column_config.TextColumn("Customer", width=170)
SHARE = st.column_config.NumberColumn(
    "Share", format="%.1f%%", help="Of all the API's requests in the period", width="small"
)
REQUESTS = st.column_config.NumberColumn("Requests", format="localized", width="small")
WHEN = "YYYY-MM-DD HH:mm"


def count_metric(label: str, figure: Figure, *, help: str | None = None,
                 value_text: str | None = None, inverse: bool = False, percent: bool = False) -> None:
    """A metric with its change against the previous period (none for all time)."""
    delta = figure.delta
    if delta is not None and abs(delta) < (0.05 if percent else 1e-9):
        delta_shown: str | int | None = 0
    else:
        delta_shown = format_delta(delta if delta is None or percent else round(delta, 1), percent=percent)
    st.metric(
        label,
        value_text if value_text is not None else format_count(figure.value),
        delta=delta_shown,
        delta_color="inverse" if inverse else "normal",
        help=help,
        border=True,
        height="stretch",  # as tall as the other cards of its row
    )


def customer_table(frame: pl.DataFrame, key: str, columns: dict[str, object], *, height: int | str = "auto") -> None:
    """A table of customers (it must have customer_id); selecting a row opens that profile."""
    event = st.dataframe(
        frame,
        key=key,
        hide_index=True,
        column_order=list(columns),
        column_config=columns,
        on_select="rerun",
        selection_mode="single-row",
        height=height,
        width="stretch",
    )
    rows = event.selection.rows if event is not None else []
    if rows and rows[0] < frame.height:
        open_profile(frame["customer_id"][rows[0]])


def utc_datetime(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Epoch-second columns as UTC datetimes, for the tables."""
    return frame.with_columns(
        pl.from_epoch(pl.col(c), time_unit="s").dt.replace_time_zone("UTC").alias(c) for c in columns
    )


def selected_value(event, frame: pl.DataFrame, column: str):
    """The `column` value of the row selected in a table drawn from `frame` (st.dataframe's
    selection event), or None."""
    rows = event.selection.rows if event is not None else []
    return frame[column][rows[0]] if rows and rows[0] < frame.height else None
