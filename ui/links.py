"""Customer links in the dashboard: the route a `?link=` URL takes, the check of the link it
carries, and the profile's "Share with this customer" expander.

A URL with `link=` (the dashboard's root with a token, core.links.link_url) is routed by
customer_link_page to the customer's own page, pages/own_page.py, alone: st.navigation with that
one page, hidden, and nothing else of the app runs (no sign-in gate, no shared sidebar with its
API selector and favorites, no way to another page). The page then asks opened_link for the link:
signature (core.links), the token's hash among the stored links, not revoked, not expired, the
customer still there; checked on every run, uncached, so that a revoked link stops at once.
Anything else gets one neutral message and nothing of any customer.

Signing key: FOOTFALL_LINK_SECRET, else `<db file>.link-key` beside the database (db.writes.links.signing_key).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from core.keys import key_hash
from core.links import (
    DEFAULT_EXPIRY_DAYS,
    EXPIRY_DAYS,
    MAX_TOKEN_LENGTH,
    SharedLink,
    link_state,
    link_url,
    token_link_id,
)
from db.reads import own_page
from db.writes import edits
from db.writes.links import signing_key
from services.settings import dashboard_url, settings
from ui import data
from ui.format import format_time, plain

if TYPE_CHECKING:
    from db.reads.profile import Profile
    from ui.sidebar import View

LINK_PARAM = "link"
OWN_PAGE = "pages/own_page.py"
_ROUTED_KEY = "_footfall_shared_route"  # set by the route, taken by the page: it ran through streamlit_app.py
LINKS_LISTED = 20


def own_page_navigation() -> st.navigation:
    """st.navigation with the customer's own page alone, hidden: no menu and no other page to reach."""
    return st.navigation(
        [st.Page(OWN_PAGE, title="Usage", icon=":material/monitoring:", url_path="usage", default=True)],
        position="hidden",
    )


def customer_link_page() -> st.Page | None:
    """The customer's own page to run when the URL carries a link, else None (the app as usual)."""
    if LINK_PARAM not in st.query_params:
        return None
    st.session_state[_ROUTED_KEY] = True
    return own_page_navigation()


def link_key() -> bytes:
    """The key links are signed and checked with."""
    config = settings()
    return signing_key(data.db_path(), config.link_secret)


def opened_link() -> SharedLink | None:
    """The valid link this URL carries, or None (no link, changed, signed with another key,
    unknown, revoked, expired, its customer erased). A page run without the route (Streamlit's
    old pages-directory mode, on a first visit straight to it) is routed first."""
    if not st.session_state.pop(_ROUTED_KEY, False):
        own_page_navigation()
        st.rerun()
    token = st.query_params.get(LINK_PARAM, "")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    claimed = token_link_id(token, link_key())
    if claimed is None:
        return None
    data.refresh_version()  # this run's cached reads see the latest data (there is no sidebar to do it)
    with data.connection() as conn:  # uncached: a link revoked a moment ago must not open
        stored = own_page.link_for_token_hash(conn, key_hash(token))
    return link_state(stored, claimed, time.time())


# --- The profile's "Share with this customer" -----------------------------------------------------


