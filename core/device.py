"""Device: what kind of client made a call, with its OS and browser, from the user agent.

Kinds, checked in this order (first that applies wins):

- ``unknown``: no user agent.
- ``api client``: an HTTP library, API tool or SDK (curl, python-requests, Postman, okhttp,
  `SomethingSDK/1.0`, ...). Its browser is the client's name (``curl``), its OS ``None``.
- ``bot``: a crawler from the `crawler-user-agents` list, an AI agent, or what ua-parser calls a
  Spider.
- ``tablet``: iPad, Kindle/Silk, the Tablet keyword, or an Android browser without "Mobile".
- ``mobile``: iPhone/iPod, "Mobi", Windows Phone, BlackBerry, Opera Mini, any iOS/Android app.
- ``desktop``: any other browser, or a desktop OS.
- ``api client`` again for any other bare `product/version` user agent (`MyService/2.3`);
  otherwise ``unknown``.

OS and browser are ua-parser's families, with the major version when it is a short number
(``iOS 17``, ``Windows 10``, ``Chrome 124``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from crawleruseragents import CRAWLER_USER_AGENTS_DATA
from ua_parser import BasicResolver, Parser, RegexResolver, Result, load_builtins, load_lazy_builtins

from core.ai_agent import PatternSet, ai_agent_of
from core.payload import MAX_USER_AGENT

DESKTOP = "desktop"
MOBILE = "mobile"
TABLET = "tablet"
BOT = "bot"
API_CLIENT = "api client"
UNKNOWN = "unknown"
KINDS = (DESKTOP, MOBILE, TABLET, BOT, API_CLIENT, UNKNOWN)


@dataclass(frozen=True, slots=True)
class Device:
    """What a user agent runs on: the kind (desktop, mobile, tablet, bot, API client, unknown), OS and browser."""

    kind: str
    os: str | None
    browser: str | None


# --- API clients ---------------------------------------------------------------------------------

# (pattern, name), matched case-insensitively; the pattern syntax is crawler-user-agents' (mostly
# literals; `^` anchors). Where several match, a plain substring wins over an anchored one.
_API_CLIENT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("curl/", "curl"), ("^curl$", "curl"),
    ("wget/", "Wget"),
    ("python-requests/", "python-requests"),
    ("python-httpx/", "python-httpx"),
    ("aiohttp/", "aiohttp"),
    ("python-urllib/", "Python-urllib"),
    ("urllib3/", "urllib3"),
    ("go-http-client/", "Go-http-client"),
    ("okhttp/", "okhttp"),
    ("axios/", "axios"),
    ("node-fetch", "node-fetch"),
    ("undici", "undici"),
    ("^node$", "node"),
    ("^deno/", "Deno"),
    ("^bun/", "Bun"),
    ("postmanruntime/", "Postman"),
    ("insomnia/", "Insomnia"),
    ("httpie/", "HTTPie"),
    ("^java/", "Java"),
    ("apache-httpclient/", "Apache-HttpClient"),
    ("jersey/", "Jersey"),
    ("reactornetty/", "ReactorNetty"),
    ("ktor client", "Ktor"),
    ("guzzle", "Guzzle"),
    ("faraday v", "Faraday"),
    ("ruby/", "Ruby"), ("^ruby$", "Ruby"), ("rubybindings/", "Ruby"),
    ("^dart/", "Dart"), ("dart:io", "Dart"),
    ("libwww-perl/", "libwww-perl"), ("lwp-trivial/", "libwww-perl"),
    ("restsharp/", "RestSharp"),
    ("treblle", "Treblle"),
    ("^k6/", "k6"),
    ("rapidapi/", "RapidAPI"),
    ("^paw/", "Paw"),
    ("bruno-runtime/", "Bruno"),
    ("thunder client", "Thunder Client"),
)
_API_CLIENTS = PatternSet([pattern for pattern, _ in _API_CLIENT_PATTERNS], ignore_case=True)
# Generic SDKs: MyCompanySDK/1.0, aws-sdk-js/2.1, acme-sdk-python/3
_SDK = re.compile(r"\b([A-Za-z][\w.-]*?sdk[\w.-]*)/v?\d", re.IGNORECASE)
_PRODUCT_TOKEN = re.compile(r"^([A-Za-z][\w.+-]*)/v?\d[\w.+-]*(?:\s|$)")


def _api_client(user_agent: str) -> str | None:
    index = _API_CLIENTS.find(user_agent)
    if index is not None:
        return _API_CLIENT_PATTERNS[index][1]
    if "sdk" in user_agent.lower() and (m := _SDK.search(user_agent)):
        return m.group(1)
    return None


# --- Crawlers ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)  # no arguments: the one PatternSet
def _crawlers() -> PatternSet:
    # Built on first use (~0.1 s for the 1,500 patterns), not at import.
    return PatternSet([entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA])


def _is_crawler(user_agent: str) -> bool:
    return _crawlers().find(user_agent) is not None


# --- ua-parser -----------------------------------------------------------------------------------

_parser: Parser | None = None
_parser_lock = threading.Lock()


def _parse(user_agent: str) -> Result:
    global _parser
    if _parser is None:
        with _parser_lock:
            if _parser is None:
                # No ua-parser cache: device_of has its own.
                if RegexResolver is not None:
                    _parser = Parser(RegexResolver(load_lazy_builtins()))
                else:  # pragma: no cover - the accelerator is a pinned dependency
                    _parser = Parser(BasicResolver(load_builtins()))
    return _parser.parse(user_agent)


def _family(family: str | None, major: str | None) -> str | None:
    if not family or family == "Other":
        return None
    if major and major.isdigit() and len(major) <= 3:
        return f"{family} {major}"
    return family


# --- Classification ------------------------------------------------------------------------------

_TABLET = re.compile(r"iPad|[Tt]ablet|\bKindle\b|\bSilk/|\bKF[A-Z]{2,4}\b|PlayBook")
_MOBILE = re.compile(r"iPhone|iPod|Mobi|Windows Phone|BlackBerry|BB10|Opera Mini|IEMobile|Symbian|J2ME")
_BROWSER_ENGINE = re.compile(r"AppleWebKit|Gecko/|Presto|Trident")
_DESKTOP_OS = frozenset({
    "Windows", "Mac OS X", "macOS", "Linux", "Ubuntu", "Debian", "Fedora", "Red Hat", "SUSE", "openSUSE",
    "Mint", "Arch Linux", "Gentoo", "Mandriva", "CentOS", "Chrome OS", "ChromeOS", "FreeBSD", "OpenBSD",
    "NetBSD", "Solaris", "Haiku",
})
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "Symbian OS", "KaiOS", "HarmonyOS"})


NO_USER_AGENT = Device(UNKNOWN, None, None)


def device_of(user_agent: str | None) -> Device:
    """The device behind a user agent (ua-parser, plus the API clients and bots it does not know).
    Only the first MAX_USER_AGENT characters are read (real ones are a few hundred)."""
    if not user_agent:
        return NO_USER_AGENT
    return _device_of(user_agent if len(user_agent) <= MAX_USER_AGENT else user_agent[:MAX_USER_AGENT])


@lru_cache(maxsize=16384)  # keys of at most MAX_USER_AGENT characters: 16 Mi characters at most
def _device_of(user_agent: str) -> Device:
    ua = user_agent.strip()
    if not ua:
        return NO_USER_AGENT

    client = _api_client(ua)
    if client is not None:
        return Device(API_CLIENT, None, client)

    parsed = _parse(ua)
    os = _family(parsed.os.family if parsed.os else None, parsed.os.major if parsed.os else None)
    browser = _family(
        parsed.user_agent.family if parsed.user_agent else None, parsed.user_agent.major if parsed.user_agent else None
    )
    device_family = parsed.device.family if parsed.device else ""
    os_family = parsed.os.family if parsed.os else ""

    agent = ai_agent_of(ua)
    if agent is not None or device_family == "Spider" or _is_crawler(ua):
        return Device(BOT, os, agent or browser)

    is_android = "Android" in ua
    if (
        _TABLET.search(ua)
        or "Tablet" in device_family
        or (is_android and "Mobile" not in ua and _BROWSER_ENGINE.search(ua))
    ):
        return Device(TABLET, os, browser)
    if _MOBILE.search(ua) or os_family in _MOBILE_OS or device_family in ("Generic Smartphone", "Generic Feature Phone"):
        return Device(MOBILE, os, browser)
    if os_family in _DESKTOP_OS or (browser is not None and _BROWSER_ENGINE.search(ua)):
        return Device(DESKTOP, os, browser)

    m = _PRODUCT_TOKEN.match(ua)
    if m and not ua.startswith(("Mozilla/", "Opera/")):
        return Device(API_CLIENT, None, m.group(1))
    return Device(UNKNOWN, os, browser)


device_of.cache_info = _device_of.cache_info  # the cache behind it
device_of.cache_clear = _device_of.cache_clear
