"""Threat level of a call, low / medium / high, with the reasons kept.

- high: an injection pattern (SQL, XSS, path traversal, command) in the path, query or body,
  or plain HTTP to a public host;
- medium: a successful call (2xx/3xx) without any authorization header;
- low: otherwise.

Path and query are URL-decoded (repeatedly, to see through double encoding) and lower-cased before
scanning; so is the body (its first 64 KiB; decoded only when it carries %-escapes). The patterns
aim at attack syntax, not at SQL or HTML words: `select`, `update`, O'Brien, `--` in dates and
UUIDs, a single `../` in a body are all ordinary. Loopback and private hosts over HTTP are not a
threat; a host is private when it is a loopback/private/reserved address, `localhost`, a bare
name without a dot, or ends in an internal suffix (`.local`, `.internal`, `.lan`, ...).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, unquote_plus

from core.payload import MAX_HOST

LOW = "low"
MEDIUM = "medium"
HIGH = "high"
LEVELS = (LOW, MEDIUM, HIGH)

MAX_BODY_SCAN = 64 * 1024

SQL_INJECTION = "SQL injection pattern"
XSS = "XSS pattern"
PATH_TRAVERSAL = "Path traversal"
COMMAND_INJECTION = "Command injection pattern"
NO_AUTHORIZATION = "No authorization on successful call"
PLAIN_HTTP = "Plain HTTP to public host"


@dataclass(frozen=True, slots=True)
class Threat:
    """A call's threat level (low, medium, high) and the reasons for it."""

    level: str
    reasons: tuple[str, ...]


# --- Patterns -----------------------------------------------------------------------------------
#
# Matched against prepared text: URL-decoded, lower-cased, backslashes as slashes. Every call is
# scanned, so speed matters. Each rule has a gate, a character every match contains (or None): the
# regex is only tried when its gate is in the text, and every regex starts with a literal, so
# Python's `re` jumps between occurrences of it instead of trying each alternative at every
# position. Most gates never occur in ordinary JSON; a clean 500-byte body costs a few µs, and
# every repetition is bounded, so no pattern backtracks badly on a 64 KiB body.

_TAUTOLOGY_REST = r"""\s*(?:\)\s*)?(?:(?:or|and)\b|\|\||&&)\s*(?:\(\s*)?['"]?[\w-]{1,64}['"]?\s*(?:=|<>|!=|<|>|like\s)"""
_CMD = (  # a shell command after a separator
    r"(?:whoami|uname|ifconfig|ipconfig|nslookup|netcat|ncat|telnet|powershell)\b(?!\s*=)"
    r"|id\s*(?:$|[;|&`#)\"'])|cmd(?:\.exe)?\s*/c|chmod\s+[+0-7]|rm\s+-[rf]|nc\s+-?[a-z\d]|ping\s+-[nc]"
    r"|(?:wget|curl)\s+(?:-\w|https?:|ftp:|\d{1,3}\.\d)|(?:ba|z|k|da)?sh\s+-[ci]"
    r"|(?:python[23]?|perl|ruby|php|node)\s+-[ec]\b|(?:cat|tac|more|less|head|tail|nl)\s+(?:\S{0,100}/|~|\.\w)"
    r"|/(?:usr/)?bin/"
)
_SHELL = r"(?:ba|z|k|da)?sh\b|(?:python[23]?|perl|ruby|php)\b"  # piped into: | sh, |bash

