"""Who made a call that names no customer itself: an API's identity rules, tried in order, first
found wins (after the call's own user id: core/customer.py, which always wins).

| rule           | the customer                                                                  |
|----------------|-------------------------------------------------------------------------------|
| header:NAME    | the value of the request header NAME (`-` and `_` alike: OpenTelemetry instrumentations write one for the other) |
| jwt:CLAIM      | the top-level claim CLAIM of the bearer JWT in Authorization, read without verifying it (Footfall reports usage, it grants no access); its name from the `name` claim, else `email` |
| key:NAME       | an API key in the request header NAME: the customer it is mapped to (`footfall customers map`), else `key_` + a keyed fingerprint of it |
| key:query:NAME | an API key in the query parameter NAME, the same way                          |
| query:NAME     | the value of the query parameter NAME                                          |

`key:header:NAME` is read as `key:NAME`. A header name cannot hold `:`, so `key:query:NAME` is never
a header's. A rule that finds nothing usable (the header or parameter absent or empty, a token that
is no JWT, a claim that is not text or a number, an ID over MAX_CUSTOMER_ID characters) hands over to
the next; after the last, the call is unattributed.

Keys are secrets: only their keyed hash (key_digest: HMAC-SHA256 under a key kept with the database)
is ever kept, the key's header or parameter is masked for the API (ApiIdentity.masking), and no
message says a key. A value a header, query or JWT rule takes is the caller's to choose: any name
beside it only names a customer nothing named yet (core/customer.py).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import orjson
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from core.customer import Customer, clean
from core.keys import key_hash
from core.masking import Masking, masking_for
from core.payload import MAX_CUSTOMER_ID, MAX_CUSTOMER_NAME

KINDS = ("header", "jwt", "key", "query")
FINGERPRINT_PREFIX = "key_"
FINGERPRINT_HEX = 16  # 64 bits of the digest: no two of billions of keys share one
MAX_RULE_NAME = 256
MAX_RULES = 16
MAX_TOKEN = 16 * 1024  # a longer Authorization value is no JWT worth reading
CACHED_TOKEN = 2048  # a JWT's claims are cached for tokens up to this long (4,096 of them)
CACHED_KEY = 256  # a key's digest is cached for keys up to this long (16,384 of them)
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110's token
_QUERY_NAME = re.compile(r"[^\s&=#]+")
_BEARER = re.compile(r"bearer\s+", re.IGNORECASE)
CSV_COLUMNS = ("key", "customer_id", "name")
MAX_MAP_ERRORS = 20  # a refused file's problems listed, at most


class RuleError(ValueError):
    """A rule Footfall does not read; the message says what is wrong and what it takes."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One identity rule: its kind (KINDS), the header, claim or query parameter it reads, and for
    a key rule whether the key is in the query rather than a header."""

    kind: str
    name: str
    in_query: bool = False

    def __str__(self) -> str:
        if self.kind == "key" and self.in_query:
            return f"key:query:{self.name}"
        return f"{self.kind}:{self.name}"

    @property
    def reads_query(self) -> bool:
        return self.kind == "query" or (self.kind == "key" and self.in_query)


RULE_SYNTAX = "header:NAME, jwt:CLAIM, key:NAME (a key in a header), key:query:NAME (a key in the query) or query:NAME"


def parse_rule(text: str) -> Rule:
    """The rule `text` writes (the module's table); RuleError naming what is wrong."""
    kind, colon, name = text.strip().partition(":")
    kind = kind.lower()
    if not colon or kind not in KINDS:
        raise RuleError(f"{_shown(text)} is not a rule: write {RULE_SYNTAX}")
    in_query = False
    if kind == "key":
        place, colon, rest = name.partition(":")
        if colon and place.lower() in ("query", "header"):
            in_query, name = place.lower() == "query", rest
    if not name:
        raise RuleError(f"{_shown(text)} names nothing after {kind}:")
    if len(name) > MAX_RULE_NAME:
        raise RuleError(f"{_shown(text)}: a name may have at most {MAX_RULE_NAME} characters")
    if kind == "jwt":
        if name != name.strip() or not name.isprintable():
            raise RuleError(f"{_shown(text)}: a claim's name has no spaces around it and no control characters")
        return Rule(kind, name)
    if kind == "query" or in_query:
        if not _QUERY_NAME.fullmatch(name):
            raise RuleError(f"{_shown(text)}: a query parameter's name has no spaces, '&', '=' or '#'")
        return Rule(kind, name, in_query)
    if not _HEADER_NAME.fullmatch(name):
        raise RuleError(f"{_shown(text)}: {_shown(name)} is not a header name (letters, digits and !#$%&'*+-.^_`|~)")
    return Rule(kind, name.lower())


def parse_rules(texts: Iterable[str]) -> tuple[Rule, ...]:
    """The rules in order; RuleError for one Footfall does not read, the same rule twice, or more
    than MAX_RULES."""
    rules = tuple(parse_rule(text) for text in texts)
    if len(rules) > MAX_RULES:
        raise RuleError(f"{len(rules)} rules; an API has at most {MAX_RULES}")
    seen = set()
    for rule in rules:
        if rule in seen:
            raise RuleError(f"{rule} is given twice")
        seen.add(rule)
    return rules


class MappedCustomer(NamedTuple):
    """The customer an API key is mapped to (`footfall customers map`), and the name given them."""

    customer_id: str
    name: str | None = None


def key_digest(secret: bytes, key: str) -> str:
    """What is kept of an API key: its HMAC-SHA256 under the database's identity key, hex. Keyed,
    so that a short or guessable key cannot be found from the database alone."""
    return hmac.new(secret, key.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def fingerprint(digest: str) -> str:
    """The customer ID of a key mapped to no customer: `key_` and the start of its digest."""
    return FINGERPRINT_PREFIX + digest[:FINGERPRINT_HEX]


def key_text(value: Any) -> str | None:
    """An API key as sent: the text (a repeated header's first value) without white space around it
    or a `Bearer ` before it; None when nothing is left."""
    if type(value) is list:
        value = value[0] if value else None
    if type(value) is not str:
        return str(value) if type(value) is int else None
    text = value.strip()
    if text[:6].lower() == "bearer":
        text = _BEARER.sub("", text, count=1).strip()
    return text or None


@dataclass(frozen=True)
class ApiIdentity:
    """One API's identity rules, with what its key rules need: the database's identity key
    (`secret`) and the keys mapped to customers (key_digest -> MappedCustomer)."""

    rules: tuple[Rule, ...]
    secret: bytes | None = None
    mapped: Mapping[str, MappedCustomer] = field(default_factory=dict)
    _maskings: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def key_names(self) -> tuple[str, ...]:
        """The headers and query parameters the key rules read: secret for this API."""
        return tuple(rule.name for rule in self.rules if rule.kind == "key")

    def masking(self, masking: Masking) -> Masking:
        """`masking` with the key rules' names added: a key in a header or parameter whose name
        gives no secret away (x-client, ?client=) is masked as any other secret."""
        names = self.key_names
        if not names:
            return masking
        found = self._maskings.get(masking.names)
        if found is None:
            found = self._maskings[masking.names] = masking_for(tuple(dict.fromkeys((*masking.names, *names))))
        return found

    def customer(self, headers: dict[str, Any], query: str) -> Customer | None:
        """The customer the first rule finds in the request's headers (lower-case names) and
        query string, None when no rule finds one."""
        parameters = None
        for rule in self.rules:
            if rule.reads_query:
                if parameters is None:
                    parameters = _parameters(query)
                value = parameters.get(rule.name)
            elif rule.kind == "jwt":
                value = _header(headers, "authorization")
            else:
                value = _header(headers, rule.name)
            if value is None:
                continue
            if rule.kind == "key":
                found = self._key_customer(value)
            elif rule.kind == "jwt":
                found = _jwt_customer(value, rule.name)
            else:
                customer_id = _customer_id(value)
                found = Customer(customer_id) if customer_id else None
            if found is not None:
                return found
        return None

    def _key_customer(self, value: Any) -> Customer | None:
        key = key_text(value)
        if key is None or self.secret is None:
            return None
        digest = _digest(self.secret, key)
        mapped = self.mapped.get(digest)
        if mapped is not None:
            return Customer(mapped.customer_id, mapped.name)  # the operator's: the server's word
        return Customer(fingerprint(digest))


@dataclass(frozen=True)
class Identities:
    """Every API's identity rules, by the hash of its key (core.keys.key_hash)."""

    by_key_hash: Mapping[str, ApiIdentity] = field(default_factory=dict)

    def of(self, api_key: str) -> ApiIdentity | None:
        """The rules of the API with this key, None when it has none."""
        return self.by_key_hash.get(key_hash(api_key)) if self.by_key_hash else None


NO_IDENTITIES = Identities()


def _header(headers: dict[str, Any], name: str) -> Any:
    value = headers.get(name)
    if value is None and ("-" in name or "_" in name):
        value = headers.get(name.replace("_", "-")) if "_" in name else headers.get(name.replace("-", "_"))
    return value


def _parameters(query: str) -> dict[str, str]:
    """The query's parameters, %-decoded, the first of a repeated one."""
    found: dict[str, str] = {}
    if query:
        for name, value in parse_qsl(query, keep_blank_values=False):
            found.setdefault(name, value)
    return found


def _customer_id(value: Any) -> str | None:
    """A customer ID a rule found: cleaned as core/customer.py cleans IDs; None when nothing is
    left or it is over MAX_CUSTOMER_ID (a cut one could merge two customers: the next rule)."""
    if isinstance(value, bool):
        return None
    customer_id = clean(value)
    return customer_id if customer_id is not None and len(customer_id) <= MAX_CUSTOMER_ID else None


def _jwt_customer(authorization: Any, claim: str) -> Customer | None:
    if type(authorization) is list:
        authorization = authorization[0] if authorization else None
    if type(authorization) is not str or len(authorization) > MAX_TOKEN:
        return None
    match = _BEARER.match(authorization.lstrip())
    if match is None:
        return None
    claims = _claims(authorization.lstrip()[match.end():].strip())
    if claims is None:
        return None
    customer_id = _customer_id(claims.get(claim)) if type(claims.get(claim)) in (str, int) else None
    if customer_id is None:
        return None
    for name_claim in ("name", "email"):
        name = claims.get(name_claim)
        name = clean(name, cut=4 * MAX_CUSTOMER_NAME) if type(name) is str else None
        if name:
            return Customer(customer_id, name[:MAX_CUSTOMER_NAME], name_by_caller=True)  # unverified: the caller's
    return Customer(customer_id)


def _claims(token: str) -> dict | None:
    """The claims of a JWS compact token, read without checking its signature; None for anything
    else (no JWT, a JWE, claims that are not a JSON object). Tokens come again and again: the
    claims of one up to CACHED_TOKEN characters are kept (the cache's memory stays bounded)."""
    return _cached_claims(token) if len(token) <= CACHED_TOKEN else _read_claims(token)


@lru_cache(maxsize=4096)
def _cached_claims(token: str) -> dict | None:
    return _read_claims(token)


def _read_claims(token: str) -> dict | None:
    try:
        claims = orjson.loads(extract_compact(token.encode("utf-8", "surrogatepass")).payload)
    except (JoseError, orjson.JSONDecodeError, ValueError, TypeError):
        return None
    return claims if type(claims) is dict else None


def _digest(secret: bytes, key: str) -> str:
    """key_digest, kept for keys up to CACHED_KEY characters (the same few keys call again and again)."""
    return _cached_digest(secret, key) if len(key) <= CACHED_KEY else key_digest(secret, key)


@lru_cache(maxsize=16384)
def _cached_digest(secret: bytes, key: str) -> str:
    return key_digest(secret, key)


# --- The key map's file (footfall customers map) --------------------------------------------------


class KeyMapError(ValueError):
    """A key map file Footfall does not take; `problems` says which lines, and why (never a key)."""

    def __init__(self, problems: list[str]):
        shown = problems[:MAX_MAP_ERRORS]
        more = f"\n  (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
        super().__init__("nothing was mapped:\n  " + "\n  ".join(shown) + more)
        self.problems = problems


class KeyMapping(NamedTuple):
    """A row of a key map file: the key (kept in memory only, to be hashed), its customer and name."""

    line: int
    key: str
    customer_id: str
    name: str | None


def read_key_map(text: str) -> list[KeyMapping]:
    """The rows of a key map (CSV: key,customer_id,name; a first row naming those columns is a
    header; name may be empty or left out), a later row for the same key replacing an earlier one.
    KeyMapError listing every line that cannot be taken, by number: then nothing is taken."""
    rows: dict[str, KeyMapping] = {}
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    first = True
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if first and [f.strip().lower() for f in fields[:2]] == list(CSV_COLUMNS[:2]):
                first = False
                continue  # the header row
            first = False
            problem = _row_problem(fields)
            if problem:
                problems.append(f"line {line}: {problem}")
                continue
            key = key_text(fields[0])
            rows.pop(key, None)  # the later row wins, and takes the later place
            name = clean(fields[2], cut=4 * MAX_CUSTOMER_NAME) if len(fields) > 2 else None
            rows[key] = KeyMapping(line, key, clean(fields[1]), name)
    except csv.Error as error:
        problems.append(f"line {reader.line_num}: not CSV: {error}")
    if problems:
        raise KeyMapError(problems)
    if not rows:
        raise KeyMapError(["the file holds no rows: write key,customer_id,name, one key a line"])
    return list(rows.values())


def _row_problem(fields: list[str]) -> str | None:
    """Why a row cannot be taken (never quoting its key), None when it can."""
    if len(fields) < 2 or len(fields) > 3:
        return f"{len(fields)} columns; write key,customer_id,name (name may be empty)"
    if key_text(fields[0]) is None:
        return "no key in the first column"
    customer_id = clean(fields[1])
    if customer_id is None:
        return "no customer_id in the second column"
    if len(customer_id) > MAX_CUSTOMER_ID:
        return f"the customer_id is {len(customer_id)} characters; a customer ID may have at most {MAX_CUSTOMER_ID}"
    if len(fields) > 2:
        name = clean(fields[2], cut=4 * MAX_CUSTOMER_NAME)
        if name is not None and len(name) > MAX_CUSTOMER_NAME:
            return f"the name is over {MAX_CUSTOMER_NAME} characters"
    return None


def _shown(text: str, limit: int = 60) -> str:
    shown = repr(text[:limit + 1])
    return shown if len(text) <= limit else shown[:limit] + "...'"
