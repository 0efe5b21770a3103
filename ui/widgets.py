"""Small building blocks the pages share: metrics with their change, customer tables that open
a profile when a row is selected, an API's pages while it waits for its first request."""

from __future__ import annotations

import math

import polars as pl
import streamlit as st

from core.figures import Figure
from services.settings import collector_url, settings
from ui.format import format_count, format_delta, inline_code, plain
from ui.sidebar import View, open_profile

# Narrower than "medium" (200 px) so that with Requests and Share it fits a half-width card on a
# 1280-pixel screen; columns grow to fill wider cards.
NAME = st.column_config.TextColumn("Customer", width=170)
SHARE = st.column_config.NumberColumn(
    "Share", format="%.1f%%", help="Of all the API's requests in the period", width="small"
)
REQUESTS = st.column_config.NumberColumn("Requests", format="localized", width="small")
ROW_HEIGHT = 35  # st.dataframe's rows and header, in CSS pixels
PAGE_ROWS = 50  # rows of a table page: the customers list, the request history, any long list
# A table's search box and sort box, side by side with its order buttons where they fit (in a
# horizontal container, which wraps them on a narrow screen rather than cutting them off).
CONTROL_WIDTHS = (320, 180)


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


def table_height(rows: int) -> int:
    """The height of a table that shows its header and all its `rows`, with no scrollbar of its own
    inside the page's (the page is the one that scrolls)."""
    return ROW_HEIGHT * (rows + 1) + 3  # and the frame's border


def customer_table(frame: pl.DataFrame, key: str, columns: dict[str, object], *, paged: bool = False) -> None:
    """A table of customers (it must have customer_id), every row shown; selecting a row opens that
    profile. paged: a long frame is shown PAGE_ROWS at a time, with the pages below."""
    pages = math.ceil(frame.height / PAGE_ROWS) if paged else 1
    if pages > 1:
        page = min(st.session_state.get(f"{key}_page", 1), pages)
        frame = frame.slice((page - 1) * PAGE_ROWS, PAGE_ROWS)
    event = st.dataframe(
        frame,
        key=key,
        hide_index=True,
        column_order=list(columns),
        column_config=columns,
        on_select="rerun",
        selection_mode="single-row",
        height=table_height(frame.height),
        width="stretch",
    )
    if pages > 1:
        st.pagination(pages, key=f"{key}_page")
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


def waiting_for_first_request(view: View) -> None:
    """While the API chosen has had no request, its page says so, where its traffic goes and with
    which key, and stops: below would be only empty figures."""
    if view.waiting is None:
        return
    collector = collector_url(settings())
    st.info(f"**{plain(view.waiting.name)}** is waiting for the first request. Point a Treblle SDK (or anything "
            f"that sends its payloads) at the collector, {inline_code(collector.url)}, with the API's key (the one "
            f"that starts with {inline_code(view.waiting.key_prefix)}) as the project ID. Its customers show here "
            "from the first request the collector stores.", icon=":material/hourglass_empty:")
    if collector.note:  # the dashboard's settings may not be the collector's
        st.caption(plain(collector.note[:1].upper() + collector.note[1:]) + ".")
    st.stop()
