"""Treblle payloads (formats A and B) into one plain `Call`.

Format A: {api_key: <SDK token>, project_id: <API key>, sdk, version, data}.
Format B: {sdk_token, api_key: <API key>, sdk, version, data{..., metadata}}.

Whatever a payload holds, parsing it either gives a `Call` or raises `PayloadError` with a message
naming the field (`data.response.size must be ...`): wrong types, numbers no database column can
hold, URLs that do not parse. The caps below bound every string Footfall keeps and every cache key
made from one; core/record.py has the table of what is kept of each field, and what happens past
a cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

# JavaScript SDKs of format A build the timestamp with Date.toISOString(), which is UTC,
# whatever timezone they report; they also send load_time in microseconds.
JS_SDKS = frozenset({"node", "express", "koa", "nestjs", "fastify", "hono", "cloudflare-workers", "strapi"})

# Caps, in characters (see the table in core/record.py).
MAX_PATH = 2048  # path, and the route_path an endpoint is named from
MAX_QUERY = 4096
MAX_ENDPOINT = 2048
MAX_USER_AGENT = 1024
MAX_IP = 64  # request.ip, and the client address kept
MAX_FORWARDED_FOR = 512  # of X-Forwarded-For, read for the client address
MAX_HOST = 512  # of the URL's host, read for the plain-HTTP threat
MAX_CUSTOMER_ID = 256  # longer: the payload is refused (a cut id could merge two customers)
MAX_CUSTOMER_NAME = 256
MAX_METHOD = 16
MAX_SDK = 64
MAX_HEADER_NAME = 256  # header names and text values: cut when the headers would not fit in
MAX_HEADER_VALUE = 16 * 1024  # the 64 KiB kept, so that one huge header does not push out the rest
MAX_TIMESTAMP_TEXT = 64  # a longer timestamp is unreadable
MAX_ZONE_NAME = 64  # a longer timezone name is unknown (UTC)
# Numbers: what a column can hold, and what a call can plausibly take.
MAX_SIZE = 2**63 - 1  # bytes; SQLite's largest integer
MAX_LOAD_TIME_MS = 86_400_000.0  # one day
# Timestamps are accepted from 2000-01-01 00:00 UTC to one day after the payload arrived.
EARLIEST_TIMESTAMP = 946_684_800
FUTURE_TOLERANCE_SECONDS = 86_400


class PayloadError(ValueError):
    """A payload that cannot be stored; the message says why, for a person to read."""


@dataclass(slots=True)
class Call:
    """One API call as a payload describes it, in either wire format, times in UTC."""

    api_key: str
    sdk: str | None
    timestamp: int  # seconds since the epoch, UTC
    method: str
    url: str
    scheme: str | None
    host: str | None
    path: str
    query: str
    route_path: str | None
    ip: str | None
    user_agent: str | None
    request_headers: dict[str, Any]
    request_body: Any
    response_headers: dict[str, Any]
    response_body: Any
    status: int
    size: int | None
    load_time_ms: float
    errors: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def api_key_of(payload: Any) -> str | None:
    """The key that names the API a payload belongs to, or None when it has none."""
    if not isinstance(payload, dict):
        return None
    key = payload.get("api_key") if "sdk_token" in payload else payload.get("project_id")
    return key if isinstance(key, str) and key else None


def payload_api_key(payload: Any) -> str:
    """The API key a payload names (format A: `project_id`; format B, with `sdk_token`: `api_key`),
    reading nothing else of it; PayloadError when it is not an object or names no API."""
    key = api_key_of(payload)
    if key is not None:
        return key
    if not isinstance(payload, dict):
        raise PayloadError(f"a payload must be a JSON object, got {_json_type(payload)}")
    which = "api_key" if "sdk_token" in payload else "project_id"
    raise PayloadError(f"payload has no {which}: it must name the API it belongs to")


def parse_payload(payload: Any, *, received_at: float, latest_timestamp: float | None = None) -> Call:
    """The call a Treblle payload (format A or B) describes; raises PayloadError naming what is wrong.

    A timestamp that is missing, unreadable, before 2000-01-01 or after `latest_timestamp` (the
    collector and import pass one day after `received_at`) is taken as `received_at`."""
    api_key = payload_api_key(payload)
    data = _object(payload, "data", "payload")
    request = _object(data, "request", "data")
    response = _object(data, "response", "data")
    server = data.get("server") if isinstance(data.get("server"), dict) else {}
    sdk = payload.get("sdk") if isinstance(payload.get("sdk"), str) else None
    is_js = "sdk_token" not in payload and (sdk or "").lower() in JS_SDKS

    url = _text(request.get("url"), "data.request.url") or ""
    try:
        parts = urlsplit(url) if url else None
    except ValueError:  # a bracketed host that is no IPv6 address, ...
        raise PayloadError(f"data.request.url is not a URL: {_shown(url)}") from None
    query = parts.query if parts else ""
    if not query and isinstance(request.get("query"), (dict, list)) and request["query"]:
        query = _flat_query(request["query"])
    route_path = _text(request.get("route_path"), "data.request.route_path")
    method = _text(request.get("method"), "data.request.method") or "GET"
    request_headers = _headers(request.get("headers"))

    return Call(
        api_key=api_key,
        sdk=sdk,
        timestamp=_timestamp(request.get("timestamp"), "UTC" if is_js else server.get("timezone"), received_at,
                             latest_timestamp),
        method=(method if len(method) <= MAX_METHOD else method[:MAX_METHOD]).upper()[:MAX_METHOD],
        url=url,
        scheme=(parts.scheme.lower() or None) if parts else None,
        host=(parts.netloc or None) if parts else None,
        path=(parts.path or "/") if parts else "/",
        query=query,
        route_path=route_path or None,
        ip=_text(request.get("ip"), "data.request.ip"),
        user_agent=_text(request.get("user_agent"), "data.request.user_agent") or _first_text(request_headers.get("user-agent")),
        request_headers=request_headers,
        request_body=request.get("body"),
        response_headers=_headers(response.get("headers")),
        response_body=response.get("body"),
        status=_status(response.get("code")),
        size=_size(response.get("size")),
        load_time_ms=_load_time_ms(response.get("load_time"), microseconds=is_js),
        errors=[e for e in data.get("errors") or [] if isinstance(e, dict)] if isinstance(data.get("errors"), list) else [],
        metadata=data["metadata"] if isinstance(data.get("metadata"), dict) else {},
    )


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _shown(value: Any, limit: int = 40) -> str:
    """A value as a message shows it: its repr, cut to `limit` characters (a reply never echoes a
    megabyte back)."""
    if isinstance(value, (dict, list)):
        return _json_type(value)
    if isinstance(value, int) and value.bit_length() > 64:
        return "a number over 2**64"
    text = repr(value[: limit + 1] if isinstance(value, str) else value)
    return text if len(text) <= limit else text[:limit] + "..."


def _object(parent: dict, key: str, where: str) -> dict:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"{where}.{key} must be an object" if value is not None else f"{where}.{key} is missing")
    return value


def _text(value: Any, field: str) -> str | None:
    """A string field: a number or boolean becomes its text; an object or array is refused."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, (dict, list)):
        raise PayloadError(f"{field} must be a string, got {_json_type(value)}")
    return str(value)


