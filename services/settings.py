"""Every setting Footfall reads from the environment, read here and nowhere else."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.access import DEFAULT_SESSION_HOURS, MAX_SESSION_HOURS
from core.quiet import QuietRule
from db.connection import database

DEFAULT_DB = Path("data") / "footfall.db"
LOOPBACK = "127.0.0.1"
_EVERY_INTERFACE = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class Settings:
    """Every setting, as read from the environment."""

    db_path: str | Path  # a SQLite file (absolute), or a postgresql:// URL kept as it is (db.connection.database)
    collector_host: str  # where SDKs reach the collector
    collector_port: int
    collector_workers: int
    dashboard_host: str  # where analysts reach the dashboard: loopback unless chosen
    dashboard_port: int
    # FOOTFALL_DASHBOARD_URL and FOOTFALL_COLLECTOR_URL as set (None: unset): read through dashboard_url()
    # and collector_url(), which guess the address when they are unset and say so.
    dashboard_url_setting: str | None
    collector_url_setting: str | None
    max_body_bytes: int
    writer_socket: str | None
    # Sign-in (OpenID Connect through st.login): on when all three are set.
    oidc_metadata_url: str | None
    oidc_client_id: str | None
    oidc_client_secret: str | None
    allowed_users: tuple[str, ...]  # e-mail addresses and "@domain" entries, lower case
    auth_proxy: bool  # a proxy in front of the dashboard authenticates the analysts
    retention_days: int | None  # raw requests older than this are pruned; None keeps them
    masked_names: tuple[str, ...]  # more header, field and parameter names to mask, lower case
    quiet_rule: QuietRule  # gone quiet's thresholds (core/quiet.py), FOOTFALL_QUIET_*
    signals_interval: float  # seconds between the collector's computations of gone quiet and peer standing
    # Signs customer links (core/links.py); None: a random key kept beside the database (db/writes/links.py).
    link_secret: str | None = None
    # Sign-in sessions (core/access.py, db/writes/sessions.py): the key their cookies are signed with (None: a
    # random key kept beside the database), how long one lasts, and whether a provider that never
    # sends email_verified is trusted to have verified its addresses.
    cookie_secret: str | None = None
    session_hours: float = DEFAULT_SESSION_HOURS
    assume_email_verified: bool = False
    # Alerts (core/alerts.py): where firings are POSTed (a secret: never stored), and how often the
    # running collector checks the rules, in seconds (0: never; `footfall alerts check` from cron instead).
    alert_webhook: str | None = None
    alert_interval: float = 60.0
    # The collector's bounds on a client (README, "Sending traffic"): seconds for a request's line and
    # headers to arrive, and for an idle keep-alive connection to be closed; a body must arrive at
    # body_min_rate bytes/s or faster, judged over every body_timeout seconds; the request head's
    # size and header count; payloads in one body.
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    body_timeout: float = 10.0
    body_min_rate: int = 10_000
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    max_payloads: int = 10_000

    @property
    def sign_in(self) -> bool:
        return bool(self.oidc_metadata_url and self.oidc_client_id and self.oidc_client_secret)

    @property
    def sign_in_problem(self) -> str | None:
        """Why this sign-in configuration cannot be served, in one line naming what is missing, or
        None: a sign-in setting without the others it needs (the dashboard would otherwise start
        without sign-in, showing every customer's data), or sign-in that lets no one in."""
        given = {"FOOTFALL_OIDC_METADATA_URL": bool(self.oidc_metadata_url),
                 "FOOTFALL_OIDC_CLIENT_ID": bool(self.oidc_client_id),
                 "FOOTFALL_OIDC_CLIENT_SECRET": bool(self.oidc_client_secret),
                 "FOOTFALL_ALLOWED_USERS": bool(self.allowed_users)}
        if self.sign_in and not self.allowed_users:
            return ("sign-in is on but FOOTFALL_ALLOWED_USERS is empty, so no analyst could enter; list e-mail "
                    "addresses and @domains, comma-separated")
        if self.assume_email_verified:
            given["FOOTFALL_OIDC_ASSUME_VERIFIED"] = True
        missing = [name for name, is_set in given.items() if not is_set]
        if not any(given.values()) or not missing:
            return None
        present = [name for name, is_set in given.items() if is_set]
        return (f"sign-in is only partly set up: {_listed(present)} {'is' if len(present) == 1 else 'are'} set but "
                f"{_listed(missing)} {'is' if len(missing) == 1 else 'are'} not; set "
                f"{'it' if len(missing) == 1 else 'them'} for sign-in, or unset {_listed(present)} for a "
                "dashboard without sign-in")


@dataclass(frozen=True)
class Address:
    """A URL Footfall prints or sends, and whether it had to guess it: then `setting` names what
    fixes the guess, and `note` says so in one line."""

    url: str  # ends with "/"
    setting: str | None = None  # set when guessed: FOOTFALL_DASHBOARD_URL or FOOTFALL_COLLECTOR_URL
    used_by: str = "analysts"

    @property
    def note(self) -> str | None:
        if self.setting is None:
            return None
        return f"guessed {self.url}: set {self.setting} to the address {self.used_by} use"

    def at(self, path: str) -> str:
        """The URL of a path under this address."""
        return self.url + path.lstrip("/")


def dashboard_url(config: Settings, served: tuple[str, int] | None = None) -> Address:
    """The dashboard's address, which every URL Footfall prints or sends to analysts starts from
    (the start-up line, sign-in's redirect, customer links): FOOTFALL_DASHBOARD_URL when set; else,
    in the process that serves the dashboard, the host and port it `served` on; else (another shell
    cannot know the port a dashboard was started with) FOOTFALL_DASHBOARD_HOST and
    FOOTFALL_DASHBOARD_PORT, a guess that says so."""
    return _address(config.dashboard_url_setting, served, (config.dashboard_host, config.dashboard_port),
                    "FOOTFALL_DASHBOARD_URL", "analysts")


def collector_url(config: Settings, served: tuple[str, int] | None = None) -> Address:
    """The collector's address, where SDKs send their payloads: FOOTFALL_COLLECTOR_URL when set (an
    address in front of it, a TLS terminator's), else as dashboard_url() guesses it, from
    FOOTFALL_COLLECTOR_HOST and FOOTFALL_COLLECTOR_PORT."""
    return _address(config.collector_url_setting, served, (config.collector_host, config.collector_port),
                    "FOOTFALL_COLLECTOR_URL", "SDKs")


def _address(setting: str | None, served: tuple[str, int] | None, configured: tuple[str, int], name: str,
             used_by: str) -> Address:
    if setting:
        return Address(setting.rstrip("/") + "/")
    host, port = served or configured
    host = (host or "").strip()  # Streamlit's server.address is None when not set
    # Served on one interface, that is the address; on every interface, which of them analysts reach is a guess.
    guessed = served is None or host in _EVERY_INTERFACE
    return Address(f"http://{_url_host(host)}:{port}/", name if guessed else None, used_by)


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip().lower() for part in (text or "").split(",") if part.strip()))


