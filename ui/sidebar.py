"""The sidebar on every page: API, period (both kept in the URL) and the favorite customers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import streamlit as st

from core.periods import PRESETS, Period, custom_period, preset_period
from core.scope import Scope
from db.reads import sidebar as sidebar_reads
from db.writes import edits
from ui import data
from ui.auth import Analyst, signed_in_as
from ui.format import PERIOD_LABELS, describe_period, plain
from ui.navigation import PROFILE_PAGE, navigation

ALL_APIS = "All APIs"
DEFAULT_PERIOD = "30d"
SIDEBAR_FAVORITES = 25
_VIEW_KEY = "_footfall_view"  # the view draw_sidebar drew in this script run, until the page takes it
_UNKNOWN_API = "_footfall_unknown_api"  # an API name a link asked for that no API has


@dataclass(frozen=True)
class NewApi:
    """The API chosen, while it waits for its first request: what its pages show instead of figures."""

    name: str
    key_prefix: str  # the start of its key, so that the operator can tell which key a service needs


@dataclass(frozen=True)
class View:
    """What every page shows: the scope, and how to name it."""

    scope: Scope
    analyst: Analyst  # who is looking (everyone is the shared analyst when sign-in is off)
    api_name: str  # ALL_APIS or the API's name
    period_key: str  # a preset name or "custom"
    period_text: str  # "Last 30 days", "2026-11-01 to 2026-11-07 (UTC)"
    waiting: NewApi | None = None  # the API chosen, when it has had no request yet

    @property
    def previous_text(self) -> str | None:
        if self.scope.period.previous() is None:
            return None
        if self.period_key in PRESETS:
            return f"vs the previous {self.period_key}"
        return "vs the period before"


def current_view() -> View:
    """The view the sidebar drew in this run; every page starts with it.

    A page runs without streamlit_app.py only when Streamlit is still in its old pages-directory
    mode (a pages/ folder turns it on) and the first visit since the server started is a deep
    link (customer?id=...). Then this page calls st.navigation itself, which ends that mode for
    good, and reruns: the same URL, now through streamlit_app.py and its sidebar."""
    view = st.session_state.pop(_VIEW_KEY, None)
    if view is None:
        navigation()
        st.rerun()
    return view


def draw_sidebar(analyst: Analyst) -> View:
    """Draw the sidebar (API, period, favorites, freshness, who is signed in), keep the view in the
    URL, and return it."""
    data.refresh_version()
    apis = data.read(sidebar_reads.api_choices)
    api_names = [ALL_APIS, *apis["name"].to_list()]
    _read_url_once(api_names)
    with st.sidebar:
        # persist_state: widget values otherwise reset on every page switch.
        api_name = st.selectbox("API", api_names, key="api", persist_state="session",
                                on_change=lambda: st.session_state.pop(_UNKNOWN_API, None))
        period_key = st.selectbox("Period", list(PERIOD_LABELS), format_func=PERIOD_LABELS.get, key="period",
                                  persist_state="session")
        period = _period(period_key)
        _favorites(analyst)
        st.divider()
        st.toggle("Auto-refresh", key="auto_refresh", persist_state="session",
                  help="Show new requests as the collector stores them (checked every 5 seconds)")
        _freshness()
        signed_in_as(analyst)
    _write_url(api_name, period_key)
    _unknown_api(apis["name"].to_list())
    chosen = None if api_name == ALL_APIS else apis.row(apis["name"].to_list().index(api_name), named=True)
    waiting = None
    if chosen is not None and chosen["first_hour"] is None and chosen["removed_at"] is None:
        waiting = NewApi(api_name, chosen["key_prefix"])
    label = PERIOD_LABELS[period_key] if period_key in PRESETS else describe_period(period)
    view = View(Scope(None if chosen is None else chosen["id"], period), analyst, api_name, period_key, label, waiting)
    st.session_state[_VIEW_KEY] = view
    return view


def _unknown_api(names: list[str]) -> None:
    """Above the page, while the API a link named is unknown: say so, and which APIs there are."""
    unknown = st.session_state.get(_UNKNOWN_API)
    if unknown is None:
        return
    if not names:
        choice = "No API is registered yet: register one with `footfall apis add NAME`."
    else:
        choice = f"Showing every API; choose one in the sidebar: {', '.join(plain(n) for n in names)}."
    st.warning(f"No API is named “{plain(unknown)}”. {choice}", icon=":material/search_off:")


def _read_url_once(api_names: list[str]) -> None:
    """A new session (a link opened, a page reloaded) starts from the URL: ?api=NAME&period=7d,
    or period=custom&from=YYYY-MM-DD&to=YYYY-MM-DD. Values it does not know are ignored, but for an
    API name, which the page then says is unknown (_unknown_api)."""
    if st.session_state.get("_url_read"):
        if st.session_state.get("api") not in api_names:  # an API renamed or removed meanwhile
            st.session_state["api"] = ALL_APIS
        return
    st.session_state["_url_read"] = True
    params = st.query_params
    st.session_state["api"] = params.get("api") if params.get("api") in api_names else ALL_APIS
    if params.get("api") and params.get("api") not in api_names:
        st.session_state[_UNKNOWN_API] = params.get("api")
    st.session_state["period"] = params.get("period") if params.get("period") in PERIOD_LABELS else DEFAULT_PERIOD
    today = _utc_today()
    st.session_state["from"], st.session_state["to"] = today - timedelta(days=6), today
    for key in ("from", "to"):
        try:
            st.session_state[key] = min(date.fromisoformat(params.get(key, "")), today)
        except ValueError:
            pass


def _utc_today() -> date:
    return datetime.now(timezone.utc).date()


def _write_url(api_name: str, period_key: str) -> None:
    """Keep the view in the URL, so that any page can be shared as a link."""
    wanted = {"api": None if api_name == ALL_APIS else api_name, "period": period_key}
    if period_key == "custom":
        wanted["from"] = st.session_state["from"].isoformat()
        wanted["to"] = st.session_state["to"].isoformat()
    else:
        wanted["from"] = wanted["to"] = None
    for key, value in wanted.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def _period(period_key: str) -> Period:
    if period_key in PRESETS:
        return preset_period(period_key, time.time())
    today = _utc_today()
    first_day = st.date_input("From", max_value=today, key="from", persist_state="session", help="First day, UTC")
    last_day = st.date_input("To", max_value=today, key="to", persist_state="session", help="Last day, UTC (included)")
    if last_day < first_day:
        st.error("The period's last day comes before its first day; showing the first day only.")
        last_day = first_day
    return custom_period(first_day.isoformat(), last_day.isoformat())


@st.fragment(run_every=5)
def _freshness() -> None:
    """Every few seconds: has the collector stored anything since this page was drawn?"""
    if data.latest_version() == data.version():
        st.caption(f"Up to date · {time.strftime('%H:%M:%S', time.gmtime())} UTC")
    elif st.session_state.get("auto_refresh"):
        st.rerun(scope="app")
    elif st.button("New requests: refresh", key="refresh_data", icon=":material/refresh:", type="tertiary"):
        st.rerun(scope="app")


def _favorites(analyst: Analyst) -> None:
    favorites = data.read(sidebar_reads.favorites, analyst.key)
    st.subheader("Favorites", divider="gray")
    if favorites.is_empty():
        st.caption("No favorites yet: switch on **Favorite** on a customer's profile.")
        return
    shown = favorites.head(SIDEBAR_FAVORITES)
    for customer_id, name in shown.select("customer_id", "display_name").iter_rows():
        key = f"sidebar_favorite_{customer_id}"
        st.session_state[key] = True
        link, toggle = st.columns([5, 1], vertical_alignment="center")
        with link:
            st.page_link(PROFILE_PAGE, label=plain(name), query_params={"id": customer_id}, icon=":material/person:")
        with toggle:
            st.toggle(
                f"Favorite {plain(name)}", key=key, label_visibility="collapsed",
                on_change=_unfavorite, args=(analyst, customer_id, key),
            )
    if favorites.height > shown.height:
        st.caption(f"and {favorites.height - shown.height} more on the Home page's Favorite Customers")


def _unfavorite(analyst: Analyst, customer_id: str, key: str) -> None:
    data.write(edits.save_favorite, analyst.key, customer_id, bool(st.session_state[key]))


def open_profile(customer_id: str) -> None:
    """Go to a customer's profile; the API and period stay as they are (the sidebar writes them
    back into the new page's URL)."""
    st.switch_page(PROFILE_PAGE, query_params={"id": customer_id})