def _first_text(value: Any) -> str | None:
    """A header's text: a repeated header arrives as a list, and its first value counts."""
    if type(value) is list:
        value = value[0] if value else None
    if value is None or type(value) is str:
        return value
    return None if isinstance(value, (dict, list)) else str(value)


def _headers(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {str(k).lower(): v for k, v in value.items()}


def _flat_query(query: dict | list) -> str:
    """A query sent as an object or array, as a query string; a nested value as compact JSON."""
    try:
        if isinstance(query, list):
            return "&".join(_query_value(v) for v in query)
        return "&".join(f"{k}={_query_value(v)}" for k, v in query.items())
    except orjson.JSONEncodeError as error:
        raise PayloadError(f"data.request.query cannot be read: {error}") from None


def _query_value(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    return str(value)


def _status(value: Any) -> int:
    try:
        code = int(value)
    except (TypeError, ValueError, OverflowError):
        raise PayloadError(f"data.response.code must be an HTTP status number, got {_shown(value)}") from None
    if not 100 <= code <= 599:
        raise PayloadError(f"data.response.code {_shown(code)} is not an HTTP status (100-599)")
    return code


def _size(value: Any) -> int | None:
    """Bytes; None when missing or not a number (SDKs send a number or a string); negative is 0."""
    if type(value) is int and 0 <= value <= MAX_SIZE:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    except OverflowError:  # an integer past any float
        number = math.inf
    if not math.isfinite(number) or number > MAX_SIZE:
        raise PayloadError(f"data.response.size must be a number of bytes up to {MAX_SIZE}, got {_shown(value)}")
    return max(0, int(number))


def _load_time_ms(value: Any, *, microseconds: bool) -> float:
    """Milliseconds; 0 when missing, not a number, or negative."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    except OverflowError:  # an integer past any float
        number = math.inf
    if not math.isfinite(number):  # NaN, inf: from strings ("NaN", "1e400"); JSON has no such numbers
        raise PayloadError(f"data.response.load_time must be a finite number, got {_shown(value)}")
    if number < 0:
        return 0.0
    ms = number / 1000.0 if microseconds else number
    if ms > MAX_LOAD_TIME_MS:
        raise PayloadError(f"data.response.load_time is {ms:.6g} ms, over one day ({MAX_LOAD_TIME_MS:.0f} ms)")
    return ms


def _zone(name: str | None) -> ZoneInfo | timezone:
    if not name or len(name) > MAX_ZONE_NAME:
        return timezone.utc
    return _known_zone(name)


@lru_cache(maxsize=512)  # keys of at most MAX_ZONE_NAME characters
def _known_zone(name: str) -> ZoneInfo | timezone:
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory (`America`), ...
        return timezone.utc


def _timestamp(value: Any, zone_name: Any, received_at: float, latest: float | None) -> int:
    """Seconds since the epoch; a time that is missing, unreadable or outside the window
    (EARLIEST_TIMESTAMP to `latest`) is taken as when it arrived."""
    if not isinstance(value, str) or not value or len(value) > MAX_TIMESTAMP_TEXT:
        return int(received_at)
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone(zone_name if isinstance(zone_name, str) else None))
        seconds = moment.timestamp()
    except (ValueError, OverflowError):
        return int(received_at)
    if seconds < EARLIEST_TIMESTAMP or (latest is not None and seconds > latest):
        return int(received_at)
    return int(seconds)
