"""Secrets never reach the database: mask them in headers, bodies and query strings first.

A value is masked when its *name* is secret: a header name, a body field name at any depth, or a
query or form parameter name. The value is replaced by "*****", as the Treblle SDKs write it.

How a name is judged
--------------------
1. The name is cut to its first 200 characters, %-decoded when it holds `%` or `+` (query and form
   names), and split into lower-case words at every character that is not an ASCII letter or digit
   and at camelCase boundaries: `X-Session-Token`, `session_token`, `sessionToken` and
   `SESSION_TOKEN` are all the words (session, token); `APIKey` is (api, key); `cvv2` is (cvv, 2).
2. It is secret when it holds a secret term:
   - inside any word: passw (password, passwd, passwort), pwd, passphrase, passcode, secret (but not
     secretary/secretariat), token (but not tokenize/tokenizer/tokenized/tokenization), signature,
     session, sessid, cookie, authorization/authorisation, jwt, credential, cvv, cvc, hmac;
   - across words, separators ignored: apikey, accesskey, privatekey, signingkey, encryptionkey,
     cardnumber, ccnumber, creditscore, socialsecurity; and cardno, ccnum ending where a word ends
     (card_no, cc_num; not card_notes);
   - as a whole word: auth, authn, authz, authentication, pass, pw, sig, pan, ssn, iban, cc, ccv,
     hotp, and words starting with otp or totp (otp, otpcode, totp_secret);
     pin as a whole word except right before the word code.
3. Unless it only describes the secret:
   - a word after the last secret term (the rest of that term's own word counts as a word: the
     `count` of `sessioncount`) is one of: count, counts, type, policy, version, length, duration,
     ttl, timeout, expiry, expires, expiration, required, enabled, provider, method, scheme,
     algorithm (session_count, token_type, token_type_hint, password_policy, tokenExpiresIn,
     auth_provider, signature_method);
   - or its first word is a quantity: max, min, total, num (max_sessions, total_tokens);
   - or the word tokens follows prompt, completion, input, output, cached, reasoning, total, max
     (LLM usage counts: prompt_tokens, completion_tokens_details).
4. An operator's extra names (FOOTFALL_MASKED_NAMES, given to `Masking`) mask the names whose words,
   run together, equal theirs run together: `customer_ref` masks customer_ref, customerRef and
   Customer-Ref, not customer_reference. An operator's name masks even a name rule 3 would keep.

Decisions on near-misses, kept visible: author, authority, authored_at, authenticated,
oauth_provider, www-authenticate (no secret word; `oauth` is not `auth`); tokenizer_version,
tokenized_card (a tokenized card is meant to be safe to keep); session_count, password_policy,
password_min_length, token_type, auth_type (describe a secret); secretary; description, passenger,
passport, bypass_warning, compass, spin, opinion, pinned, signup, design, signal, company, expand,
classname, footprint, hotpath (the secret letters are inside an ordinary word or across two);
pin_code and pincode (an Indian postal code; a card PIN is `pin`, `card_pin`, `pin_number`); `key`
and `code` alone (too common to mask: an OAuth `?code=` is not masked). Masked on purpose: cc
(carbon copy too: the SDKs mask it), sessions, auth_url (masking what is not secret is cheaper than
the other way round).

Where names are looked for
--------------------------
- Headers: a secret name masks the whole value. In every other header value, the query string of
  each URL in it (after `?`, up to `#`, a space, `<`, `>` or a quote) is masked like a request's
  query: Referer, Location, Content-Location, Link, X-Original-URL, a callback header, ... A header
  value holding a JSON object or array (treblle-metadata, a context header) is masked inside like a
  body and kept as a JSON string.
- Query strings and form bodies: `name=value` pairs split on `&`; only the values of secret names
  are replaced, everything else is kept byte for byte.
- Bodies: an object or array is masked at any depth (a subtree deeper than 128 levels is masked
  whole: it cannot be judged). A string inside it that holds a JSON object or array is masked
  inside, and kept as a (compact) JSON string when that changed anything. A body that is a string
  holding a JSON object or array is stored as the masked JSON itself. A body string that is
  form-encoded (`a=1&b=2`, no spaces) keeps its text with secret values masked. Any other string
  (text, XML, HTML) is kept as is, so the threat detector still reads injection attempts in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

import orjson

MASK = "*****"

MAX_NAME = 200  # a longer name is judged (and cached) by its first 200 characters
MAX_DEPTH = 128  # a body subtree deeper than this is masked whole
_CACHE_SIZE = 8192  # decisions kept per Masking; the cache starts again when full

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_IN_WORD = re.compile(
    r"passw|pwd|passphrase|passcode|secret(?!ar)|token(?!i[sz])|signature|session|sessid|cookie"
    r"|authori[sz]ation|jwt|credential|cvv|cvc|hmac"
)
_ACROSS_WORDS = re.compile(
    r"apikey|accesskey|privatekey|signingkey|encryptionkey|cardnumber|ccnumber|creditscore|socialsecurity"
)
_ACROSS_TO_WORD_END = re.compile(r"cardno|ccnum")
_WHOLE_WORDS = frozenset({
    "auth", "authn", "authz", "authentication", "pass", "pw", "sig", "pan", "ssn", "iban", "cc", "ccv", "hotp", "pin",
})
_WORD_PREFIXES = ("otp", "totp")
_DESCRIPTORS = frozenset({
    "count", "counts", "type", "policy", "version", "length", "duration", "ttl", "timeout", "expiry",
    "expires", "expiration", "required", "enabled", "provider", "method", "scheme", "algorithm",
})
_QUANTITIES = frozenset({"max", "min", "total", "num"})
_TOKEN_USAGE = frozenset({"prompt", "completion", "input", "output", "cached", "reasoning", "total", "max"})

_JSON_OPENERS = ("{", "[")
_JSON_FIRST = "{["  # value[:1] in it: an empty value too, which _header_text keeps
_FORM = re.compile(r"[\w.\-\[\]%+*]+=[^&\s]*(?:&[^&\s]*)*")
_URL_QUERY = re.compile(r"\?([^#\s<>\"']*)")


def name_words(name: str) -> tuple[str, ...]:
    """A name's lower-case words: split at non-alphanumerics and camelCase boundaries."""
    return tuple(word.lower() for word in _WORD.findall(name))