# (kind, gate, pattern, where): where is "url" (path and query), "body" or "all"
_RULES: tuple[tuple[str, str | None, str, str], ...] = (
    # SQL: a tautology after a quote (' or 1=1, ' OR 'a'='a, ') or ('x'='x, '||'1'='1), a comment
    # after a quote (admin'--, ' #), time delays and file writes taking a quoted argument. In a
    # JSON body double quotes are the syntax, so there only single quotes count.
    ("sql", "'", r"'(?:" + _TAUTOLOGY_REST + r"|\s*(?:--|#|/\*)|(?<=delay ')|(?<=outfile ')|(?<=dumpfile '))", "all"),
    ("sql", '"', r'"(?:' + _TAUTOLOGY_REST + r'|\s*(?:--|#|/\*))', "url"),
    ("sql", ")", r"\)\s*(?:--|#|/\*)", "all"),
    ("sql", "=", r"o(?<![a-z]o)r\s+(\d+)\s*=\s*\1\b", "all"),  # 1 or 1=1
    ("sql", "=", r"a(?<![a-z]a)nd\s+(\d+)\s*=\s*\1\b", "all"),
    ("sql", None, r"union(?:\s|\+|\(|/\*[^*]{0,50}\*/)+(?:all\s+|distinct\s+)?select\b", "all"),
    # stacked statements: '; DROP TABLE users, ; exec master..xp_cmdshell
    ("sql", ";", r";\s*(?:(?:drop|truncate|alter)\s+(?:table|database|schema|user)\b|delete\s+from\b"
     r"|insert\s+into\b|update\s+[\w.`\"\[\]]{1,64}\s+set\b|exec(?:ute)?[\s(]|shutdown\b|declare\s+@)", "all"),
    ("sql", "(", r"\((?:(?<=sleep\()\s*\d|(?<=benchmark\()\s*\d|(?<=load_file\())", "all"),
    ("sql", "(", r"information_schema\b|xp_cmdshell\b", "all"),
    ("sql", "@", r"@@(?:version|datadir|hostname|servername)\b", "url"),
    ("sql", "*", r"/\*!\d*\s*\w", "url"),  # MySQL versioned comment: /*!50000select*/
    # XSS
    ("xss", "<", r"<\s*(?:/\s*)?(?:script|iframe)\b|<\s*[a-z]{1,20}\b[^<>]{0,300}?\bon[a-z]{4,20}\s*=", "all"),
    # javascript: URLs. In a body, only with what a payload needs to run: ( = ` or an entity.
    ("xss", None, r"script(?:(?<=javascript)|(?<=vbscript))\s*:", "url"),
    *(("xss", gate, r"script(?:(?<=javascript)|(?<=vbscript))\s*:", "body") for gate in "(=`&"),
    ("xss", "=", r"o(?<![a-z]o)n(?:error|load|click|dblclick|mouseover|mouseenter|mouseout|mousedown|mouseup"
     r"|mousemove|focus|focusin|blur|change|input|submit|keydown|keyup|keypress|toggle|animationstart"
     r"|animationend|transitionend|pointerover|pointerdown|begin|unload|beforeunload|resize|scroll|wheel"
     r"|hashchange|message|pageshow)\s*=", "all"),
    ("xss", "(", r"\((?<=fromcharcode\()|\((?<=expression\()", "all"),
    ("xss", ";", r"data:\s*text/html", "all"),
    ("xss", ",", r"data:\s*text/html", "url"),
    # Path traversal. In a body a single ../ is ordinary (relative links); two levels are not.
    ("traversal", None, r"\.\.(?:;?/|(?<=/\.\.)$)", "url"),
    ("traversal", None, r"\.\./\.\./", "body"),
    ("traversal", None, r"/(?:etc/(?:passwd|shadow|group|hosts)\b|proc/self/|\.ssh/|\.htpasswd\b"
     r"|windows/system32\b|(?:win|boot|system)\.ini\b)", "all"),
    ("traversal", "%", r"%(?:2e%2e|2e\.|c0%ae|c0%af|e0%80%ae|uff0e|u2216)", "url"),  # left after 3 decodings
    # Command injection: a command after ; | || & && or a newline; piping into a shell;
    # $(...) and `...` substitution.
    ("command", ";", r";\s*(?:" + _CMD + ")", "all"),
    ("command", ";", r";\s*sleep\s+\d", "url"),
    ("command", "|", r"\|\|?\s*(?:" + _CMD + "|" + _SHELL + ")", "all"),
    ("command", "&", r"&&?\s*(?:" + _CMD + ")", "all"),
    ("command", "\n", r"\n\s*(?:" + _CMD + ")", "url"),  # a JSON body has no raw newline
    ("command", "$", r"\$\(\s*[a-z_/.]|\$\{ifs\}", "all"),
    ("command", "`", r"`\s*(?:whoami|uname|id|cat|ls|wget|curl|nc|sleep|ping|echo|bash|sh|nslookup|rm|python[23]?"
     r"|perl|php)\b[^`]{0,200}`", "all"),
)
_KIND_REASON = {"sql": SQL_INJECTION, "xss": XSS, "traversal": PATH_TRAVERSAL, "command": COMMAND_INJECTION}
# Gates common in ordinary JSON are checked on their own; the rarer ones in one quick pass.
_COMMON_GATES = ("'", '"', "@")
# A path or query made only of these characters (no %-escapes, no `..`) can only hold a
# sensitive file name (/etc/passwd) of all the patterns: the fast path for the usual URL.
_PLAIN_URL = re.compile(r"[A-Za-z0-9/_.,=&~-]*")
_SENSITIVE_FILE = next(re.compile(p) for _, _, p, _ in _RULES if p.startswith("/(?:etc"))

_Rule = tuple[str, re.Pattern[str]]


class _Scanner:
    """The rules for one kind of field (URL or body), by gate."""

    def __init__(self, where: str) -> None:
        ungated: list[_Rule] = []
        gated: dict[str, list[_Rule]] = {}
        for kind, gate, pattern, rule_where in _RULES:
            if rule_where in (where, "all"):
                rule = (kind, re.compile(pattern))
                if gate is None:
                    ungated.append(rule)
                else:
                    gated.setdefault(gate, []).append(rule)
        self.ungated = tuple(ungated)
        self.common = tuple((g, tuple(gated[g])) for g in _COMMON_GATES if g in gated)
        self.rare = {g: tuple(rules) for g, rules in gated.items() if g not in _COMMON_GATES}
        self.rare_gates = tuple(self.rare)

    def kinds(self, text: str) -> set[str]:
        found: set[str] = set()
        for kind, regex in self.ungated:
            if kind not in found and regex.search(text) is not None:
                found.add(kind)
        for gate, rules in self.common:
            if gate in text:
                for kind, regex in rules:
                    if kind not in found and regex.search(text) is not None:
                        found.add(kind)
        for gate in [g for g in self.rare_gates if g in text]:
            for kind, regex in self.rare[gate]:
                if kind not in found and regex.search(text) is not None:
                    found.add(kind)
        return found


