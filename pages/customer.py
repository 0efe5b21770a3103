"""Customer profile (customer?id=<customer id>): header figures, request graph, notes, request history."""

import math
import time
from datetime import date

import streamlit as st

from core.figures import STATUS_CLASSES, bucket_label, graph_bucket, peak
from core.periods import DAY, HOUR, custom_period
from core.usage import month_start, month_text
from db.reads import (
    endpoints as endpoint_reads,
    history,
    profile as profile_reads,
    quiet as quiet_reads,
    standing as standing_reads,
    usage as usage_reads,
)
from db.reads.history import ANY_AI_AGENT, NO_VALUE, HistoryFilter
from db.writes import edits
from ui import data
from ui.format import (
    HISTORY_COLUMNS,
    LOAD_TIME_FORMAT,
    NO_LOCATION,
    REQUEST_TIME,
    ago,
    format_count,
    format_ms,
    format_percent,
    format_time,
    history_table,
    json_list,
    plain,
    plural,
    pretty_json,
)
from ui.history import export_csv
from ui.links import share_with_customer
from ui.navigation import ENDPOINTS_PAGE
from ui.sidebar import ALL_APIS, current_view
from ui.signals import (
    ENDPOINT_COLUMNS,
    adoption_table,
    error_standing,
    p95_standing,
    quiet_line,
    quiet_rule,
    signals_now,
    standing_caption,
)
from ui.widgets import CONTROL_WIDTHS, PAGE_ROWS, selected_value, table_height

HISTORY_PAGE_SIZE = PAGE_ROWS
SUGGESTED = "Suggestions come from the latest requests; type any other value and press Enter."
THREAT_LEVELS = ("low", "medium", "high")
HISTORY_SORTS = {
    "time": "Time",
    "method": "Method",
    "status": "Response",
    "endpoint": "Name",
    "load_time_ms": "Load Time",
    "threat_level": "Threat Level",
    "device": "Device",
    "ai_agent": "AI Agent",
    "country": "Location",
}
FILTER_WIDGETS = ("history_methods", "history_statuses", "history_endpoints", "history_threats", "history_devices",
                  "history_ai_agents", "history_countries", "history_min_ms", "history_max_ms", "history_days")
FILTER_KEYS = ("history_search", *FILTER_WIDGETS, "_history_filter_values", "history_filters", "history_sort",
               "history_order", "history_page", "history_table")

view = current_view()
customer_id = st.query_params.get("id", "").strip()

if not customer_id:
    st.title("Customer")
    st.info("Open a customer from the Customers page, or link to `customer?id=<customer id>`.")
    st.page_link("pages/customers.py", label="All customers", icon=":material/group:")
    st.stop()

profile = data.read(profile_reads.customer_profile, customer_id, view.scope, view.analyst.key)
if profile is None:
    st.title("Customer not found")
    st.error(f"There is no customer with the ID “{plain(customer_id)}”. Check the link, or find the customer "
             "on the Customers page.", icon=":material/person_off:")
    st.page_link("pages/customers.py", label="All customers", icon=":material/group:")
    st.stop()

# A different customer: start the history afresh.
if st.session_state.get("_profile_of") != profile.customer_id:
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)
    st.session_state["_profile_of"] = profile.customer_id


# --- Header ---------------------------------------------------------------------------------------


def save_favorite() -> None:
    data.write(edits.save_favorite, view.analyst.key, profile.customer_id,
               bool(st.session_state[f"favorite_{profile.customer_id}"]))


def save_description() -> None:
    data.write(edits.save_description, profile.customer_id, st.session_state[f"description_{profile.customer_id}"] or "",
               view.analyst.key)
    st.toast("Description saved", icon=":material/check:")


def save_display_name() -> None:
    data.write(edits.save_display_name, profile.customer_id, st.session_state[f"display_name_{profile.customer_id}"])
    st.toast("Display name saved", icon=":material/check:")


