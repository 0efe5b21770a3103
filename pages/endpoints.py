"""Endpoints: every endpoint with its customers in the period; pick one to see who calls it, who
started and who moved off it (called it before the period and not in it)."""

import streamlit as st

from db.reads import endpoints as endpoint_reads
from ui import data
from ui.format import format_count, format_percent, plain
from ui.sidebar import ALL_APIS, current_view
from ui.signals import (
    ADOPTION_COLUMNS,
    ENDPOINT_COLUMNS,
    MOVED_OFF_COLUMNS,
    adoption_table,
    callers_caption,
    endpoint_table,
    signals_now,
)
from ui.widgets import PAGE_ROWS, customer_table, selected_value, table_height, waiting_for_first_request

view = current_view()
where = "every API" if view.api_name == ALL_APIS else plain(view.api_name)

st.title("Endpoints")
st.caption(f"Endpoints of {where} called by customers · {view.period_text}. Pick one to see its customers.")
waiting_for_first_request(view)

endpoints = data.read(endpoint_reads.endpoint_list, view.scope)
if endpoints.is_empty():
    st.info("No customer has called an endpoint yet. Send traffic to the collector, or fill a demo database "
            "with `python -m footfall demo`.")
    st.stop()

picked = selected_value(
    st.dataframe(endpoint_table(endpoints), key="endpoints_table", hide_index=True, width="stretch",
                 column_order=["endpoint", *(["api"] if view.api_name == ALL_APIS else []), "customers", "requests",
                               "errors", "error_rate"],
                 column_config=ENDPOINT_COLUMNS, height=table_height(min(endpoints.height, PAGE_ROWS)),
                 on_select="rerun", selection_mode="single-row"),
    endpoints, "endpoint_id")

labels = {row["endpoint_id"]: row["endpoint"] if view.api_name != ALL_APIS else f"{row['api']} · {row['endpoint']}"
          for row in endpoints.iter_rows(named=True)}
# A row just picked wins; else a link to one endpoint (?endpoint=ID, as a profile opens it).
linked = next((eid for eid in labels if str(eid) == st.query_params.get("endpoint")), None)
if picked is not None and picked != st.session_state.get("_endpoint_picked"):
    st.session_state["endpoint_choice"] = picked
elif linked is not None and st.query_params.get("endpoint") != st.session_state.get("_endpoint_in_url"):
    st.session_state["endpoint_choice"] = linked
st.session_state["_endpoint_picked"] = picked
chosen = st.selectbox("Endpoint", list(labels), format_func=labels.get, key="endpoint_choice")
st.query_params["endpoint"] = st.session_state["_endpoint_in_url"] = str(chosen)

summary = data.read(endpoint_reads.endpoint_summary, chosen, view.scope)
callers, requests, new, moved = st.columns(4)
callers.metric("Customers", format_count(summary.customers), border=True, help="Customers who called it in the period")
requests.metric("Requests", format_count(summary.requests), border=True,
                delta=f"{format_percent(summary.error_rate)} errors",
                delta_color="off", delta_arrow="off", help="Their requests in the period, and the share that failed")
new.metric("New customers", format_count(summary.new_customers), border=True,
           help="Customers whose first call of this endpoint fell in the period")
moved.metric("Moved off", format_count(summary.moved_off), border=True,
             help="Customers who called it before the period and not in it")

shown = st.segmented_control(
    "Customers", ["calling", "moved_off"], default="calling", key="endpoint_list_shown", label_visibility="collapsed",
    format_func={"calling": f"Calling it ({format_count(summary.customers)})",
                 "moved_off": f"Moved off ({format_count(summary.moved_off)})"}.get)
if shown == "moved_off":
    rows = data.read(endpoint_reads.endpoint_moved_off, chosen, view.scope, endpoint_reads.TOP_CALLERS)
    if rows.is_empty():
        st.caption("Nobody moved off it: every customer who called it before the period called it in the period too.")
    else:
        if summary.moved_off > rows.height:
            st.caption(f"The {format_count(rows.height)} who called it last, of {format_count(summary.moved_off)}.")
        customer_table(adoption_table(rows), "endpoint_moved_off", MOVED_OFF_COLUMNS, paged=True)
else:
    top = data.read(endpoint_reads.endpoint_top_callers, chosen, view.scope, signals_now())
    if top.rows.is_empty():
        st.caption("No customer called it in this period.")
    else:
        st.caption(callers_caption(top, summary.customers))
        customer_table(adoption_table(top.rows), "endpoint_customers", ADOPTION_COLUMNS, paged=True)
