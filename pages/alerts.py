"""Alerts: create a rule (one customer or every customer of an API), the rules with a remove button
each, and the firings, newest first, each customer a link to their profile."""

from urllib.parse import quote

import polars as pl
import streamlit as st

from core.alerts import KINDS
from db.reads import alerts as alert_reads, sidebar as sidebar_reads, usage as usage_reads
from db.writes import edits
from services.settings import settings
from services.webhook import where
from ui import data
from ui.format import WHEN, format_count, format_time, inline_code, plain
from ui.sidebar import current_view
from ui.widgets import utc_datetime

THRESHOLD_STEPS = {"spike": 0.5, "drop": 0.05, "error_rate": 0.05, "p95": 50.0}

view = current_view()


def create_rule(api_id: int) -> None:
    """The Create rule button: the rule the widgets describe, or why it cannot be, shown once on
    the run it starts."""
    kind = st.session_state["alert_kind"]
    threshold = float(st.session_state.get(f"alert_threshold_{kind}", KINDS[kind].default))
    customer_id = (st.session_state.get("alert_customer") or "").strip() or None
    try:
        rule_id = data.write(edits.add_alert_rule, api_id, customer_id, kind, threshold, view.analyst.email)
    except ValueError as error:
        st.session_state["_alert_outcome"] = ("refused", str(error))
    else:
        st.session_state["_alert_outcome"] = ("created", f"Rule {rule_id} created.")


webhook = settings().alert_webhook

st.title("Alerts")
st.caption("The running collector checks every rule each minute (FOOTFALL_ALERT_INTERVAL; or `footfall alerts check` "
           "from cron). A rule fires once per customer per episode: again only after it stopped holding.")
if webhook:
    st.caption(f"Webhook: each firing is sent to {inline_code(where(webhook))} (FOOTFALL_ALERT_WEBHOOK), as "
               "Slack-compatible JSON.")
else:
    st.info("No webhook is set (FOOTFALL_ALERT_WEBHOOK), so firings are only recorded here: none is sent. To have "
            "them sent, set FOOTFALL_ALERT_WEBHOOK to a Slack-compatible webhook for the collector and restart it; "
            "it then sends new firings and those of the last 7 days.", icon=":material/notifications_off:")

# --- A new rule -----------------------------------------------------------------------------------

st.subheader("New rule")
apis = data.read(sidebar_reads.api_choices)
if apis.is_empty():
    st.info("No API yet: register one with `footfall apis add NAME`.")
else:
    api_column, customer_column, kind_column, threshold_column = st.columns([1.2, 1.2, 1.4, 1.1])
    with api_column:
        if view.scope.api_id is None:
            api_name = st.selectbox("API", apis["name"].to_list(), key="alert_api")
            api_id = int(apis.filter(pl.col("name") == api_name)["id"][0])
        else:  # the sidebar's API
            api_id = view.scope.api_id
            st.text_input("API", view.api_name, disabled=True, key="alert_api_shown",
                          help="The API chosen in the sidebar; choose All APIs there to pick another.")
    with customer_column:
        st.text_input("Customer ID", key="alert_customer", placeholder="Every customer of the API",
                                    help="Leave empty to watch every customer of the API, each on their own.")
    with kind_column:
        kind = st.selectbox("Kind", list(KINDS), format_func=lambda k: KINDS[k].label, key="alert_kind")
    with threshold_column:
        st.number_input("Threshold", min_value=0.0, max_value=KINDS[kind].high, value=KINDS[kind].default,
                                    step=THRESHOLD_STEPS[kind], key=f"alert_threshold_{kind}", help=KINDS[kind].help)
    st.caption(KINDS[kind].help)
    st.button("Create rule", type="primary", icon=":material/add_alert:", key="alert_create", on_click=create_rule,
              args=(api_id,))
    outcome, message = st.session_state.pop("_alert_outcome", (None, ""))
    if outcome == "created":
        st.success(message, icon=":material/check_circle:")
    elif outcome == "refused":
        st.error(plain(message), icon=":material/error:")  # it may quote the customer ID typed

