"""Who may see the dashboard, and where it may listen: the rules, as pure functions."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
# Whose favorites and home widgets are read and written while sign-in is off: everyone's.
SHARED_ANALYST = ""


def is_loopback(host: str | None) -> bool:
    """Whether a listening address is reachable from this machine only. None, "" and 0.0.0.0 / ::
    (every interface) are not."""
    if not host:
        return False
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def exposure_refusal(host: str | None, sign_in: bool, auth_proxy: bool) -> str | None:
    """Why the dashboard must not listen on `host`, or None when it may: off loopback, the
    customers' data is shown only behind a sign-in (ours, or a proxy's that the operator vouches
    for with FOOTFALL_AUTH_PROXY=1)."""
    if is_loopback(host) or sign_in or auth_proxy:
        return None
    where = "every interface" if host in (None, "", "0.0.0.0", "::") else host
    return (f"the dashboard would listen on {where} without sign-in, so anyone who reaches it would see every "
            "customer's data. Configure sign-in (FOOTFALL_OIDC_METADATA_URL, FOOTFALL_OIDC_CLIENT_ID, "
            "FOOTFALL_OIDC_CLIENT_SECRET, FOOTFALL_ALLOWED_USERS), set FOOTFALL_AUTH_PROXY=1 if a proxy in front "
            "signs analysts in, or keep FOOTFALL_DASHBOARD_HOST=127.0.0.1")


def is_allowed(email: str | None, allowed: tuple[str, ...], email_verified: bool | None = None) -> bool:
    """Whether an analyst may enter: their address is listed, or its domain is ("@corp.example";
    subdomains are not included). An address the provider says is unverified never is."""
    if not email or email_verified is False or "@" not in email:
        return False
    email = email.strip().lower()
    domain = "@" + email.rsplit("@", 1)[1]
    return email in allowed or domain in allowed
