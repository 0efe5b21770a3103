"""Secrets never reach the database: mask them in headers, bodies, errors, query strings and paths.

A value is masked when its *name* is secret (a header name, a body or error field name at any
depth, a query, form or multipart parameter name, an XML element or attribute name) or when the
value itself has the *shape* of a secret (a JWT, a bearer credential, a card number, a long random
token). What is masked is replaced by "*****", as the Treblle SDKs write it.

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
     subscriptionkey, cardnumber, ccnumber, creditscore, socialsecurity; and, ending where a word
     ends: cardno, ccnum, and a one-time code: verification, verify, confirmation, confirm, reset,
     recovery, activation, mfa, backup, security, login or sms before code or codes
     (verification_code, securityCode, backup_codes; not country_code, promo_code, error_code);
   - as a whole word: auth, authn, authz, authentication, pass, pw, sig, pan, ssn, iban, cc, ccv,
     hotp, bearer, and words starting with otp or totp (otp, otpcode, totp_secret);
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
4. Where the name is, two more rules:
   - a header whose last word is key or keys is secret (Ocp-Apim-Subscription-Key,
     x-functions-key, x-rapidapi-key, x-client-key), except idempotency-key and a public key;
   - a query, form or multipart parameter named exactly key or code (any case) is secret: an API
     key (`?key=` of Google APIs), an OAuth authorization code or an Azure Functions key (`?code=`).
     In a body, `key` and `code` alone stay ordinary (`{"key": "color"}`, `{"code": "not_found"}`).
5. An operator's extra names (FOOTFALL_MASKED_NAMES, given to `Masking`) mask the names whose words,
   run together, equal theirs run together: `customer_ref` masks customer_ref, customerRef and
   Customer-Ref, not customer_reference. An operator's name masks even a name rule 3 would keep.

Decisions on near-misses, kept visible: author, authority, authored_at, authenticated,
oauth_provider, www-authenticate (no secret word; `oauth` is not `auth`); tokenizer_version,
tokenized_card (a tokenized card is meant to be safe to keep); session_count, password_policy,
password_min_length, token_type, auth_type (describe a secret); secretary; description, passenger,
passport, bypass_warning, compass, spin, opinion, pinned, signup, design, signal, company, expand,
classname, footprint, hotpath (the secret letters are inside an ordinary word or across two);
pin_code and pincode (an Indian postal code; a card PIN is `pin`, `card_pin`, `pin_number`);
`key` and `code` alone in a body or header, sort_key, country_code, promo_code (too common to
mask); idempotency-key (an analyst looks requests up by it). Masked on purpose: cc (carbon copy
too: the SDKs mask it), sessions, auth_url (masking what is not secret is cheaper than the other
way round).

How a value's shape is judged
-----------------------------
Wherever a text is looked at, these runs in it are masked whatever their name:
- a JWT (or JWE): `eyJ` + base64url, then two dots and two more base64url parts;
- a bearer credential: the word Bearer then a token of 8+ characters with a digit or a symbol in
  it, or of 20+ ("Bearer tokens expire" stays); `Basic` then base64 of `user:password` ("Basic
  plan" stays). A header value that is only another Authorization credential (`Negotiate ...`,
  `NTLM ...`, `Token ...` with a digit or symbol in it; Digest and AWS4-HMAC-SHA256 with their
  response or signature) keeps its scheme word: `NTLM *****`, as Bearer and Basic do;
- a card number: 13 to 19 digits, single spaces or dashes allowed between them, starting as the
  card networks' do (22-27, 30, 34-39, 4, 5, 6: Mastercard, Diners, Amex, JCB, Visa, Maestro,
  Discover, UnionPay) and passing the Luhn check; also a JSON integer of that shape. Not a run
  glued to letters, after a `+` or a `.`, or before a `.` and a digit (phone numbers, decimals).
  Other digit runs are kept: epoch milliseconds, microseconds and nanoseconds, Snowflake ids (all
  start with 1), compact timestamps (20261120120000123). An order number or request id of a card's
  shape that passes the Luhn check is masked (one in ten does): accepted;
- a long random token: a run of 32+ base64/base64url characters (letters, digits, `_-+/`, `=`
  padding) with upper case, lower case and digits mixed the way random text is (the letter case or
  kind changes at 30%+ of neighbours, and less than half of it is in word-like runs such as
  `Order`, `service`). Random 32-character tokens pass about 98% of the time, 40+ characters over
  99.5%; camelCase and dotted identifiers, file paths, slugs, sentences, hex, UUIDs, ULIDs and
  other single-case ids do not. A base64 blob (an image, a pagination cursor) counts as a token.

Not masked by shape, on purpose: UUIDs, hex of any length (Mongo ObjectIds, SHA hashes, ETags,
trace ids), ULIDs and other single-case ids (analysts search by them; a hex string is secret only
by its name), e-mail addresses, phone numbers, timestamps and dates, prices.

Where names and shapes are looked for
-------------------------------------
- Headers: a secret name masks the whole value. Every other text value is looked at for shapes,
  and for URLs: in a URL, the user information (`https://user:password@host` becomes
  `https://*****@host`), token-like path segments (below) and the query string are masked
  (Referer, Location, Content-Location, Link, X-Original-URL, a callback header, ...); a value
  starting with `/` is a path and query. A header value holding a JSON object or array
  (treblle-metadata, a context header) is masked inside like a body and kept as a JSON string.
- Query strings and form bodies: `name=value` pairs split on `&` and `;` (`?a=1;token=x`); the value
  of a secret name is replaced, every other value is looked at for shapes (%-decoded first; a
  value whose decoded text holds a secret is masked whole) and masked inside when it is JSON (a
  query sent as an object: `filter={"access_token": ...}`). Everything else is kept byte for byte.
- Bodies: an object or array is masked at any depth (a subtree deeper than 128 levels is masked
  whole: it cannot be judged), every string in it looked at for shapes and URLs (one under 13
  characters only for a URL or a query). A string inside
  it that holds a JSON object or array is masked inside, and kept as a (compact) JSON string when
  that changed anything. A body that is a string holding a JSON object or array is stored as the
  masked JSON itself. A body string that is form-encoded (`a=1&b=two words`) keeps its text with
  secret values masked. Any other string is text: in a multipart body the value of each secret
  part (`Content-Disposition: form-data; name="password"`) is masked; in XML or HTML the text of a
  secret element (`<password>`, `<wsse:Password>`, CDATA too) and the value of a secret attribute;
  in any text `name=value`, `name: value` and `"name": "value"` pairs of a secret name, URLs and
  shapes. Text is looked at up to its first MiB (MAX_TEXT); the rest of a longer one is dropped,
  as the store keeps 64 KiB of a body anyway.
- Errors (`errors[]`): masked as a body, and each string in them as text (message text holds
  `password=...` pairs and connection URLs).
- Paths (mask_path): a JWT, a long random token or a card number is masked in any segment; after
  a segment that names a secret or an action on one (reset, verify, verification, confirm,
  confirmation, activate, activation, invite, invitation, magic, unsubscribe, recover, recovery,
  token, key, secret, password, session, otp, login, signin, share, plural or not, or a secret name
  like api-keys), the next two segments are masked when they look like a token: 16+ characters of
  a URL's token alphabet, a digit or both letter cases in it, not words joined by dashes. So
  `/v1/password/reset/Xk29sLpQmZ8rTvB4` is stored `/v1/password/reset/*****` and every token of it
  gives the endpoint `/v1/password/reset/{token}` (core/endpoint.py). A UUID right after such a
  segment is masked too (reset and invitation links use them); elsewhere a UUID is an id and kept.
  An ordinary word (lower case) ends the two segments early: `/auth/users/cus_NffrFeUfNV2Hib` keeps
  its id. A short code in a path (`/verify/482913`) is kept: it cannot be told from an id.

What is not looked at: the keys of an object (only as names), numbers other than card-shaped
integers, the user agent's own column (core/record.py stores it as sent), and names or values of a
text body past MAX_TEXT.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, unquote_plus

import orjson

MASK = "*****"

MAX_NAME = 200  # a longer name is judged (and cached) by its first 200 characters
MAX_DEPTH = 128  # a body subtree deeper than this is masked whole
MAX_TEXT = 1 << 20  # a text is looked at up to this many characters; the rest is dropped
_CACHE_SIZE = 8192  # decisions (and header values) kept per Masking; the cache starts again when full
_CACHED_VALUE = 256  # header values up to this long are cached: 8,192 x 256 characters at most

# --- Names ---------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_IN_WORD = re.compile(
    r"passw|pwd|passphrase|passcode|secret(?!ar)|token(?!i[sz])|signature|session|sessid|cookie"
    r"|authori[sz]ation|jwt|credential|cvv|cvc|hmac"
)
_ACROSS_WORDS = re.compile(
    r"apikey|accesskey|privatekey|signingkey|encryptionkey|subscriptionkey|cardnumber|ccnumber|creditscore"
    r"|socialsecurity"
)
_ACROSS_TO_WORD_END = re.compile(
    r"cardno|ccnum|(?:verification|verify|confirmation|confirm|reset|recovery|activation|mfa|backup|security|login|sms)"
    r"codes?"
)
_WHOLE_WORDS = frozenset({
    "auth", "authn", "authz", "authentication", "pass", "pw", "sig", "pan", "ssn", "iban", "cc", "ccv", "hotp", "pin",
    "bearer",
})
_WORD_PREFIXES = ("otp", "totp")
_DESCRIPTORS = frozenset({
    "count", "counts", "type", "policy", "version", "length", "duration", "ttl", "timeout", "expiry",
    "expires", "expiration", "required", "enabled", "provider", "method", "scheme", "algorithm",
})
_QUANTITIES = frozenset({"max", "min", "total", "num"})
_TOKEN_USAGE = frozenset({"prompt", "completion", "input", "output", "cached", "reasoning", "total", "max"})
_HEADER_KEY_WORDS = frozenset({"key", "keys"})
_HEADER_KEY_KEPT = frozenset({"idempotency", "public"})  # idempotency-key, x-public-key
_PARAMETER_NAMES = frozenset({"key", "code"})  # secret as a whole query, form or multipart parameter name


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


def _is_parameter_name(name: str) -> bool:
    """A query, form or multipart parameter named key or code (rule 4)."""
    if len(name) > 12:
        return False
    if "%" in name or "+" in name:
        name = unquote_plus(name)
    return name.strip().lower() in _PARAMETER_NAMES


# --- Shapes --------------------------------------------------------------------------------------
#
# Every regex here runs on every string of every call that is long enough for it, so each is gated
# by a cheap test first (a length, a substring) and starts with a character class, with any
# lookbehind after it: a position that cannot start a match, or lies inside a run, fails at once.

_SHORTEST_SHAPE = 13  # the shortest run any shape can be (a 13-digit card number)
_B64 = "A-Za-z0-9_+/\\-"
_JWT = re.compile(r"e(?<![A-Za-z0-9_\-]e)yJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*")
_BEARER = re.compile(r"(?i:b(?<![A-Za-z0-9]b)earer)(\s+)([A-Za-z0-9._~+/\-]{8,}=*)")
_BASIC = re.compile(r"(?i:b(?<![A-Za-z0-9]b)asic)(\s+)([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])")
_CARD = re.compile(r"[2-6](?<![0-9A-Za-z_+.\-][2-6])[0-9](?:[ \-]?[0-9]){11,17}(?![0-9A-Za-z_]|\.[0-9])")
_OPAQUE = re.compile(rf"[{_B64}](?<![{_B64}][{_B64}])[{_B64}]{{31,}}={{0,2}}")
_CLASS_RUN = re.compile(r"[A-Z]+|[a-z]+|[0-9]+")
_WORDISH = re.compile(r"[A-Z]?[a-z]{3,}")
_DIGIT = re.compile(r"[0-9]")
_PATH_PIECE = re.compile(r"[A-Z]?[a-z]{2,}[0-9]{0,3}|v[0-9]{1,2}")  # a word of a file path or URL: src, Users, api2
_CARD_INTS = (10**12, 10**19)  # a JSON integer of 13 to 19 digits
# Mastercard 22-27, Diners 30 and 36/38/39, Amex 34/37, JCB 35, Visa 4, Mastercard and Maestro 5,
# Discover, UnionPay and Maestro 6. Not 20 and 21: compact timestamps (20261120120000123).
_CARD_START = re.compile(r"2[2-7]|3[04-9]|[456]")
# A header value that is only an Authorization credential: its scheme word is kept (Bearer and Basic
# are shapes, masked wherever they are).
_CREDENTIAL = re.compile(
    r"\s*(negotiate|ntlm|token)\s+(?=[A-Za-z0-9._~+/\-]*[0-9._~+/\-=])[A-Za-z0-9._~+/\-]{8,}=*\s*$"
    r"|\s*(digest)\s+.*\bresponse\s*=|\s*(aws4-hmac-sha256)\s+.*\bsignature\s*=", re.IGNORECASE | re.DOTALL)
_CREDENTIAL_FIRST = frozenset("NnTtDdAa \t")


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check (card numbers do)."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card_number(text: str) -> bool:
    """13-19 digits (spaces and dashes between them ignored) starting as a card network's do,
    Luhn-valid."""
    digits = text.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and digits.isdigit() and _CARD_START.match(digits) is not None and luhn_valid(digits)


def is_random_token(text: str) -> bool:
    """Whether 32+ characters look like a random token rather than words: upper and lower case
    letters and digits, changing kind at 30%+ of neighbours, less than half in word-like runs."""
    if len(text) < 32:
        return False
    sample = text if len(text) <= 256 else text[:256]
    if sample.lower() == sample or sample.upper() == sample or _DIGIT.search(sample) is None:
        return False
    runs = _CLASS_RUN.findall(sample)
    characters = sum(map(len, runs))
    if characters < 32 or (len(runs) - 1) / (characters - 1) < 0.3:
        return False
    return sum(map(len, _WORDISH.findall(sample))) * 2 < len(sample)


def _opaque(match: re.Match[str]) -> str:
    run = match.group()
    if "/" in run:  # a file path or a URL's path, or standard base64: judge the pieces of a path alone
        pieces = run.split("/")
        if any(_PATH_PIECE.fullmatch(piece) for piece in pieces):
            masked = [MASK if is_random_token(piece) else piece for piece in pieces]
            return "/".join(masked)
    return MASK if is_random_token(run) else run


def _card(match: re.Match[str]) -> str:
    return MASK if is_card_number(match.group()) else match.group()


def _bearer(match: re.Match[str]) -> str:
    token = match.group(2)
    if len(token) >= 20 or not token.isalpha():
        return match.group()[: match.start(2) - match.start()] + MASK
    return match.group()


def _basic(match: re.Match[str]) -> str:
    try:
        decoded = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return match.group()
    if b":" in decoded:
        return match.group()[: match.start(2) - match.start()] + MASK
    return match.group()


def mask_shapes(text: str) -> str:
    """The text with every JWT, bearer credential, card number and long random token in it
    masked (see above); the same string when there is none."""
    if len(text) < _SHORTEST_SHAPE:
        return text
    if "eyJ" in text:
        text = _JWT.sub(MASK, text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(_bearer, text)
    if "asic" in text or "ASIC" in text:
        text = _BASIC.sub(_basic, text)
    if len(text) >= 32:
        text = _OPAQUE.sub(_opaque, text)
    return _CARD.sub(_card, text)


# --- Paths ---------------------------------------------------------------------------------------

_PATH_CONTEXT = frozenset({
    "reset", "verify", "verification", "confirm", "confirmation", "activate", "activation", "invite", "invitation",
    "magic", "unsubscribe", "recover", "recovery", "token", "key", "secret", "password", "session", "otp", "login",
    "signin", "share",
})
_PATH_TOKEN = re.compile(r"[A-Za-z0-9._~+=\-]{16,}")
_SLUG = re.compile(r"[a-z]+(?:[\-_][a-z0-9]+)+|[a-z][a-z\-_]*")  # words joined by dashes: get-started-2024
_CACHED_PATH = 256  # paths up to this long are cached: 65,536 x 256 characters at most


def mask_path(path: str) -> str:
    """The path with token-like segments masked (see above); the same string when there is none."""
    if len(path) < _SHORTEST_SHAPE:
        return path
    if len(path) <= _CACHED_PATH:
        return _cached_path(path)
    return _mask_path(path)


@lru_cache(maxsize=65536)
def _cached_path(path: str) -> str:
    return _mask_path(path)


mask_path.cache_clear = _cached_path.cache_clear  # the cache behind it


def _mask_path(path: str) -> str:
    segments = path.split("/")
    follow = 0  # segments left that follow a secret word
    changed = False
    for i, segment in enumerate(segments):
        if not segment:
            continue
        masked = _path_segment(segment, follow > 0)
        if masked is not segment:
            segments[i] = masked
            changed = True
            follow -= 1
        elif _is_path_context(segment):
            follow = 2
        elif _SLUG.fullmatch(segment):
            follow = 0
        else:
            follow -= 1
    return "/".join(segments) if changed else path


def _is_path_context(segment: str) -> bool:
    if len(segment) > 40:
        return False
    words = name_words(segment)
    return any(word in _PATH_CONTEXT or word[:-1] in _PATH_CONTEXT for word in words) or is_secret_words(words)


def _path_segment(segment: str, after_secret_word: bool) -> str:
    if len(segment) < (16 if after_secret_word else _SHORTEST_SHAPE):
        return segment
    judged = unquote(segment) if "%" in segment else segment
    if (after_secret_word and len(judged) >= 16 and _PATH_TOKEN.fullmatch(judged)
            and (_DIGIT.search(judged) or judged.lower() != judged != judged.upper())
            and not _SLUG.fullmatch(judged)):
        return MASK
    masked = mask_shapes(judged)
    if masked == judged:
        return segment
    return MASK if judged is not segment else masked


# --- URLs and text -------------------------------------------------------------------------------

_JSON_OPENERS = ("{", "[")
_JSON_FIRST = "{["
_FORM = re.compile(r"[\w.\-\[\]%+*]+=[^&\r\n]*(?:&[^&\r\n]*)*")
_QUERY_SEPARATORS = re.compile(r"([&;])")
_URL_QUERY = re.compile(r"\?([^#\s<>\"']*)")
_URL = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*://(?P<userinfo>[^\s/?#<>\"']*@)?[^\s/?#<>\"'@]*(?P<path>/[^\s?#<>\"']*)?"
    r"(?:\?(?P<query>[^\s#<>\"']*))?")
# name=value, name: value, "name": "value" in free text; the name starts where no name character is
# before it, and a value is not itself the name of the next pair ("failed: password=x")
_TEXT_PAIR = re.compile(
    r"(?P<name>[A-Za-z_](?<![\w.\-\[\]][A-Za-z_])[\w.\-\[\]]{0,63})(?P<sep>[\"']?\s*[=:]\s*[\"']?)"
    r"(?![\w.\-\[\]]+[\"']?\s*[=:])(?P<value>[^\s\"'&;,<>(){}\[\]]+)")
_MULTIPART_PART = re.compile(
    r"(?P<head>content-disposition:[^\r\n]*?\bname=(?P<q>\"?)(?P<name>[^\"\r\n;]*)(?P=q)[^\r\n]*(?:\r?\n[^\r\n]+)*"
    r"\r?\n\r?\n)(?P<value>.*?)(?=\r?\n--|\Z)", re.IGNORECASE | re.DOTALL)
_XML_ELEMENT = re.compile(
    r"<(?P<tag>[A-Za-z_][\w.\-]*(?::(?P<local>[A-Za-z_][\w.\-]*))?)(?P<attributes>\s[^<>]*)?>"
    r"(?P<text>(?:<!\[CDATA\[.*?\]\]>|[^<])*)</(?P=tag)\s*>", re.DOTALL)
_XML_ATTRIBUTE = re.compile(
    r"(?P<name>[A-Za-z_](?<=\s[A-Za-z_])[\w.:\-]*)(?P<eq>\s*=\s*)(?P<q>[\"'])(?P<value>.*?)(?P=q)", re.DOTALL)


@dataclass(frozen=True)
class Masking:
    """What to mask: the built-in rule plus an operator's extra names (lower case, any separators).

    Build it once (decisions are cached per name on it) and pass it down; `Masking()` has no extra
    names. It pickles as its names, and unpickles to this process's one Masking of those names, so
    the cache of a worker process lasts from one batch to the next."""

    names: tuple[str, ...] = ()
    _extra: frozenset[str] = field(init=False, repr=False, compare=False)
    _cache: dict[str, bool] = field(init=False, repr=False, compare=False)
    _header_cache: dict[str, bool] = field(init=False, repr=False, compare=False)
    _header_values: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        given = self.names.split(",") if isinstance(self.names, str) else self.names  # "a,b" as the setting
        names = tuple(dict.fromkeys(n.strip().lower() for n in given if n and n.strip()))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_extra", frozenset("".join(name_words(n)) for n in names) - {""})
        object.__setattr__(self, "_cache", {})
        object.__setattr__(self, "_header_cache", {})
        object.__setattr__(self, "_header_values", {})

    def __reduce__(self):
        return masking_for, (self.names,)

    # --- names ---

    def is_secret(self, name: str) -> bool:
        """Whether a body field, query parameter or any name of this name holds a secret (rules 1-3, 5)."""
        key = name if len(name) <= MAX_NAME else name[:MAX_NAME]
        secret = self._cache.get(key)
        if secret is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            secret = self._cache[key] = self._judge(key)
        return secret

    def is_secret_header(self, name: str) -> bool:
        """Whether a header of this name holds a secret: as is_secret, and a last word key (rule 4)."""
        secret = self._header_cache.get(name)
        if secret is None:
            if len(self._header_cache) >= _CACHE_SIZE:
                self._header_cache.clear()
            secret = self.is_secret(name)
            if not secret:
                words = name_words(name[:MAX_NAME])
                secret = (bool(words) and words[-1] in _HEADER_KEY_WORDS
                          and not (len(words) > 1 and words[-2] in _HEADER_KEY_KEPT))
            self._header_cache[name] = secret
        return secret

    def is_secret_parameter(self, name: str) -> bool:
        """Whether a query, form or multipart parameter of this name holds a secret: as is_secret,
        and the names key and code (rule 4)."""
        return self.is_secret(name) or _is_parameter_name(name)

    def _judge(self, name: str) -> bool:
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        words = name_words(name)
        return is_secret_words(words) or (bool(self._extra) and "".join(words) in self._extra)

    # --- where they are looked for ---

    def headers(self, headers: dict[str, Any]) -> dict[str, Any]:
        """The headers with secret ones masked, and secrets in the values of the others."""
        cached = self._header_cache.get  # is_secret_header and _header_value inlined: this runs for
        values = self._header_values.get  # every header of every call
        masked = dict(headers)
        for name, value in headers.items():
            secret = cached(name)
            if secret is None:
                secret = self.is_secret_header(name)
            if secret:
                masked[name] = MASK
            elif type(value) is str:
                if len(value) >= 8:
                    new = values(value)
                    if new is None:
                        new = self._header_value(value)
                    if new is not value:
                        masked[name] = new
            elif type(value) is list:
                masked[name] = [self._header_value(v) if type(v) is str else self._walk(v, 1) for v in value]
            else:
                masked[name] = self._walk(value, 1)
        return masked

    def _header_value(self, value: str) -> str:
        masked = self._header_values.get(value)
        if masked is None:
            masked = self._header_text(value)
            if len(value) <= _CACHED_VALUE:
                if len(self._header_values) >= _CACHE_SIZE:
                    self._header_values.clear()
                self._header_values[value] = masked
        return masked

    def _header_text(self, value: str) -> str:
        if value[:1] in _JSON_FIRST:  # a JSON header (treblle-metadata, a context header)
            masked = self._json_text(value, 1)
            if masked is not None:
                return masked
        credential = _CREDENTIAL.match(value) if value[:1] in _CREDENTIAL_FIRST else None
        if credential:
            return (credential.group(1) or credential.group(2) or credential.group(3)) + " " + MASK
        return self._string(value, 1)

    def body(self, value: Any) -> Any:
        """The body with every secret masked: a structure at any depth, a string of JSON parsed
        (and returned as the masked structure), any other string masked as text."""
        if type(value) is not str:
            return self._walk(value, 0)
        text = value.strip()
        if text.startswith(_JSON_OPENERS):
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                pass
            else:
                if type(parsed) is dict or type(parsed) is list:
                    return self._walk(parsed, 0)
        return self.text(value)

    def errors(self, errors: Any) -> Any:
        """The errors[] entries with every secret masked: as a body, each string in them as text."""
        return self._walk(errors, 0, prose=True) if errors else errors

    def text(self, text: str) -> str:
        """A body sent as text: form-encoded, multipart, XML or HTML, or any text (see above)."""
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
        stripped = text.strip()
        if "=" in stripped and _FORM.fullmatch(stripped):
            return self.query(stripped)
        masked = text
        if "ontent-" in masked or "ONTENT-" in masked:
            masked = _MULTIPART_PART.sub(self._multipart_part, masked)
        if "<" in masked and ">" in masked:
            masked = _XML_ELEMENT.sub(self._xml_element, masked)
            if "=" in masked:
                masked = _XML_ATTRIBUTE.sub(self._xml_attribute, masked)
        return self._prose(masked)

    def query(self, query: str) -> str:
        """A query string (or form body) with the values of secret parameters masked, and secrets
        by shape in the others."""
        if not query:
            return query
        if "=" not in query:
            return mask_shapes(query)
        if ";" in query:  # ?a=1;token=x: the old separator, kept as sent
            parts = _QUERY_SEPARATORS.split(query)
            pairs = parts[::2]
        else:
            parts = None
            pairs = query.split("&")
        masked = False
        for i, pair in enumerate(pairs):
            name, equals, value = pair.partition("=")
            if not equals:
                new = mask_shapes(pair)
            elif name and self.is_secret_parameter(name):
                new = f"{name}={MASK}"
            elif len(value) >= 8:
                new_value = self._parameter_value(value)
                new = pair if new_value is value else f"{name}={new_value}"
            else:
                continue
            if new != pair:
                pairs[i] = new
                masked = True
        if not masked:
            return query
        if parts is None:
            return "&".join(pairs)
        parts[::2] = pairs
        return "".join(parts)

    def _parameter_value(self, value: str) -> str:
        if value[0] in _JSON_FIRST:  # a query sent as an object: a nested value is JSON
            masked = self._json_text(value, 1)
            if masked is not None:
                return masked
        if "%" in value:
            decoded = unquote_plus(value)
            return value if self._string(decoded, 1) == decoded else MASK
        masked = self._string(value, 1)
        return value if masked == value else masked

    def _string(self, text: str, depth: int) -> str:
        """A string value (in a body, a header, a query): URLs, paths and shapes in it masked."""
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
        if "://" in text:
            text = _URL.sub(self._url, text)
        elif text[:1] == "/" and " " not in text:  # a path, with its query
            path, question, query = text.partition("?")
            masked = mask_path(path)
            text = masked + question + self.query(query) if question else masked
        elif "?" in text and "=" in text:
            text = _URL_QUERY.sub(lambda m: "?" + self.query(m.group(1)), text)
        return mask_shapes(text)

    def _prose(self, text: str) -> str:
        """Free text (a text body, an error's message): name=value pairs, URLs and shapes."""
        if "=" in text or ":" in text:
            text = _TEXT_PAIR.sub(self._text_pair, text)
        return self._string(text, 1)

    def _url(self, match: re.Match[str]) -> str:
        userinfo, path, query = match.group("userinfo", "path", "query")
        if not userinfo and not path and not query:
            return match.group()
        url = match.group()
        start = match.start()
        pieces = []
        at = 0
        if userinfo:
            pieces += [url[: match.start("userinfo") - start], MASK + "@"]
            at = match.end("userinfo") - start
        if path:
            pieces += [url[at: match.start("path") - start], mask_path(path)]
            at = match.end("path") - start
        if query is not None:
            pieces += [url[at: match.start("query") - start], self.query(query)]
            at = match.end("query") - start
        pieces.append(url[at:])
        return "".join(pieces)

    def _text_pair(self, match: re.Match[str]) -> str:
        if match.group("value") != MASK and self.is_secret_parameter(match.group("name")):
            return match.group("name") + match.group("sep") + MASK
        return match.group()

    def _multipart_part(self, match: re.Match[str]) -> str:
        if match.group("value") and self.is_secret_parameter(match.group("name")):
            return match.group("head") + MASK
        return match.group()

    def _xml_element(self, match: re.Match[str]) -> str:
        name = match.group("local") or match.group("tag")
        if match.group("text").strip() and self.is_secret(name):
            return match.group()[: match.start("text") - match.start()] + MASK + f"</{match.group('tag')}>"
        return match.group()

    def _xml_attribute(self, match: re.Match[str]) -> str:
        name = match.group("name").rpartition(":")[2]
        if match.group("value") and self.is_secret(name):
            return match.group("name") + match.group("eq") + match.group("q") + MASK + match.group("q")
        return match.group()

    def _walk(self, value: Any, depth: int, prose: bool = False) -> Any:
        """The value masked at any depth; the very same object when nothing in it is secret.
        Strings in it are masked as values, or as free text when `prose` (errors)."""
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
                if item_kind is str:
                    size = len(item)
                    if size < _SHORTEST_SHAPE and (size < 8 or ("?" not in item and "://" not in item)):
                        continue  # too short for a shape, and no URL or query
                    new = None
                    if item[0] in _JSON_FIRST:
                        new = self._json_text(item, depth + 1, prose)
                    if new is None:
                        new = self._prose(item) if prose else self._string(item, depth + 1)
                        if new == item:
                            continue
                elif item_kind is dict or item_kind is list:
                    new = self._walk(item, depth + 1, prose)
                elif item_kind is int and _CARD_INTS[0] <= item < _CARD_INTS[1]:
                    new = MASK if is_card_number(str(item)) else item
                else:
                    continue
            if new is not item:
                if copy is None:
                    copy = kind(value)
                copy[key] = new
        return value if copy is None else copy

    def _json_text(self, text: str, depth: int, prose: bool = False) -> str | None:
        """A string holding a JSON object or array, masked inside: the same string when nothing in
        it is secret; None when it holds no JSON object or array."""
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        if type(parsed) is not dict and type(parsed) is not list:
            return None
        masked = self._walk(parsed, depth, prose)
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
    """The body with every secret masked, at any depth (see Masking.body)."""
    return masking.body(value)


def mask_query(query: str, masking: Masking = NO_EXTRA_NAMES) -> str:
    """The query string with the values of secret parameters masked (see Masking.query)."""
    return masking.query(query)