title, star = st.columns([3, 1], vertical_alignment="bottom")  # room for the toggle at 820 px
with title:
    st.title(plain(profile.display_name))
    where = "every API" if view.api_name == ALL_APIS else plain(view.api_name)
    st.caption(f"Customer ID **{plain(profile.customer_id)}** · first seen {format_time(profile.first_seen)} · "
               f"last active {format_time(profile.last_seen)} · {where} · {view.period_text}")
with star:
    st.session_state[f"favorite_{profile.customer_id}"] = profile.favorite
    st.toggle("Favorite", key=f"favorite_{profile.customer_id}", on_change=save_favorite)

if profile.first_seen is None:
    st.info(f"This customer has made no requests to {plain(view.api_name)}. Choose “{ALL_APIS}” in the sidebar "
            "to see all of its traffic.")

# Three to a row: six figures in one row cut their numbers short on a laptop screen.
requests, share, last_active = st.columns(3)
error_rate, p50, p95 = st.columns(3)
requests.metric("Total Requests", format_count(profile.requests), border=True, help="Requests in the period")
share.metric("Share", format_percent(profile.share), border=True,
             help="Of all the API's requests in the period, unidentified ones included")
last_active.metric("Last active", ago(profile.last_seen, time.time()), border=True,
                   help=f"The customer's latest request: {format_time(profile.last_seen)}")
standing = data.read(standing_reads.peer_standing, profile.id, view.scope, signals_now())
peers_of = None if view.api_name == ALL_APIS else view.api_name
_, errors_rank = error_standing(standing)
_, p95_rank = p95_standing(standing)
error_rate.metric("Error rate", format_percent(profile.error_rate), border=True, delta=errors_rank,
                  delta_color="off", delta_arrow="off",
                  help=f"Responses 4xx and 5xx: {format_count(profile.errors)} of {format_count(profile.requests)}. "
                       + standing_caption(standing, peers_of))
p50.metric("p50 load time", format_ms(profile.p50_ms), border=True,
           help=f"Median load time (average {format_ms(profile.average_ms)}), from daily histograms")
p95.metric("p95 load time", format_ms(profile.p95_ms), border=True, delta=p95_rank, delta_color="off",
           delta_arrow="off", help="95th percentile load time. " + standing_caption(standing, peers_of))
if errors_rank or p95_rank:
    st.caption(f"Peer standing: {standing_caption(standing, peers_of)}")

rule = quiet_rule()
gone = data.read(quiet_reads.customer_quiet, profile.id, view.scope.api_id, signals_now(), rule)
if gone is not None:
    st.warning(quiet_line(gone, time.time(), rule), icon=":material/trending_down:")

# --- Request graph --------------------------------------------------------------------------------