def _days(text: str | None) -> int | None:
    if not text or not text.strip():
        return None
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(f"FOOTFALL_RETENTION_DAYS must be a whole number of days, 1 or more, not {text!r}")
    return days


def _interval(text: str | None) -> float:
    """FOOTFALL_ALERT_INTERVAL: seconds between the collector's alert checks (default 60; 0: none)."""
    if not text or not text.strip():
        return 60.0
    seconds = float(text)
    if not seconds >= 0:
        raise ValueError(f"FOOTFALL_ALERT_INTERVAL must be a number of seconds, 0 or more, not {text!r}")
    return seconds


def _positive(env, name: str, default: float, kind: type = float, most: float | None = None) -> float:
    """A setting that must be a number over 0 (and at most `most`): a timeout, a rate, a cap, a
    lifetime; or its default."""
    text = env.get(name)
    if not text or not text.strip():
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not value > 0 or (most is not None and value > most):
        bound = f" and at most {most:g}" if most is not None else ""
        raise ValueError(f"{name} must be a {'whole ' if kind is int else ''}number over 0{bound}, not {text!r}")
    return value


def _yes(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "true", "yes")


def _quiet_rule(env) -> QuietRule:
    """Gone quiet's thresholds: the defaults of core.quiet.QuietRule, each one settable."""
    default = QuietRule()
    try:
        return QuietRule(
            recent_days=int(env.get("FOOTFALL_QUIET_RECENT_DAYS") or default.recent_days),
            baseline_weeks=int(env.get("FOOTFALL_QUIET_BASELINE_WEEKS") or default.baseline_weeks),
            min_drop=float(env.get("FOOTFALL_QUIET_MIN_DROP") or default.min_drop),
            silence_factor=float(env.get("FOOTFALL_QUIET_SILENCE_FACTOR") or default.silence_factor),
            min_baseline=int(env.get("FOOTFALL_QUIET_MIN_BASELINE") or default.min_baseline),
        )
    except ValueError as error:
        raise ValueError(f"FOOTFALL_QUIET_*: {error}") from None