# --- The rules ------------------------------------------------------------------------------------

st.subheader("Rules")
rules = data.read(alert_reads.alert_rules)
if rules.is_empty():
    st.info("No alert rules yet.")
for rule in rules.iter_rows(named=True):
    with st.container(border=True, key=f"alert_rule_{rule['rule_id']}"):
        text_column, open_column, button_column = st.columns([6, 2, 1.5], vertical_alignment="center")
        by = f" by {plain(rule['created_by'])}" if rule["created_by"] else ""
        text_column.markdown(f"**{plain(rule['rule'])}**  \n:gray[Rule {rule['rule_id']} · created "
                             f"{format_time(rule['created_at'])}{by}]")
        open_column.markdown(f"{format_count(rule['open_firings'])} open firing"
                             f"{'' if rule['open_firings'] == 1 else 's'}")
        button_column.button("Remove", icon=":material/delete:", key=f"alert_remove_{rule['rule_id']}",
                             on_click=data.write, args=(edits.remove_alert_rule, rule["rule_id"]))

# --- The firings ----------------------------------------------------------------------------------

st.subheader("Firings")
firings = data.read(alert_reads.alert_firings, alert_reads.FIRINGS_SHOWN, webhook is not None)
if firings.is_empty():
    st.info("Nothing has fired yet.")
else:
    st.caption("Newest first. Each customer opens their profile.")
    table = utc_datetime(firings, "fired_at").with_columns(
        profile=pl.col("customer_id").map_elements(lambda cid: "customer?id=" + quote(cid, safe=""),
                                                   return_dtype=pl.String),
    )
    st.dataframe(
        table,
        key="alert_firings_table",
        hide_index=True,
        column_order=["fired_at", "rule", "profile", "display_name", "value_text", "state", "delivery"],
        column_config={
            "fired_at": st.column_config.DatetimeColumn("Time", format=WHEN, help="UTC"),
            "rule": st.column_config.TextColumn("Rule", width=280),
            "profile": st.column_config.LinkColumn("Customer", display_text=r"customer\?id=(.*)",
                                                   help="Opens the customer's profile"),
            "display_name": st.column_config.TextColumn("Name"),
            "value_text": st.column_config.TextColumn("Value"),
            "state": st.column_config.TextColumn("State", width="small"),
            "delivery": st.column_config.TextColumn("Delivery", width=210),
        },
        width="stretch",
    )

# --- Quota firings --------------------------------------------------------------------------------

st.subheader("Quota firings", help="A customer's billable requests this month reached 80% or 100% of their monthly "
             "quota (`footfall quotas`, or the profile): once per customer, threshold and month.")
quota_firings = data.read(usage_reads.quota_firings, alert_reads.FIRINGS_SHOWN, webhook is not None)
if quota_firings.is_empty():
    st.caption("No quota has been reached yet. Quotas are set with `footfall quotas set`, or on a customer's profile.")
else:
    st.dataframe(
        utc_datetime(quota_firings, "fired_at").with_columns(
            profile=pl.col("customer_id").map_elements(lambda cid: "customer?id=" + quote(cid, safe=""),
                                                       return_dtype=pl.String)),
        key="quota_firings_table",
        hide_index=True,
        column_order=["fired_at", "api", "profile", "display_name", "month_text", "reached", "used", "quota",
                      "delivery"],
        column_config={
            "fired_at": st.column_config.DatetimeColumn("Time", format=WHEN, help="UTC"),
            "api": st.column_config.TextColumn("API"),
            "profile": st.column_config.LinkColumn("Customer", display_text=r"customer\?id=(.*)",
                                                   help="Opens the customer's profile"),
            "display_name": st.column_config.TextColumn("Name"),
            "month_text": st.column_config.TextColumn("Month", width="small"),
            "reached": st.column_config.TextColumn("Reached", width="small"),
            "used": st.column_config.NumberColumn("Used", format="localized", help="Billable requests when it fired"),
            "quota": st.column_config.NumberColumn("Quota", format="localized"),
            "delivery": st.column_config.TextColumn("Delivery", width=210),
        },
        width="stretch",
    )
