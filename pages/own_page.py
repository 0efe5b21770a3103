"""A customer's own page (/?link=<token>): their usage through a signed, expiring, revocable link,
with no sign-in. Only this customer and the link's API: requests, error rate, latency, the request
graph, their endpoints, and their latest requests with bodies when the link was made with them."""

import time

import streamlit as st

from core.figures import bucket_label, graph_bucket, peak
from core.links import DEFAULT_SHARED_PERIOD, INVALID_LINK, SHARED_PERIODS
from core.periods import preset_period
from core.usage import month_start, month_text
from db.reads import own_page
from ui import data
from ui.format import (
    LOAD_TIME_FORMAT,
    PERIOD_LABELS,
    REQUEST_TIME,
    WHEN,
    format_count,
    format_ms,
    format_percent,
    format_time,
    plain,
    plural,
    pretty_json,
)
from ui.links import endpoints_table, latest_table, opened_link

link = opened_link()
if link is None:
    st.title("Footfall")
    st.warning(INVALID_LINK, icon=":material/link_off:")
    st.stop()

header = st.container()
period_key = st.segmented_control("Period", SHARED_PERIODS, default=DEFAULT_SHARED_PERIOD, format_func=PERIOD_LABELS.get,
                                  key="shared_period") or DEFAULT_SHARED_PERIOD
period = preset_period(period_key, time.time())
summary = data.read(own_page.shared_summary, link, period)
with header:
    st.title(plain(summary.display_name))
    where = plain(summary.api_name) if summary.api_name else "every API"
    st.caption(f"Your usage of {where} · {PERIOD_LABELS[period_key]} · times in UTC · "
               f"this page can be opened until {format_time(link.expires_at)}")

requests, error_rate, p50, p95 = st.columns(4)
requests.metric("Total Requests", format_count(summary.requests), border=True, help="Requests in the period")
error_rate.metric("Error rate", format_percent(summary.error_rate), border=True,
                  help=f"Responses 4xx and 5xx: {format_count(summary.errors)} of {format_count(summary.requests)}")
p50.metric("p50 load time", format_ms(summary.p50_ms), border=True, help="Median load time, from daily histograms")
p95.metric("p95 load time", format_ms(summary.p95_ms), border=True, help="95th percentile load time")

st.subheader("This month")
this_month = month_start(time.time())
month_usage = data.read(own_page.shared_usage, link, this_month)
if month_usage.is_empty():
    st.caption(f"No requests in {month_text(this_month)} yet (UTC), and no monthly quota.")
for row in month_usage.iter_rows(named=True):
    with st.container(border=True, key=f"shared_usage_{row['api']}"):
        quota = row["quota"]
        used = (f"{format_count(row['billable_requests'])} of your {format_count(quota)} billable requests"
                if quota else f"{format_count(row['billable_requests'])} billable requests (no monthly quota)")
        where = "" if summary.api_name else f" on {plain(row['api'])}"
        st.markdown(f"**{month_text(this_month)}{where}:** {used} · {format_count(row['requests'])} requests in all")
        if quota:
            st.progress(min(row["quota_used"], 1.0), text=f"{format_percent(100 * row['quota_used'])} of your quota")

st.subheader("Requests over time")
if summary.requests == 0:
    st.caption("No requests in this period.")
else:
    bucket = graph_bucket(period.since, period.until)
    wide = data.read(own_page.shared_graph, link, period, bucket)
    st.vega_lite_chart(data.request_chart_spec(wide, bucket, period.since, period.until), width="stretch",
                       key="shared_graph")
    busiest = peak(wide)
    if busiest:
        start, count = busiest
        st.caption(f"Busiest {bucket_label(bucket)}: {plural(count, 'request')} from {format_time(start)}.")

st.subheader("Endpoints")
endpoints = data.read(own_page.shared_endpoints, link, period)
if endpoints.is_empty():
    st.caption("No endpoints called yet.")
else:
    st.dataframe(
        endpoints_table(endpoints, every_api=summary.api_name is None), key="shared_endpoints", hide_index=True,
        width="stretch",
        column_config={
            "Endpoint": st.column_config.TextColumn("Endpoint", width="large"),
            "Requests": st.column_config.NumberColumn("Requests", help="In the period", format="%d"),
            "Errors": st.column_config.NumberColumn("Errors", help="4xx and 5xx in the period", format="%d"),
            "First call": st.column_config.DatetimeColumn("First call", format=WHEN, help="UTC"),
            "Last call": st.column_config.DatetimeColumn("Last call", format=WHEN, help="UTC"),
        },
    )

if link.show_bodies:
    st.subheader("Latest requests")
    latest = data.read(own_page.shared_latest_requests, link, period)
    if latest.is_empty():
        st.caption("No requests in this period.")
    else:
        st.caption(f"The newest {plural(latest.height, 'request')} of the period. Select one to see its bodies; "
                   "authorization, cookies, keys and password-like fields are masked.")
        event = st.dataframe(
            latest_table(latest, every_api=summary.api_name is None), key="shared_latest", hide_index=True,
            width="stretch", on_select="rerun", selection_mode="single-row",
            column_config={
                "Time": st.column_config.DatetimeColumn("Time", format=REQUEST_TIME, help="UTC"),
                "Path": st.column_config.TextColumn("Path", width="large"),
                "Response": st.column_config.NumberColumn("Response", format="%d"),
                "Load Time": st.column_config.NumberColumn("Load Time", format=LOAD_TIME_FORMAT),
            },
        )
        rows = event.selection.rows if event is not None else []
        chosen = rows[0] if rows and rows[0] < latest.height else 0  # none selected: the newest
        request = latest.row(chosen, named=True)
        with st.container(border=True, key="shared_request"):
            st.markdown(f"**{plain(request['method'])} {plain(request['path'])}** · response {request['status']} · "
                        f"{format_time(request['time'])}")
            body, response = st.tabs(["Request body", "Response body"])
            body.code(pretty_json(request["request_body"]), language="json", wrap_lines=True)
            response.code(pretty_json(request["response_body"]), language="json", wrap_lines=True)
