"""Who is looking: the sign-in gate every page passes first, and the analyst it lets in.

With sign-in configured (services.settings: FOOTFALL_OIDC_*), an analyst signs in with the
company's OpenID Connect provider through st.login, and enters only when FOOTFALL_ALLOWED_USERS
lists their address or its domain and the provider verified that address. Anyone else sees a
sign-in page and no data, whatever page or deep link they opened. A sign-in lasts
FOOTFALL_SESSION_HOURS, and ends at once when the analyst signs out (db/writes/sessions.py): a copy of its
cookie opens nothing afterwards. Off loopback without sign-in the dashboard shows nothing at all,
unless the operator states that a proxy in front signs analysts in (FOOTFALL_AUTH_PROXY=1).

The HTTP routes that answer outside the page (downloads, metrics) are gated by the same rules in
ui/session_gate.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from core.access import SHARED_ANALYST, Session, exposure_refusal, is_allowed, is_current, session_of
from db.writes import edits, sessions
from services.settings import settings
from ui import data
from ui.format import plain
from ui.navigation import navigation

_RECORDED = "_footfall_analyst_recorded"  # session_state: the sign-in whose analyst is recorded


@dataclass(frozen=True)
class Analyst:
    """The analyst looking at the dashboard. Their favorites and widget choice are kept under
    `key`: who their provider says they are (core.access.analyst_key), not their e-mail address;
    with sign-in off everyone is the same analyst, SHARED_ANALYST ("")."""

    key: str
    email: str
    name: str
    session: Session | None = None  # their sign-in; None with sign-in off


def admit() -> Analyst:
    """The analyst allowed in, or else a page that says why not (and st.stop)."""
    config = settings()
    if config.sign_in_problem:  # started by hand (`streamlit run`): `footfall dashboard` refuses to start
        _closed("Sign-in is not set up", f"Footfall refused to show data: {config.sign_in_problem}.")
    refusal = exposure_refusal(st.get_option("server.address"), config.sign_in, config.auth_proxy)
    if refusal:
        _closed("This dashboard is not served here", f"Footfall refused to show data: {refusal}.")
    if not config.sign_in:
        return Analyst(SHARED_ANALYST, "", "")
    if "auth" not in st.secrets:
        _closed("Sign-in is not set up", "Sign-in is configured, but this dashboard was not started with "
                "`footfall dashboard` (or `footfall up`), which hands Streamlit the provider's settings.")
    if not st.user.is_logged_in:
        _sign_in_page()
    claims = st.user.to_dict()
    session = session_of(claims)
    if session is None or not is_current(session, config.session_hours * 3600, time.time()) or _ended(session):
        _sign_in_page(ended=True)
    email = str(claims.get("email") or "")
    if not is_allowed(email, config.allowed_users, claims.get("email_verified"), config.assume_email_verified):
        _refused_page(email, listed=is_allowed(email, config.allowed_users, email_verified=True))
    analyst = Analyst(session.analyst, email.strip().lower(), str(claims.get("name") or email), session)
    if st.session_state.get(_RECORDED) != session.key:  # once per sign-in and browser session
        data.write(edits.record_analyst, analyst.key, session.issuer, session.subject, analyst.email, analyst.name)
        st.session_state[_RECORDED] = session.key
    return analyst


def signed_in_as(analyst: Analyst) -> None:
    """In the sidebar: who is signed in, and a way out."""
    if analyst.session is None:
        return
    same = analyst.name.strip().lower() == analyst.email  # a provider without names gives the address twice
    st.caption(f"Signed in as **{plain(analyst.name)}**" + ("" if same else f" ({plain(analyst.email)})"))
    st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=_sign_out, args=(analyst.session,),
              type="tertiary")


def _ended(session: Session) -> bool:
    with data.connection() as conn:
        return sessions.is_ended(conn, session.key, session.issued_at)


def _sign_out(session: Session) -> None:
    """End the session for good (every copy of its cookie), then Streamlit's sign-out."""
    data.write(edits.end_session, session.key)
    st.logout()


def _sign_in_page(ended: bool = False) -> None:
    navigation(menu=False)
    st.title("Footfall")
    if ended:
        st.info("Your session has ended. Sign in again to go on.", icon=":material/schedule:")
    st.write("Sign in with your company account to see who uses your APIs.")
    st.button("Sign in", key="sign_in", icon=":material/login:", on_click=st.login, type="primary")
    st.stop()


def _refused_page(email: str, listed: bool) -> None:
    navigation(menu=False)
    st.title("Not allowed")
    shown = plain(email) if email else "an account without an e-mail address"
    if listed:  # the address is on the list, but the provider does not vouch for it
        why = ("but your sign-in provider has not verified that address. Verify it with the provider, then sign in "
               "again")
    else:
        why = ("which may not see this dashboard. Ask whoever runs Footfall to add your address or your domain to "
               "FOOTFALL_ALLOWED_USERS")
    st.error(f"You are signed in as {shown}, {why}.", icon=":material/block:")
    st.button("Sign out", key="sign_out_refused", icon=":material/logout:", on_click=st.logout)
    st.stop()


def _closed(title: str, text: str) -> None:
    navigation(menu=False)
    st.title(title)
    st.error(text, icon=":material/lock:")
    st.stop()
