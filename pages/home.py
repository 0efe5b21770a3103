"""Home: the widgets the analyst switched on, for the API and period in the sidebar."""

import streamlit as st

from core.figures import Figure, average_requests, unattributed_share
from core.home_widgets import WIDGETS
from db.reads import home, quiet
from db.writes import edits
from ui import data
from ui.format import WHEN, format_count, format_percent, plain, plural
from ui.sidebar import ALL_APIS, current_view
from ui.signals import HOME_QUIET_COLUMNS, quiet_rule, quiet_rule_text, quiet_table, signals_now
from ui.widgets import NAME, REQUESTS, SHARE, count_metric, customer_table, utc_datetime, waiting_for_first_request

view = current_view()


def save_widget_choices() -> None:
    data.write(edits.save_widget_choices, view.analyst.key,
               {name: bool(st.session_state[f"widget_{name}"]) for name in WIDGETS})


heading, customize = st.columns([2, 1], vertical_alignment="bottom")
with heading:
    st.title("Home")
    where = "every API" if view.api_name == ALL_APIS else plain(view.api_name)
    compared = f" · changes {view.previous_text}" if view.previous_text else ""
    st.caption(f"{where} · {view.period_text}{compared}")
waiting_for_first_request(view)
choices = data.read(home.widget_choices_saved, view.analyst.key)
with customize, st.container(horizontal_alignment="right"):
    with st.popover("Customize dashboard", icon=":material/dashboard_customize:"):
        st.caption("Widgets on this page (saved for you)" if view.analyst.key else
                   "Widgets on this page (saved for everyone using this database)")
        for name, title in WIDGETS.items():
            st.session_state[f"widget_{name}"] = choices[name]
            st.toggle(title, key=f"widget_{name}", on_change=save_widget_choices)

figures = data.read(home.home_figures, view.scope, view.analyst.key)
previous_scope = view.scope.previous()
before = None if previous_scope is None else data.read_past(previous_scope, home.previous_counts, view.scope)
now = figures.current
if now.requests == 0:
    st.info(
        "No requests in this period. Pick a longer period in the sidebar, send traffic to the collector, "
        "or fill a demo database with `python -m footfall demo`."
    )


def previous(attribute: str):
    return None if before is None else getattr(before, attribute)


def draw_count(name: str) -> None:
    if name == "new_customers":
        count_metric("New Customers", Figure(now.new, previous("new")),
                     help="Customers whose first request falls in the period")
    elif name == "active_customers":
        count_metric("Active Customers", Figure(now.active, previous("active")),
                     help="Customers with at least one request in the period")
    elif name == "top_customer":
        if figures.top.is_empty():
            st.metric("Top Customer", "–", border=True, height="stretch")
        else:
            top = figures.top.row(0, named=True)
            st.metric(
                "Top Customer", plain(top["display_name"]),
                delta=f"{plural(top['requests'], 'request')} · {format_percent(top['share'])}",
                delta_color="off", delta_arrow="off", border=True, height="stretch",
                help="The customer with the most requests in the period",
            )
    elif name == "average_requests":
        average = average_requests(now.identified, now.active)
        prior = None if before is None else average_requests(before.identified, before.active)
        count_metric("Average Requests per Customer", Figure(average, prior),
                     value_text="–" if average is None else f"{average:,.1f}",
                     help="Requests from identified customers / active customers")
    elif name == "unattributed":
        share = unattributed_share(now.requests, now.identified)
        prior = None if before is None else unattributed_share(before.requests, before.identified)
        count_metric("Unattributed traffic", Figure(share, prior),
                     value_text=format_percent(share), inverse=True, percent=True,
                     help=f"Share of all {plural(now.requests, 'request')} that carry no customer ID")


# The counts: three numbers to a row, then the top customer, whose name needs room, beside the
# unattributed share. The cards of a row stretch to one height.
count_rows = [
    ([name for name in ("new_customers", "active_customers", "average_requests") if choices[name]], [1, 1, 1]),
    ([name for name in ("top_customer", "unattributed") if choices[name]], [2, 1]),
]
for names, widths in count_rows:
    for column, name in zip(st.columns(widths) if names else [], names):
        with column:
            draw_count(name)

# The lists, two to a row.
lists = [name for name in ("top_customers", "customers_list", "favorite_customers", "gone_quiet") if choices[name]]
slots = [column for start in range(0, len(lists), 2) for column in st.columns(2)]
for column, name in zip(slots, lists):
    with column, st.container(border=True):
        if name == "customers_list":
            st.subheader("Customers List", help="The 10 newest customers, by their first request")
            if figures.newest.is_empty():
                st.caption("No customers yet.")
            else:
                customer_table(
                    utc_datetime(figures.newest, "first_seen"), "home_newest",
                    {"display_name": NAME,
                     "first_seen": st.column_config.DatetimeColumn("First seen", format=WHEN, help="UTC")},
                )
        elif name == "favorite_customers":
            st.subheader("Favorite Customers", help="Customers starred on their profile")
            if figures.favorites.is_empty():
                st.caption("No favorites yet: switch on **Favorite** on a customer's profile.")
            else:
                customer_table(figures.favorites, "home_favorites",
                               {"display_name": NAME, "requests": REQUESTS, "share": SHARE})
        elif name == "gone_quiet":
            rule = quiet_rule()
            st.subheader("Gone quiet", help=quiet_rule_text(rule) + " Judged as of now, whatever the period.")
            flagged = data.read(quiet.gone_quiet, view.scope.api_id, signals_now(), rule)
            if flagged.is_empty():
                st.caption("No customer has gone quiet.")
            else:
                customer_table(quiet_table(flagged.head(10)), "home_quiet", {"display_name": NAME, **HOME_QUIET_COLUMNS})
                if flagged.height > 10:
                    st.page_link("pages/customers.py", label=f"All {format_count(flagged.height)} on the Customers page",
                                 query_params={"quiet": "1"}, icon=":material/trending_down:")
        elif name == "top_customers":
            across = " across every API" if view.scope.api_id is None else ""
            st.subheader("Top Customers List", help=f"The 10 customers with the most requests in the period{across}")
            if figures.top.is_empty():
                st.caption("No customer requests in this period.")
            else:
                customer_table(figures.top, "home_top", {"display_name": NAME, "requests": REQUESTS, "share": SHARE})

if not any(names for names, _ in count_rows) and not lists:
    st.info("Every widget is switched off. Switch some on with **Customize dashboard**.")
