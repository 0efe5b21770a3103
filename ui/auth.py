"""Who is looking: the sign-in gate every page passes first, and the analyst it lets in.

With sign-in configured (footfall.settings: FOOTFALL_OIDC_*), an analyst signs in with the
company's OpenID Connect provider through st.login, and enters only when FOOTFALL_ALLOWED_USERS
lists their address or its domain. Anyone else sees a sign-in page and no data, whatever page or
deep link they opened. Off loopback without sign-in the dashboard shows nothing at all, unless the
operator states that a proxy in front signs analysts in (FOOTFALL_AUTH_PROXY=1).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.access import SHARED_ANALYST, exposure_refusal, is_allowed
from footfall.settings import settings
from ui.format import plain
from ui.navigation import navigation



@dataclass(frozen=True)
class Analyst:
    """The analyst looking at the dashboard. Their favorites and widget choice are kept under
    their e-mail address; with sign-in off everyone is the same analyst, SHARED_ANALYST ("")."""

    email: str
    name: str


def admit() -> Analyst:
    """The analyst allowed in, or else a page that says why not (and st.stop)."""
    config = settings()
    refusal = exposure_refusal(st.get_option("server.address"), config.sign_in, config.auth_proxy)
    if refusal:
        _closed("This dashboard is not served here", f"Footfall refused to show data: {refusal}.")
    if not config.sign_in:
        return Analyst(SHARED_ANALYST, "")
    if "auth" not in st.secrets:
        _closed("Sign-in is not set up", "Sign-in is configured, but this dashboard was not started with "
                "`footfall dashboard` (or `footfall up`), which hands Streamlit the provider's settings.")
    if not st.user.is_logged_in:
        _sign_in_page()
    email = str(st.user.get("email") or "")
    if not is_allowed(email, config.allowed_users, st.user.get("email_verified")):
        _refused_page(email)
    return Analyst(email.lower(), str(st.user.get("name") or email))


def signed_in_as(analyst: Analyst) -> None:
    """In the sidebar: who is signed in, and a way out."""
    if analyst.email == SHARED_ANALYST:
        return
    st.caption(f"Signed in as **{plain(analyst.name)}** ({plain(analyst.email)})")
    st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=st.logout, type="tertiary")


def _sign_in_page() -> None:
    navigation(menu=False)
    st.title("Footfall")
    st.write("Sign in with your company account to see who uses your APIs.")
    st.button("Sign in", key="sign_in", icon=":material/login:", on_click=st.login, type="primary")
    st.stop()


def _refused_page(email: str) -> None:
    navigation(menu=False)
    st.title("Not allowed")
    shown = plain(email) if email else "an account without an e-mail address"
    st.error(f"You are signed in as {shown}, which may not see this dashboard. Ask whoever runs Footfall "
             "to add your address or your domain to FOOTFALL_ALLOWED_USERS.", icon=":material/block:")
    st.button("Sign out", key="sign_out_refused", icon=":material/logout:", on_click=st.logout)
    st.stop()


def _closed(title: str, text: str) -> None:
    navigation(menu=False)
    st.title(title)
    st.error(text, icon=":material/lock:")
    st.stop()
