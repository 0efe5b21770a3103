"""Who may see the dashboard, and where it may listen: the rules, as pure functions."""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

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


def is_address(email: str | None) -> bool:
    """Whether this is one e-mail address: a name, one "@", a domain, no spaces or control
    characters ("a@b@c" is not: which part is the domain depends on who reads it)."""
    if not isinstance(email, str) or email.count("@") != 1:
        return False
    name, domain = email.split("@")
    return bool(name and domain) and all(ch.isprintable() and not ch.isspace() for ch in email)


def is_verified(email_verified: object, assume_verified: bool = False) -> bool:
    """Whether the provider says the address is the analyst's: email_verified true (the boolean,
    or the string "true" some providers send). A provider that never sends the claim
    (FOOTFALL_OIDC_ASSUME_VERIFIED) has a missing claim count as true; false never does."""
    if email_verified is True or (isinstance(email_verified, str) and email_verified.strip().lower() == "true"):
        return True
    return email_verified is None and assume_verified


def is_allowed(email: str | None, allowed: tuple[str, ...], email_verified: object = None,
               assume_verified: bool = False) -> bool:
    """Whether an analyst may enter: their address is listed, or its domain is ("@corp.example";
    subdomains are not included), and the provider verified it (is_verified)."""
    if not is_address(email) or not is_verified(email_verified, assume_verified):
        return False
    email = email.strip().lower()
    domain = "@" + email.rsplit("@", 1)[1]
    return email in allowed or domain in allowed


# --- Sessions -------------------------------------------------------------------------------------
# A session is one sign-in: the ID token's claims Streamlit keeps in its signed cookie. Footfall
# bounds its age (iat, FOOTFALL_SESSION_HOURS) and can end it before that: at sign-out, or all at
# once (`footfall sessions rotate-key`), by what db/writes/sessions.py records.

# 12 hours: one working day on one sign-in, and a stolen cookie is of use for half a day at most.
DEFAULT_SESSION_HOURS = 12.0
MAX_SESSION_HOURS = 30 * 24.0  # Streamlit's own bound on its cookie (30 days)
CLOCK_SKEW_SECONDS = 300  # the provider's clock may run this far ahead of ours


@dataclass(frozen=True)
class Session:
    """One sign-in, from the ID token's claims: who (issuer and subject) and when (issued_at)."""

    issuer: str
    subject: str
    issued_at: int
    nonce: str

    @property
    def key(self) -> str:
        """What an ended session is recorded under: a hash of the sign-in, the same for every copy
        of its cookie and different for the next sign-in (another nonce, another iat)."""
        signed_in = orjson.dumps([self.issuer, self.subject, self.issued_at, self.nonce])
        return hashlib.sha256(signed_in).hexdigest()

    @property
    def analyst(self) -> str:
        """The analyst's key (analyst_key)."""
        return analyst_key(self.issuer, self.subject)


def analyst_key(issuer: str, subject: str) -> str:
    """Whose favorites and home widgets these are: the provider (issuer) and its stable id for the
    person (subject), never the e-mail address, which a provider may let anyone type."""
    return f"{issuer} {subject}"  # an issuer is a URL: it holds no space


def session_of(claims: Mapping[str, object]) -> Session | None:
    """The session these claims are, or None when they lack an issuer, a subject or the time
    they were issued (an ID token always has them)."""
    issuer, subject, issued_at = claims.get("iss"), claims.get("sub"), claims.get("iat")
    if not isinstance(issuer, str) or not issuer or " " in issuer or not isinstance(subject, str) or not subject:
        return None
    if not isinstance(issued_at, (int, float)) or isinstance(issued_at, bool) or not math.isfinite(issued_at):
        return None
    nonce = claims.get("nonce")
    return Session(issuer, subject, int(issued_at), nonce if isinstance(nonce, str) else "")


def is_current(session: Session, lifetime_seconds: float, now: float) -> bool:
    """Whether the session is younger than its lifetime (and not issued in the future)."""
    age = now - session.issued_at
    return -CLOCK_SKEW_SECONDS <= age < lifetime_seconds