def is_secret_words(words: tuple[str, ...]) -> bool:
    """Whether a name of these words is secret by the built-in rule (rules 2 and 3 above)."""
    if not words:
        return False
    joined = "".join(words)
    starts, at = [], 0
    for word in words:
        starts.append(at)
        at += len(word)
    last_end = -1  # where in `joined` the last secret term ends
    for i, word in enumerate(words):
        if word == "tokens" and i and words[i - 1] in _TOKEN_USAGE:
            continue
        if word in _WHOLE_WORDS or word.startswith(_WORD_PREFIXES):
            if word == "pin" and i + 1 < len(words) and words[i + 1] == "code":
                continue
            last_end = max(last_end, starts[i] + len(word))
        for match in _IN_WORD.finditer(word):
            last_end = max(last_end, starts[i] + match.end())
    for match in _ACROSS_WORDS.finditer(joined):
        last_end = max(last_end, match.end())
    for match in _ACROSS_TO_WORD_END.finditer(joined):
        if match.end() == len(joined) or match.end() in starts:
            last_end = max(last_end, match.end())
    if last_end < 0:
        return False
    if len(words) > 1 and words[0] in _QUANTITIES:
        return False
    rest = [words[i][last_end - starts[i]:] if starts[i] < last_end else words[i]
            for i in range(len(words)) if starts[i] + len(words[i]) > last_end]
    return not any(word in _DESCRIPTORS for word in rest)


