"""Treblle payloads (formats A and B) into one plain `Call`.

Format A: {api_key: <SDK token>, project_id: <API key>, sdk, version, data}.
Format B: {sdk_token, api_key: <API key>, sdk, version, data{..., metadata}}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# JavaScript SDKs of format A build the timestamp with Date.toISOString(), which is UTC,
# whatever timezone they report; they also send load_time in microseconds.
JS_SDKS = frozenset({"node", "express", "koa", "nestjs", "fastify", "hono", "cloudflare-workers", "strapi"})


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


def parse_payload(payload: Any, *, received_at: float) -> Call:
    """The call a Treblle payload (format A or B) describes; raises PayloadError naming what is wrong."""
    if not isinstance(payload, dict):
        raise PayloadError(f"a payload must be a JSON object, got {_json_type(payload)}")
    api_key = api_key_of(payload)
    if api_key is None:
        which = "api_key" if "sdk_token" in payload else "project_id"
        raise PayloadError(f"payload has no {which}: it must name the API it belongs to")
    data = _object(payload, "data", "payload")
    request = _object(data, "request", "data")
    response = _object(data, "response", "data")
    server = data.get("server") if isinstance(data.get("server"), dict) else {}
    sdk = payload.get("sdk") if isinstance(payload.get("sdk"), str) else None
    is_js = "sdk_token" not in payload and (sdk or "").lower() in JS_SDKS

    url = _text(request.get("url")) or ""
    parts = urlsplit(url) if url else None
    query = parts.query if parts else ""
    if not query and isinstance(request.get("query"), (dict, list)) and request["query"]:
        query = _flat_query(request["query"])
    route_path = _text(request.get("route_path"))

    return Call(
        api_key=api_key,
        sdk=sdk,
        timestamp=_timestamp(request.get("timestamp"), "UTC" if is_js else server.get("timezone"), received_at),
        method=(_text(request.get("method")) or "GET").upper()[:16],
        url=url,
        scheme=(parts.scheme.lower() or None) if parts else None,
        host=(parts.netloc or None) if parts else None,
        path=(parts.path or "/") if parts else "/",
        query=query,
        route_path=route_path or None,
        ip=_text(request.get("ip")),
        user_agent=_text(request.get("user_agent")) or _header(request.get("headers"), "user-agent"),
        request_headers=_headers(request.get("headers")),
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
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def _object(parent: dict, key: str, where: str) -> dict:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"{where}.{key} must be an object" if value is not None else f"{where}.{key} is missing")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _headers(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {str(k).lower(): v for k, v in value.items()}


def _header(headers: Any, name: str) -> str | None:
    if isinstance(headers, dict):
        for key, value in headers.items():
            if str(key).lower() == name:
                return _text(value)
    return None


def _flat_query(query: dict | list) -> str:
    if isinstance(query, list):
        return "&".join(str(v) for v in query)
    return "&".join(f"{k}={v}" for k, v in query.items())


def _status(value: Any) -> int:
    try:
        code = int(value)
    except (TypeError, ValueError):
        raise PayloadError(f"data.response.code must be an HTTP status number, got {value!r}") from None
    if not 100 <= code <= 599:
        raise PayloadError(f"data.response.code {code} is not an HTTP status (100-599)")
    return code


def _size(value: Any) -> int | None:
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError):
        return None


def _load_time_ms(value: Any, *, microseconds: bool) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    if number != number or number < 0:  # NaN or negative
        return 0.0
    return number / 1000.0 if microseconds else number


@lru_cache(maxsize=512)
def _zone(name: str | None) -> ZoneInfo | timezone:
    if not name or name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _timestamp(value: Any, zone_name: Any, received_at: float) -> int:
    """Seconds since the epoch; a missing or unreadable time falls back to when it arrived."""
    if not isinstance(value, str) or not value:
        return int(received_at)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return int(received_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(zone_name if isinstance(zone_name, str) else None))
    return int(moment.timestamp())
