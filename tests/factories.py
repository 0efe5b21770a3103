"""Payload factories: a realistic Treblle payload with only what a test cares about changed."""

from __future__ import annotations

import copy
import gzip
from typing import Any

import orjson

API_KEY = "test-project-key"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"


def payload(
    *,
    user_id: str | None = "cus_1",
    timestamp: str = "2026-11-20 12:00:00",
    timezone: str = "UTC",
    method: str = "GET",
    url: str = "https://api.example.com/api/items/42",
    status: int = 200,
    load_time: float = 12.5,
    user_agent: str = CHROME_WINDOWS,
    ip: str = "81.2.69.142",
    request_headers: dict[str, Any] | None = None,
    response_headers: dict[str, Any] | None = None,
    body: Any = None,
    api_key: str = API_KEY,
    sdk: str = "django",
    route_path: str | None = None,
    **data_extra: Any,
) -> dict[str, Any]:
    """Format A, as the Django SDK sends it: timestamps in server time, load_time in ms."""
    headers = {"authorization": "Bearer SECRET-token", "user-agent": user_agent, "host": "api.example.com"}
    if user_id is not None:
        headers["treblle-user-id"] = user_id
    headers.update(request_headers or {})
    request = {
        "timestamp": timestamp,
        "ip": ip,
        "url": url,
        "user_agent": user_agent,
        "method": method,
        "headers": headers,
        "body": body if body is not None else {},
    }
    if route_path is not None:
        request["route_path"] = route_path
    return {
        "api_key": "sdk-token-abc",
        "project_id": api_key,
        "version": "2.0.6",
        "sdk": sdk,
        "data": {
            "server": {"timezone": timezone, "protocol": "HTTP/1.1"},
            "language": {"name": "python", "version": "3.11"},
            "request": request,
            "response": {
                "headers": {"content-type": "application/json", **(response_headers or {})},
                "code": status,
                "size": 120,
                "load_time": load_time,
                "body": {"ok": True},
            },
            "errors": [],
            **data_extra,
        },
    }


def format_b(metadata: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Format B (treblle-node 3, Laravel 6): sdk_token plus api_key naming the API."""
    a = payload(**kwargs)
    b = {"sdk_token": a["api_key"], "api_key": a["project_id"], "version": "3.0.0", "sdk": "laravel"}
    b["data"] = copy.deepcopy(a["data"])
    if metadata is not None:
        b["data"]["metadata"] = metadata
    return b


def jsonl(payloads: list[Any]) -> bytes:
    return b"".join(orjson.dumps(p) + b"\n" for p in payloads)


def gzipped(value: Any) -> bytes:
    return gzip.compress(orjson.dumps(value))
