"""Customers: every customer with requests in the period; search, sort, page; a row opens its profile."""

import math

import streamlit as st

from db.reads import customers, quiet
from ui import data
from ui.format import WHEN, format_count, plain, plural
from ui.sidebar import ALL_APIS, current_view
from ui.signals import QUIET_COLUMNS, quiet_rule, quiet_rule_text, quiet_table, signals_now
from ui.widgets import (
    CONTROL_WIDTHS,
    NAME,
    PAGE_ROWS,
    REQUESTS,
    SHARE,
    customer_table,
    utc_datetime,
    waiting_for_first_request,
)

PAGE_SIZE = PAGE_ROWS
SORTS = {
    "requests": "Requests",
    "share": "Share",
    "last_active": "Last active",
    "first_seen": "First seen",
    "display_name": "Name",
    "customer_id": "Customer ID",
    "favorite": "Favorite",
}

view = current_view()


def first_page() -> None:
    st.session_state.pop("customers_page", None)


st.title("Customers")
where = "every API" if view.api_name == ALL_APIS else plain(view.api_name)
st.caption(f"Customers with requests to {where} · {view.period_text}. Select a row to open the profile.")
waiting_for_first_request(view)

if "customers_quiet" not in st.session_state:
    st.session_state["customers_quiet"] = st.query_params.get("quiet") == "1"
rule = quiet_rule()
if st.toggle("Gone quiet only", key="customers_quiet", help=quiet_rule_text(rule) + " Largest drop first."):
    flagged = data.read(quiet.gone_quiet, view.scope.api_id, signals_now(), rule)
    have = "has" if flagged.height == 1 else "have"
    st.caption(f"{plural(flagged.height, 'customer')} of {where} {have} gone quiet, judged as of now "
               "(the period does not apply). Select a row to open the profile.")
    if flagged.is_empty():
        st.info("No customer has gone quiet.")
    else:
        customer_table(quiet_table(flagged), "customers_quiet_table",
                       {"display_name": st.column_config.TextColumn("Customer", width="medium"),
                        "customer_id": st.column_config.TextColumn("Customer ID"), **QUIET_COLUMNS},
                       paged=True)
    st.stop()

with st.container(horizontal=True, key="customers_controls"):  # on a narrow screen, what does not fit wraps
    search = st.text_input("Search customers", key="customers_search", placeholder="Customer ID or name",
                           icon=":material/search:", on_change=first_page, width=CONTROL_WIDTHS[0])
    sort = st.selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="customers_sort", on_change=first_page,
                        width=CONTROL_WIDTHS[1])
    order = st.segmented_control("Order", ["Descending", "Ascending"], default="Descending", key="customers_order",
                                 on_change=first_page, width="content")

page_number = st.session_state.get("customers_page", 1)
rows, total = data.read(customers.customer_page, view.scope, search, sort, order != "Ascending", page_number, PAGE_SIZE,
                        view.analyst.key)
pages = max(1, math.ceil(total / PAGE_SIZE))
if page_number > pages:  # the period or new data shrank the list
    page_number = 1
    st.session_state.pop("customers_page", None)
    rows, total = data.read(customers.customer_page, view.scope, search, sort, order != "Ascending", 1, PAGE_SIZE,
                            view.analyst.key)

if total == 0:
    if search.strip():
        st.info("No customer matches this search in the period.")
    else:
        st.info("No customer made a request in this period.")
else:
    first = (page_number - 1) * PAGE_SIZE + 1
    st.caption(f"{format_count(first)}–{format_count(first + rows.height - 1)} of {plural(total, 'customer')}")
    table = utc_datetime(rows, "last_active", "first_seen").with_columns(
        rows["favorite"].replace_strict({True: "★", False: ""}, return_dtype=str).alias("star")
    )
    customer_table(
        table,
        "customers_table",
        {  # the figures beside the name: on a narrow screen the columns past them scroll sideways
            "display_name": NAME,
            "requests": REQUESTS,
            "share": SHARE,
            "last_active": st.column_config.DatetimeColumn("Last active", format=WHEN, help="UTC"),
            "customer_id": st.column_config.TextColumn("Customer ID"),
            "star": st.column_config.TextColumn("Favorite", width="small"),
        },
    )
if pages > 1:
    st.pagination(pages, key="customers_page")
