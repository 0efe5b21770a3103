"""Usage: a month's requests, billable requests, errors and quota per customer (per customer and
API with every API), a bar per customer against their quota; search, sort, page; CSV and Parquet."""

import math
import time
from functools import partial

import streamlit as st

from core.usage import month_text, recent_months
from db.reads import usage
from ui import data
from ui.format import format_count, plain, plural
from ui.sidebar import ALL_APIS, current_view
from ui.usage import file_stem, usage_file
from ui.widgets import CONTROL_WIDTHS, NAME, PAGE_ROWS, customer_table

MONTHS_SHOWN = 24
SORTS = {
    "billable_requests": "Billable requests",
    "requests": "Requests",
    "errors": "Errors",
    "quota_used": "Quota used",
    "display_name": "Name",
    "customer_id": "Customer ID",
}

view = current_view()


def first_page() -> None:
    st.session_state.pop("usage_page", None)


st.title("Usage")
where = "every API" if view.api_name == ALL_APIS else plain(view.api_name)
st.caption(f"Each customer's requests to {where} in a calendar month (UTC; this month runs to now), for billing. "
           "Billable: every request but those the API leaves out (5xx unless set otherwise: `footfall apis billable`). "
           "The sidebar's period does not apply. Select a row to open the profile.")

months = recent_months(time.time(), MONTHS_SHOWN)
with st.container(horizontal=True, key="usage_controls"):
    month = st.selectbox("Month", months, format_func=month_text, key="usage_month", on_change=first_page,
                         width=CONTROL_WIDTHS[1])
    search = st.text_input("Search customers", key="usage_search", placeholder="Customer ID or name",
                           icon=":material/search:", on_change=first_page, width=CONTROL_WIDTHS[0])
    sort = st.selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="usage_sort", on_change=first_page,
                        width=CONTROL_WIDTHS[1])
    order = st.segmented_control("Order", ["Descending", "Ascending"], default="Descending", key="usage_order",
                                 on_change=first_page, width="content")

page_number = st.session_state.get("usage_page", 1)
rows, total = data.read(usage.usage_page, view.scope.api_id, month, search, sort, order != "Ascending", page_number,
                        PAGE_ROWS)
pages = max(1, math.ceil(total / PAGE_ROWS))
if page_number > pages:  # another month or new data shrank the list
    page_number = 1
    st.session_state.pop("usage_page", None)
    rows, total = data.read(usage.usage_page, view.scope.api_id, month, search, sort, order != "Ascending", 1,
                            PAGE_ROWS)

if total == 0:
    st.info("No customer matches this search in the month." if search.strip()
            else f"No customer called {where} in {month_text(month)}.")
else:
    first = (page_number - 1) * PAGE_ROWS + 1
    st.caption(f"{format_count(first)}–{format_count(first + rows.height - 1)} of {plural(total, 'row')}")
    columns = {"display_name": NAME}
    if view.scope.api_id is None:
        columns["api"] = st.column_config.TextColumn("API")
    columns.update({
        "billable_requests": st.column_config.NumberColumn("Billable", format="localized",
                                                           help="Requests but those the API leaves out of billing"),
        "quota_used": st.column_config.ProgressColumn("Quota used", format="percent", min_value=0.0, max_value=1.0,
                                                      help="Billable requests over the monthly quota (empty: none)"),
        "quota": st.column_config.NumberColumn("Quota", format="localized", help="Billable requests a month"),
        "requests": st.column_config.NumberColumn("Requests", format="localized"),
        "errors": st.column_config.NumberColumn("Errors", format="localized", help="Answered 4xx or 5xx"),
        "customer_id": st.column_config.TextColumn("Customer ID"),
    })
    customer_table(rows, "usage_table", columns)
if pages > 1:
    st.pagination(pages, key="usage_page")

if total:
    stem = file_stem(None if view.scope.api_id is None else view.api_name, month_text(month))
    with st.container(horizontal=True, key="usage_downloads"):
        for kind, label, mime in (("csv", "Download CSV", "text/csv"),
                                  ("parquet", "Download Parquet", "application/vnd.apache.parquet")):
            st.download_button(label, data=partial(usage_file, data.db_path(), view.scope.api_id, month, kind),
                               file_name=f"{stem}.{kind}", mime=mime, icon=":material/download:", key=f"usage_{kind}",
                               on_click="ignore",
                               help=f"Every row of {month_text(month)} (the search does not apply), "
                                    f"as {'CSV' if kind == 'csv' else 'Parquet'}")