_URL = _Scanner("url")
_BODY = _Scanner("body")


# Bodies with nothing to scan (GET requests mostly).
_EMPTY_BODIES = frozenset({"", "null", "{}", "[]", '""', "true", "false"})
# Paths and queries repeat a lot: the verdicts on short ones are cached, so the cache holds at
# most 65,536 x 256 characters of keys (see core/record.py).
_CACHED_URL_LENGTH = 256


def injection_kinds(text: str, field: str) -> tuple[str, ...]:
    """The kinds of injection ('sql', 'xss', 'traversal', 'command') in a path, query or body
    (its first 64 KiB)."""
    if field == "body":
        if len(text) < 6 and text in _EMPTY_BODIES:
            return ()
        return _ordered(_BODY.kinds(_prepare(text[:MAX_BODY_SCAN], field)))
    if len(text) <= _CACHED_URL_LENGTH:
        return _url_kinds(text, field)
    return _url_kinds.__wrapped__(text[:MAX_BODY_SCAN], field)


@lru_cache(maxsize=65536)
def _url_kinds(text: str, field: str) -> tuple[str, ...]:
    if _PLAIN_URL.fullmatch(text) and ".." not in text:
        return ("traversal",) if _SENSITIVE_FILE.search(text.lower()) else ()
    return _ordered(_URL.kinds(_prepare(text, field)))


def _ordered(found: set[str]) -> tuple[str, ...]:
    return tuple(kind for kind in _KIND_REASON if kind in found) if found else ()


def assess_threat(
    *,
    scheme: str | None,
    host: str | None,
    path: str,
    query: str,
    body: str,
    status: int,
    has_authorization: bool,
) -> Threat:
    """The threat level of a call, with its reasons (see the design's enrichment rules)."""
    reasons: list[str] = []
    for field, text in (("path", path), ("query", query), ("body", body)):
        if text:
            for kind in injection_kinds(text, field):
                reasons.append(f"{_KIND_REASON[kind]} in {field}")
    high = bool(reasons)

    if scheme is not None and scheme.lower() == "http" and host:
        public = public_host(host)
        if public is not None:
            reasons.append(f"{PLAIN_HTTP} {public}")
            high = True

    if 200 <= status < 400 and not has_authorization:
        reasons.append(NO_AUTHORIZATION)
    return _threat(tuple(reasons), high)


@lru_cache(maxsize=1024)
def _threat(reasons: tuple[str, ...], high: bool) -> Threat:
    # Threats repeat (mostly no reason at all); a frozen dataclass costs ~1 µs to build.
    return Threat(HIGH if high else MEDIUM if reasons else LOW, reasons)


def _prepare(text: str, field: str) -> str:
    """URL-decode until stable (at most 3 rounds: sees through double and triple encoding),
    lower-case, backslashes as slashes (Windows paths; JSON's escaped backslashes). A query's
    `+` is a space; so is a body's when the body is URL-encoded (has %-escapes)."""
    if "%" in text or (field == "query" and "+" in text):
        decode = unquote if field == "path" else unquote_plus
        for _ in range(3):
            decoded = decode(text)
            if decoded == text:
                break
            text = decoded
            if "%" not in text:
                break
    text = text.lower()
    if "\\" in text:
        text = text.replace("\\\\", "/").replace("\\", "/")
    return text


# --- Hosts ---------------------------------------------------------------------------------------

PRIVATE_SUFFIXES = (
    ".localhost", ".local", ".internal", ".lan", ".home", ".home.arpa", ".localdomain", ".corp",
    ".intranet", ".private", ".test", ".example", ".invalid", ".svc",
)


def public_host(host: str) -> str | None:
    """The host name (no user info, no port, lower-case) when it is public; None for loopback,
    private, link-local and reserved addresses, `localhost`, bare names without a dot, and
    internal suffixes (`.local`, `.internal`, `.lan`, ...). Of a longer host only the first
    MAX_HOST characters after any user info are read."""
    if len(host) > MAX_HOST:
        host = host.rsplit("@", 1)[-1][:MAX_HOST]
    return _public_host(host)


@lru_cache(maxsize=4096)  # keys of at most MAX_HOST characters
def _public_host(host: str) -> str | None:
    name = host.strip().lower()
    if "@" in name:
        name = name.rsplit("@", 1)[1]
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    name = name.rstrip(".")
    if not name:
        return None
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        pass
    else:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return name if address.is_global else None
    if "." not in name or name == "localhost" or name.endswith(PRIVATE_SUFFIXES):
        return None
    return name


public_host.cache_info = _public_host.cache_info  # the cache behind it
public_host.cache_clear = _public_host.cache_clear