def share_with_customer(profile: Profile, view: View) -> None:
    """The profile's expander: make a read-only link to this customer's own usage (of the API
    chosen in the sidebar, or every API), shown once; list their links, and revoke them."""
    cid = profile.id
    new_link_key = f"_new_customer_link_{cid}"

    def create() -> None:
        token = data.write(edits.create_customer_link, cid, view.scope.api_id, st.session_state[f"link_days_{cid}"],
                           bool(st.session_state[f"link_bodies_{cid}"]), view.analyst.email, link_key())
        served = (st.get_option("server.address"), st.get_option("server.port"))
        st.session_state[new_link_key] = link_url(dashboard_url(settings(), served).url, token)

    def revoke(link_id: int) -> None:
        data.write(edits.revoke_customer_link, link_id)
        st.toast("Link revoked", icon=":material/link_off:")

    where = "every API" if view.scope.api_id is None else plain(view.api_name)
    with st.expander("Share with this customer", icon=":material/share:"):
        st.caption(f"A read-only page of this customer's own usage of {where}: requests over time, endpoints, "
                   "error rate and latency, for a period they choose. It needs no sign-in and shows no other "
                   "customer, no description and no request bodies unless you include them.")
        days_column, bodies_column, create_column = st.columns([1, 1, 1], vertical_alignment="bottom")
        days_column.selectbox("Expires after", EXPIRY_DAYS, index=EXPIRY_DAYS.index(DEFAULT_EXPIRY_DAYS),
                              format_func=lambda d: f"{d} day" + ("s" if d > 1 else ""), key=f"link_days_{cid}")
        bodies_column.checkbox("Include request bodies", value=False, key=f"link_bodies_{cid}",
                               help="Their latest requests with request and response bodies, as stored (masked)")
        create_column.button("Create link", key=f"create_link_{cid}", icon=":material/add_link:", on_click=create)
        new_link = st.session_state.pop(new_link_key, None)
        if new_link:
            st.success("Copy the link now: it is shown only this once.", icon=":material/link:")
            st.code(new_link, language=None, wrap_lines=True)
        links = data.read(own_page.links_of_customer, cid)
        if links.is_empty():
            st.caption("No links made for this customer yet.")
            return
        now = time.time()
        st.markdown("**Links made**")
        for row in links.head(LINKS_LISTED).iter_rows(named=True):
            if row["revoked_at"] is not None:
                state = f"revoked {format_time(row['revoked_at'])}"
            elif row["expires_at"] <= now:
                state = f"expired {format_time(row['expires_at'])}"
            else:
                state = f"expires {format_time(row['expires_at'])}"
            text, action = st.columns([5, 1], vertical_alignment="center")
            by = f" by {plain(row['created_by'])}" if row["created_by"] else ""  # nobody is named without sign-in
            text.markdown(f"Link {row['id']} · {plain(row['api'] or 'every API')}"
                          f"{' · with bodies' if row['show_bodies'] else ''} · created{by} "
                          f"{format_time(row['created_at'])} · {state}")
            if row["revoked_at"] is None and row["expires_at"] > now:
                action.button("Revoke", key=f"revoke_link_{row['id']}", icon=":material/link_off:",
                              on_click=revoke, args=(row["id"],))
        if links.height > LINKS_LISTED:
            st.caption(f"The newest {LINKS_LISTED} of {links.height} links.")


# --- The customer's page's tables -------------------------------------------------------------------


def _utc(column: str) -> pl.Expr:
    return pl.from_epoch(pl.col(column), time_unit="s").dt.replace_time_zone("UTC")


def endpoints_table(endpoints: pl.DataFrame, every_api: bool) -> pl.DataFrame:
    """The customer's endpoints (db.reads.own_page.shared_endpoints) as their page shows them."""
    columns = {"API": pl.col("api"), "Endpoint": pl.col("endpoint"), "Requests": pl.col("requests"),
               "Errors": pl.col("errors"), "First call": _utc("first_call"), "Last call": _utc("last_call")}
    if not every_api:
        del columns["API"]
    return endpoints.select(expr.alias(name) for name, expr in columns.items())


def latest_table(latest: pl.DataFrame, every_api: bool) -> pl.DataFrame:
    """The customer's latest requests (db.reads.own_page.shared_latest_requests), without their bodies."""
    columns = {"Time": _utc("time"), "API": pl.col("api"), "Method": pl.col("method"), "Path": pl.col("path"),
               "Response": pl.col("status"), "Load Time": pl.col("load_time_ms")}
    if not every_api:
        del columns["API"]
    return latest.select(expr.alias(name) for name, expr in columns.items())