def settings(environ: dict[str, str] | None = None) -> Settings:
    """The settings from the environment (os.environ unless given), with their defaults."""
    env = os.environ if environ is None else environ
    dashboard_host = env.get("FOOTFALL_DASHBOARD_HOST") or LOOPBACK
    dashboard_port = int(env.get("FOOTFALL_DASHBOARD_PORT", "8501"))
    return Settings(
        db_path=database(env.get("FOOTFALL_DB") or DEFAULT_DB),
        collector_host=env.get("FOOTFALL_COLLECTOR_HOST") or LOOPBACK,
        collector_port=int(env.get("FOOTFALL_COLLECTOR_PORT", "8470")),
        # Processes serving the collector; each parses and enriches, SQLite serialises their commits.
        collector_workers=max(1, int(env.get("FOOTFALL_COLLECTOR_WORKERS") or os.cpu_count() or 1)),
        dashboard_host=dashboard_host,
        dashboard_port=dashboard_port,
        dashboard_url_setting=(env.get("FOOTFALL_DASHBOARD_URL") or "").strip() or None,
        collector_url_setting=(env.get("FOOTFALL_COLLECTOR_URL") or "").strip() or None,
        max_body_bytes=int(env.get("FOOTFALL_MAX_BODY_BYTES", str(5 * 1024 * 1024))),
        # Set by `footfall collect` for its HTTP workers: where its writer process listens.
        writer_socket=env.get("FOOTFALL_WRITER_SOCKET") or None,
        oidc_metadata_url=env.get("FOOTFALL_OIDC_METADATA_URL") or None,
        oidc_client_id=env.get("FOOTFALL_OIDC_CLIENT_ID") or None,
        oidc_client_secret=env.get("FOOTFALL_OIDC_CLIENT_SECRET") or None,
        allowed_users=_names(env.get("FOOTFALL_ALLOWED_USERS")),
        auth_proxy=(env.get("FOOTFALL_AUTH_PROXY") or "").strip().lower() in ("1", "true", "yes"),
        retention_days=_days(env.get("FOOTFALL_RETENTION_DAYS")),
        masked_names=_names(env.get("FOOTFALL_MASKED_NAMES")),
        quiet_rule=_quiet_rule(env),
        signals_interval=float(env.get("FOOTFALL_SIGNALS_INTERVAL") or 300),
        link_secret=env.get("FOOTFALL_LINK_SECRET") or None,
        cookie_secret=env.get("FOOTFALL_COOKIE_SECRET") or None,
        session_hours=_positive(env, "FOOTFALL_SESSION_HOURS", DEFAULT_SESSION_HOURS, most=MAX_SESSION_HOURS),
        assume_email_verified=_yes(env.get("FOOTFALL_OIDC_ASSUME_VERIFIED")),
        alert_webhook=(env.get("FOOTFALL_ALERT_WEBHOOK") or "").strip() or None,
        alert_interval=_interval(env.get("FOOTFALL_ALERT_INTERVAL")),
        header_timeout=_positive(env, "FOOTFALL_HEADER_TIMEOUT", 10.0),
        keep_alive_timeout=_positive(env, "FOOTFALL_KEEP_ALIVE_TIMEOUT", 5.0),
        body_timeout=_positive(env, "FOOTFALL_BODY_TIMEOUT", 10.0),
        body_min_rate=_positive(env, "FOOTFALL_BODY_MIN_RATE", 10_000, int),
        max_header_bytes=_positive(env, "FOOTFALL_MAX_HEADER_BYTES", 64 * 1024, int),
        max_headers=_positive(env, "FOOTFALL_MAX_HEADERS", 100, int),
        max_payloads=_positive(env, "FOOTFALL_MAX_PAYLOADS", 10_000, int),
    )


def _url_host(host: str) -> str:
    """A host as it goes into a URL: an IPv6 address in brackets; every interface as loopback."""
    if host in _EVERY_INTERFACE:
        return LOOPBACK
    return f"[{host}]" if ":" in host else host