st.subheader("Requests over time")
period = view.scope.period
since = period.since if period.since is not None else (profile.first_seen or 0) // HOUR * HOUR
until = period.until if period.until is not None else ((profile.last_seen or 0) // HOUR + 1) * HOUR
if profile.requests == 0 or until <= since:
    st.caption("No requests in this period.")
else:
    bucket = graph_bucket(since, until)
    wide = data.read(profile_reads.request_graph, profile.id, view.scope, bucket)
    busiest = peak(wide)
    st.vega_lite_chart(data.request_chart_spec(wide, bucket, since, until), width="stretch", key="request_graph")
    if busiest:
        start, count = busiest
        st.caption(f"Busiest {bucket_label(bucket)}: {plural(count, 'request')} from {format_time(start)}.")

# --- Endpoints ------------------------------------------------------------------------------------

st.subheader("Endpoints", help="Every endpoint the customer called: requests and errors in the period, "
                               "first and last call of all time")
endpoints = data.read(endpoint_reads.customer_endpoints, profile.id, view.scope)
if endpoints.is_empty():
    st.caption("No endpoint calls from this customer.")
else:
    picked = selected_value(
        st.dataframe(adoption_table(endpoints), key="profile_endpoints", hide_index=True, width="stretch",
                     column_order=["endpoint", *(["api"] if view.api_name == ALL_APIS else []), "requests", "errors",
                                   "error_rate", "first_call", "last_call"],
                     column_config=ENDPOINT_COLUMNS, on_select="rerun", selection_mode="single-row",
                     height=table_height(min(endpoints.height, PAGE_ROWS))),
        endpoints, "endpoint_id")
    st.caption("Select an endpoint to see every customer calling it.")
    if picked is not None:
        st.switch_page(ENDPOINTS_PAGE, query_params={"endpoint": str(picked)})

# --- Notes ----------------------------------------------------------------------------------------

notes, naming = st.columns([3, 1])
with notes:
    st.session_state[f"description_{profile.customer_id}"] = profile.description
    st.text_area("Description", key=f"description_{profile.customer_id}", on_change=save_description,
                 placeholder="Notes about this customer: plan, contacts, context…", height=100,
                 help="Shared by every analyst")
    if profile.description_at is not None:
        by = f" by {plain(profile.description_by)}" if profile.description_by else ""
        st.caption(f"Last edited{by} {format_time(profile.description_at)}")
with naming:
    st.session_state[f"display_name_{profile.customer_id}"] = profile.custom_name or ""
    st.text_input("Display name", key=f"display_name_{profile.customer_id}", on_change=save_display_name,
                  placeholder=profile.name_from_traffic or profile.customer_id,
                  help="Shown instead of the customer ID. Empty: the name from traffic, else the ID.")

# --- Monthly quota --------------------------------------------------------------------------------

this_month = month_start(time.time())
st.subheader("Monthly quota", help="Billable requests a month (UTC calendar months), per API: the customer's own "
             "quota, else the API's default. Quota alerts fire at 80% and 100% (the Alerts page).")
quotas = data.read(usage_reads.customer_quotas, profile.id)
month_usage = data.read(usage_reads.customer_month, profile.id, view.scope.api_id, this_month)
if not month_usage.is_empty():
    st.dataframe(
        month_usage.select("api", "billable_requests", "quota", "quota_used", "requests"), key="profile_usage",
        hide_index=True, width="stretch",
        column_config={
            "api": st.column_config.TextColumn("API"),
            "billable_requests": st.column_config.NumberColumn(f"Billable in {month_text(this_month)}",
                                                               format="localized"),
            "quota": st.column_config.NumberColumn("Quota", format="localized"),
            "quota_used": st.column_config.ProgressColumn("Quota used", format="percent", min_value=0.0,
                                                          max_value=1.0),
            "requests": st.column_config.NumberColumn("Requests", format="localized"),
        })
if not quotas.is_empty():
    quota_api, quota_value = st.columns([1, 1])
    api_names = quotas["api"].to_list()
    if view.scope.api_id is None:
        chosen = quota_api.selectbox("API", api_names, key=f"quota_api_{profile.customer_id}")
    else:
        chosen = view.api_name
        quota_api.text_input("API", chosen, disabled=True, key=f"quota_api_shown_{profile.customer_id}")
    if chosen in api_names:
        row = quotas.row(api_names.index(chosen), named=True)
        key = f"quota_{profile.customer_id}_{row['api_id']}"
        st.session_state[key] = row["own"] or 0
        default = f"the API's default, {format_count(row['default'])}" if row["default"] else "none"
        quota_value.number_input(
            "Monthly quota", min_value=0, step=1000, key=key,
            on_change=lambda: data.write(edits.save_quota, row["api_id"], profile.customer_id,
                                         int(st.session_state[key]), view.analyst.email),
            help=f"Billable requests a month for this customer on {chosen}; 0: {default}.")

# --- Request history ------------------------------------------------------------------------------

st.subheader("Request history")
options = data.read(history.history_options, profile.id, view.scope)


def first_history_page() -> None:
    st.session_state.pop("history_page", None)


with st.container(horizontal=True, key="history_controls"):  # on a narrow screen, what does not fit wraps
    search = st.text_input("Search path or endpoint", key="history_search", icon=":material/search:",
                           placeholder="/api/orders, {id}, refund…", on_change=first_history_page,
                           width=CONTROL_WIDTHS[0])
    sort = st.selectbox("Sort by", list(HISTORY_SORTS), format_func=HISTORY_SORTS.get, key="history_sort",
                        on_change=first_history_page, width=CONTROL_WIDTHS[1])
    order = st.segmented_control("Order", ["Descending", "Ascending"], default="Descending", key="history_order",
                                 on_change=first_history_page, width="content")

# The filters are drawn only while their expander is open: ten widgets drawn hidden on every visit
# slow the page's first paint in the browser. While it is closed, the values last chosen still apply.
filters_panel = st.expander("Filters", icon=":material/filter_list:", key="history_filters", on_change="rerun")
chosen = st.session_state.get("_history_filter_values", {})
if filters_panel.open:
    for key, value in chosen.items():  # reopened: the widgets start from the values that applied
        st.session_state.setdefault(key, value)
    with filters_panel:
        row1 = st.columns(4)
        row1[0].multiselect("Method", options["methods"], key="history_methods", on_change=first_history_page)
        row1[1].multiselect("Response", [*STATUS_CLASSES, *map(str, options["statuses"])], key="history_statuses",
                            on_change=first_history_page)
        row1[2].multiselect("Name", options["endpoints"], key="history_endpoints", accept_new_options=True,
                            on_change=first_history_page, help=SUGGESTED)
        row1[3].multiselect("Threat Level", THREAT_LEVELS, key="history_threats", on_change=first_history_page)
        row2 = st.columns(4)
        row2[0].multiselect("Device", options["devices"], key="history_devices", on_change=first_history_page)
        row2[1].multiselect("AI Agent", [ANY_AI_AGENT, NO_VALUE, *options["ai_agents"]], accept_new_options=True,
                            key="history_ai_agents", on_change=first_history_page, help=SUGGESTED)
        row2[2].multiselect("Location", [*options["countries"], NO_VALUE], key="history_countries",
                            format_func=lambda country: NO_LOCATION if country == NO_VALUE else country,
                            accept_new_options=True, on_change=first_history_page,
                            help="Country code of the client's IP address. " + SUGGESTED)
        with row2[3]:
            low, high = st.columns(2)
            low.number_input("Min load (ms)", min_value=0.0, value=None, step=10.0, key="history_min_ms",
                             on_change=first_history_page)
            high.number_input("Max load (ms)", min_value=0.0, value=None, step=10.0, key="history_max_ms",
                              on_change=first_history_page)
        st.date_input("Time (UTC days)", value=[], key="history_days", on_change=first_history_page,
                      help="Narrow the history to these days within the period")
    chosen = {key: st.session_state[key] for key in FILTER_WIDGETS}
    st.session_state["_history_filter_values"] = chosen
methods, statuses, endpoints, threats, devices, agents, countries = (
    chosen.get(key) or [] for key in FILTER_WIDGETS[:7])
min_ms, max_ms = chosen.get("history_min_ms"), chosen.get("history_max_ms")
days = chosen.get("history_days") or []

day_since = day_until = None
if isinstance(days, (list, tuple)) and len(days) == 2 and all(isinstance(d, date) for d in days):
    day_range = custom_period(days[0].isoformat(), days[1].isoformat())
    day_since, day_until = day_range.since, day_range.until

filters = HistoryFilter(
    methods=tuple(methods), statuses=tuple(statuses), endpoints=tuple(endpoints), threat_levels=tuple(threats),
    devices=tuple(devices), ai_agents=tuple(agents), countries=tuple(countries), min_load_ms=min_ms,
    max_load_ms=max_ms, since=day_since, until=day_until, search=search or "",
)
descending = order != "Ascending"
total = data.read(history.history_count, profile.id, view.scope, filters)
pages = max(1, math.ceil(total / HISTORY_PAGE_SIZE))
page_number = min(st.session_state.get("history_page", 1), pages)
rows = data.read(history.history, profile.id, view.scope, filters, sort, descending, HISTORY_PAGE_SIZE,
                 (page_number - 1) * HISTORY_PAGE_SIZE)

# Raw requests before the last prune's cutoff are gone; the figures above, from the rollups, still count them.
cutoff = data.read(history.pruned_before)
pruned = (cutoff is not None and profile.first_seen is not None and profile.first_seen < cutoff
          and (period.since is None or period.since < cutoff))
pruned_text = f"Requests before {format_time(cutoff)} were pruned; the figures above still count them."
if total == 0:
    if filters.active:
        st.info("No requests match these filters." + (f" {pruned_text}" if pruned else ""))
    elif pruned:
        st.info(f"No requests kept in this period. {pruned_text}")
    else:
        st.info("No requests in this period.")
else:
    first = (page_number - 1) * HISTORY_PAGE_SIZE + 1
    summary, export = st.columns([4, 1], vertical_alignment="center")
    summary.caption(f"{format_count(first)}–{format_count(first + rows.height - 1)} of {plural(total, 'request')}"
                    f"{' matching the filters' if filters.active else ''}. Select a request to see its details.")
    if pruned:
        st.caption(pruned_text)
    with export, st.container(horizontal_alignment="right"):
        export_csv(profile, view, filters, sort, descending, total)
    event = st.dataframe(
        history_table(rows),
        key="history_table",
        hide_index=True,
        column_order=HISTORY_COLUMNS,
        column_config={
            "Response": st.column_config.NumberColumn("Response", format="%d"),
            "Load Time": st.column_config.NumberColumn("Load Time", format=LOAD_TIME_FORMAT),
            "Time": st.column_config.DatetimeColumn("Time", format=REQUEST_TIME, help="UTC"),
            "Name": st.column_config.TextColumn("Name", width="medium"),
        },
        on_select="rerun",
        selection_mode="single-row",
        width="stretch",
        height=table_height(rows.height),
    )
    if pages > 1:
        st.pagination(pages, key="history_page")
    selected = event.selection.rows if event is not None else []
    if selected and selected[0] < rows.height:
        detail = data.read(history.request_detail, profile.id, int(rows["id"][selected[0]]))
        if detail is not None:
            with st.container(border=True):
                st.subheader(f"{plain(detail['method'])} {plain(detail['path'])}")
                st.caption(f"Request {detail['id']} · {format_time(detail['ts'])} · response {detail['status']} · "
                           f"{format_ms(detail['load_time_ms'])}")
                facts, threat = st.columns([3, 2])
                with facts:
                    location = ", ".join(v for v in (detail["city"], detail["country"]) if v) or NO_LOCATION
                    st.dataframe(
                        {
                            "Field": ["Endpoint", "Query", "Size", "IP", "Location", "Device", "OS", "Browser",
                                      "AI agent", "User agent", "SDK"],
                            "Value": [detail["endpoint"], detail["query"] or "—",
                                      "—" if detail["size"] is None else str(detail["size"]),
                                      detail["ip"] or "—", location, detail["device"], detail["os"] or "—",
                                      detail["browser"] or "—", detail["ai_agent"] or "—", detail["user_agent"] or "—",
                                      detail["sdk"] or "—"],
                        },
                        hide_index=True, width="stretch", key="request_facts", height=35 * 12 + 3,
                    )
                with threat:
                    st.markdown(f"**Threat level:** {detail['threat_level']}")
                    reasons = json_list(detail["threat_reasons"])
                    st.text("\n".join(f"• {r}" for r in reasons) if reasons else "No threat found.")
                    errors = json_list(detail["errors"])
                    st.markdown(f"**Errors:** {len(errors)}")
                    if errors:
                        st.code(pretty_json(detail["errors"]), language="json")
                tabs = st.tabs(["Request headers", "Request body", "Response headers", "Response body"])
                for tab, column in zip(tabs, ("request_headers", "request_body", "response_headers", "response_body")):
                    with tab:
                        st.code(pretty_json(detail[column]), language="json", wrap_lines=True)
                st.caption("Authorization, cookies, API keys and password-like fields are masked before storage.")

if profile.requests and view.scope.period.since is not None and view.scope.period.since % DAY:
    st.caption("p50/p95 load times come from daily histograms of the days the period touches.")

share_with_customer(profile, view)
