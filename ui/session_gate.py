"""The sign-in gate on Streamlit's HTTP routes. The page itself is gated by ui/auth.py's admit(),
but Streamlit also answers plain HTTP requests outside the page: an exported CSV's download URL
(/media/...), its metrics, uploads, the agent API. With sign-in on, those answer only a request
carrying the cookie of a current session of an allowed analyst, by the same rules as admit()
(core/access.py, db/writes/sessions.py); anything else gets 403 and nothing of the route's.

Streamlit 1.67 lets an app wrap its server in ASGI middleware through st.App (dashboard_app.py, which
`footfall dashboard` runs); this module is that middleware and the one place Footfall leans on
Streamlit's internals: the paths of its routes, and its auth cookie, decoded with the function its
WebSocket uses. Every route Streamlit serves is listed in ROUTES as gated or open, and why;
tests/browser/test_sign_in.py fails when a Streamlit upgrade adds or moves a route, or changes the
cookie.
"""

from __future__ import annotations

import json
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from streamlit import config as streamlit_config
from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME
from streamlit.web.server.starlette.starlette_websocket import _get_signed_cookie_with_chunks

from core.access import is_allowed, is_current, session_of
from db.writes import edits, sessions
from services.settings import Settings, settings

# Every route of Streamlit 1.67's server, by the start of its path: whether it needs a session.
ROUTES: dict[str, tuple[bool, str]] = {
    "/media/": (True, "files made for a page: an exported CSV, images; a URL outlives its tab for minutes"),
    "/_stcore/metrics": (True, "the server's sessions, caches and memory"),
    "/_stcore/upload_file/": (True, "files sent to the app (Footfall asks for none): kept in memory"),
    "/_stcore/agent/": (True, "the agent API (off unless server.enableAgentApi): runs the app without a page"),
    "/_stcore/script-health-check": (True, "runs the app's script (off unless server.scriptHealthCheckEnabled)"),
    "/_stcore/health": (False, "ok or not ready, for a load balancer"),
    "/_stcore/host-config": (False, "the origins the page may talk to; no data"),
    "/_stcore/stream": (False, "the page's WebSocket: the sign-in page needs it, admit() gates every page"),
    "/auth/login": (False, "signing in"),
    "/auth/logout": (False, "signing out: the session is recorded as ended on the way (SignInGate)"),
    "/oauth2callback": (False, "signing in"),
    "/component/": (False, "installed components' own code"),
    "/_stcore/bidi-components/": (False, "installed components' own code"),
    "/app/static/": (False, "the app's static folder (off unless server.enableStaticServing; Footfall has none)"),
    "/": (False, "the page's HTML, JavaScript and CSS"),
}
GATED = tuple(path for path, (gated, _) in ROUTES.items() if gated)
REFUSED = "Sign in to the dashboard first."
SIGN_OUT = "/auth/logout"


class SignInGate:
    """ASGI middleware: a request for a gated route without a current, allowed session gets 403."""

    def __init__(self, app: ASGIApp, config: Settings | None = None) -> None:
        self.app = app
        self.config = config or settings()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A sign-in set up in part gates them too: its page shows nothing (ui/auth.py), nor do these.
        if scope["type"] == "http" and (self.config.sign_in or self.config.sign_in_problem):
            path = route_path(scope)
            if is_gated(path):
                cookies = HTTPConnection(scope).cookies
                if not await run_in_threadpool(has_session, cookies, self.config):
                    await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send)
                    return
            elif path == SIGN_OUT:  # opened directly, not through the page's button: end it all the same
                await run_in_threadpool(end_signed_session, HTTPConnection(scope).cookies)
        await self.app(scope, receive, send)


def route_path(scope: Scope) -> str:
    """The path Streamlit's router matches: without the server's root path and server.baseUrlPath."""
    path = scope["path"]
    for prefix in (scope.get("root_path") or "", "/" + (streamlit_config.get_option("server.baseUrlPath") or "")):
        prefix = prefix.rstrip("/")
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            path = path[len(prefix):] or "/"
    return path


def is_gated(path: str) -> bool:
    """Whether a route path (route_path) needs a session."""
    return any(path == gated.rstrip("/") or path.startswith(gated) for gated in GATED)


def signed_claims(cookies: dict[str, str]) -> dict | None:
    """The claims of a signed-in session's cookie, signed with the dashboard's cookie key; None
    when there is none, or its signature is wrong."""
    raw = _get_signed_cookie_with_chunks(cookies, USER_COOKIE_NAME)  # None: absent, or a bad signature
    try:
        claims = json.loads(raw) if raw else None
    except ValueError:
        return None
    return claims if isinstance(claims, dict) and claims.get("is_logged_in") is True else None


def end_signed_session(cookies: dict[str, str]) -> None:
    """Record the session of these cookies as ended (a sign-out), when they hold one."""
    claims = signed_claims(cookies)
    session = session_of(claims) if claims else None
    if session is not None:
        _data().write(edits.end_session, session.key)


def has_session(cookies: dict[str, str], config: Settings) -> bool:
    """Whether the cookies hold a session admit() would let in: signed with the dashboard's
    cookie key, current, of an allowed and verified address, and not ended."""
    claims = signed_claims(cookies)
    if claims is None:
        return False
    session = session_of(claims)
    if session is None or not is_current(session, config.session_hours * 3600, time.time()):
        return False
    if not is_allowed(claims.get("email"), config.allowed_users, claims.get("email_verified"),
                      config.assume_email_verified):
        return False
    with _data().connection() as conn:
        return not sessions.is_ended(conn, session.key, session.issued_at)


def _data():
    """ui.data, imported when first needed: it makes its caches as it is imported, which wants
    Streamlit's runtime, and dashboard_app.py builds this middleware before the runtime starts
    (else every start logs "No runtime found, using MemoryCacheStorageManager")."""
    from ui import data

    return data
