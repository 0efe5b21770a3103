"""Secrets never reach the database: mask them in headers and bodies first."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MASK = "*****"

SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey",
    "x-auth-token", "x-access-token", "x-csrf-token", "x-xsrf-token", "x-amz-security-token",
    "x-goog-api-key", "x-hub-signature", "x-hub-signature-256", "treblle-api-key",
})

# Body and query fields: the SDKs' list (password, pwd, secret, cc, ssn, ...) plus tokens and keys.
_SECRET_FIELD = re.compile(
    r"^(pass(word)?|pwd|secret|.*_secret|client_?secret|password_?confirmation|cc|card_?number|ccv|cvv|cvc|ssn"
    r"|credit_?score|api_?key|x-api-key|access_?token|refresh_?token|id_?token|auth_?token|token"
    r"|authorization|cookie|set-cookie|private_?key)$",
    re.IGNORECASE,
)


@lru_cache(maxsize=8192)  # field names repeat across payloads
def is_secret_field(name: str) -> bool:
    """Whether a header, field or query parameter name holds a secret to mask."""
    return bool(_SECRET_FIELD.match(name.replace("-", "_"))) or bool(_SECRET_FIELD.match(name))


def mask_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """The headers with the values of secret ones masked."""
    return {k: (MASK if k in SECRET_HEADERS or is_secret_field(k) else v) for k, v in headers.items()}


def mask_body(value: Any) -> Any:
    """Same shape, with the value of every secret-named field replaced, at any depth."""
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and is_secret_field(k) else mask_body(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_body(v) for v in value]
    return value


_QUERY_PAIR = re.compile(r"([^&=?]+)=([^&]*)")


def mask_query(query: str) -> str:
    """The query string with the values of secret parameters masked."""
    if not query:
        return query
    return _QUERY_PAIR.sub(lambda m: f"{m.group(1)}={MASK}" if is_secret_field(m.group(1)) else m.group(0), query)