@dataclass(frozen=True)
class Masking:
    """What to mask: the built-in rule plus an operator's extra names (lower case, any separators).

    Build it once (decisions are cached per name on it) and pass it down; `Masking()` has no extra
    names. It pickles as its names, and unpickles to this process's one Masking of those names, so
    the cache of a worker process lasts from one batch to the next."""

    names: tuple[str, ...] = ()
    _extra: frozenset[str] = field(init=False, repr=False, compare=False)
    _cache: dict[str, bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        given = self.names.split(",") if isinstance(self.names, str) else self.names  # "a,b" as the setting
        names = tuple(dict.fromkeys(n.strip().lower() for n in given if n and n.strip()))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_extra", frozenset("".join(name_words(n)) for n in names) - {""})
        object.__setattr__(self, "_cache", {})

    def __reduce__(self):
        return masking_for, (self.names,)

    def is_secret(self, name: str) -> bool:
        """Whether a header, body field or query parameter of this name holds a secret."""
        key = name if len(name) <= MAX_NAME else name[:MAX_NAME]
        secret = self._cache.get(key)
        if secret is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            secret = self._cache[key] = self._judge(key)
        return secret

    def _judge(self, name: str) -> bool:
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        words = name_words(name)
        return is_secret_words(words) or (bool(self._extra) and "".join(words) in self._extra)

    def headers(self, headers: dict[str, Any]) -> dict[str, Any]:
        """The headers with secret ones masked, and secret parameters masked in URLs of the others."""
        cached = self._cache.get  # is_secret inlined: this runs for every header of every call
        masked = dict(headers)
        for name, value in headers.items():
            secret = cached(name)
            if secret is None:
                secret = self.is_secret(name)
            if secret:
                masked[name] = MASK
            elif type(value) is str:
                if "?" in value or value[:1] in _JSON_FIRST:
                    masked[name] = self._header_text(value)
            elif type(value) is list:
                masked[name] = [self._header_text(v) if type(v) is str else self._walk(v, 1) for v in value]
            else:
                masked[name] = self._walk(value, 1)
        return masked

    def _header_text(self, value: str) -> str:
        if value.startswith(_JSON_OPENERS):  # a JSON header (treblle-metadata, a context header)
            return self._json_text(value, 1)
        return self._urls(value) if "?" in value else value

    def body(self, value: Any) -> Any:
        """The body with every secret-named value masked: a structure at any depth, a string of JSON
        parsed (and returned as the masked structure), a form-encoded string masked in place."""
        if type(value) is not str:
            return self._walk(value, 0)
        text = value.strip()
        if text.startswith(_JSON_OPENERS):
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                return value
            return self._walk(parsed, 0) if type(parsed) in (dict, list) else value
        if "=" in text and _FORM.fullmatch(text):
            return self.query(text)
        return value

    def query(self, query: str) -> str:
        """A query string (or form body) with the values of secret parameters masked."""
        if not query or "=" not in query:
            return query
        pairs = query.split("&")
        masked = False
        for i, pair in enumerate(pairs):
            name, equals, _ = pair.partition("=")
            if equals and name and self.is_secret(name):
                pairs[i] = f"{name}={MASK}"
                masked = True
        return "&".join(pairs) if masked else query

    def _urls(self, text: str) -> str:
        if "=" not in text:
            return text
        return _URL_QUERY.sub(lambda m: "?" + self.query(m.group(1)), text)

    def _walk(self, value: Any, depth: int) -> Any:
        """The value masked at any depth; the very same object when nothing in it is secret."""
        kind = type(value)
        if kind is dict:
            entries = value.items()
        elif kind is list:
            entries = enumerate(value)
        else:
            return value
        if depth >= MAX_DEPTH:
            return MASK
        named = kind is dict
        cached = self._cache.get
        copy = None
        for key, item in entries:
            secret = named and type(key) is str and cached(key)
            if secret is None:
                secret = self.is_secret(key)
            if secret:
                new = MASK
            else:
                item_kind = type(item)
                if item_kind is dict or item_kind is list:
                    new = self._walk(item, depth + 1)
                elif item_kind is str and item.startswith(_JSON_OPENERS):
                    new = self._json_text(item, depth + 1)
                else:
                    continue
            if new is not item:
                if copy is None:
                    copy = kind(value)
                copy[key] = new
        return value if copy is None else copy

    def _json_text(self, text: str, depth: int) -> str:
        """A string holding JSON, masked inside: the same string when nothing in it is secret."""
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
        if type(parsed) is not dict and type(parsed) is not list:
            return text
        masked = self._walk(parsed, depth)
        return text if masked is parsed else orjson.dumps(masked).decode()


@lru_cache(maxsize=64)
def masking_for(names: tuple[str, ...] = ()) -> Masking:
    """This process's one Masking of these extra names (what a pickled Masking becomes)."""
    return Masking(names)


NO_EXTRA_NAMES = masking_for(())


def mask_headers(headers: dict[str, Any], masking: Masking = NO_EXTRA_NAMES) -> dict[str, Any]:
    """The headers with the values of secret ones masked (see Masking.headers)."""
    return masking.headers(headers)


def mask_body(value: Any, masking: Masking = NO_EXTRA_NAMES) -> Any:
    """The body with every secret-named value masked, at any depth (see Masking.body)."""
    return masking.body(value)


def mask_query(query: str, masking: Masking = NO_EXTRA_NAMES) -> str:
    """The query string with the values of secret parameters masked (see Masking.query)."""
    return masking.query(query)
