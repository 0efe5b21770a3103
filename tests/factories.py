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


# --- OpenTelemetry traces (OTLP) -------------------------------------------------------------------

SPAN_START_NS = 1_795_176_000_000_000_000  # 2026-11-20 12:00:00 UTC
SERVER_SPAN, CLIENT_SPAN, INTERNAL_SPAN = 2, 3, 1
STABLE = {  # a Flask request as the instrumentation reports it with OTEL_SEMCONV_STABILITY_OPT_IN=http
    "http.request.method": "GET", "url.scheme": "https", "server.address": "api.example.com", "server.port": 443,
    "url.path": "/api/items/42", "http.route": "/api/items/<int:item_id>", "client.address": "81.2.69.142",
    "user_agent.original": CHROME_WINDOWS, "http.response.status_code": 200,
}
OLD = {  # the same request with the instrumentation's default (old) attribute names
    "http.method": "GET", "http.scheme": "https", "http.host": "api.example.com", "net.host.port": 443,
    "http.target": "/api/items/42", "http.route": "/api/items/<int:item_id>", "net.peer.ip": "81.2.69.142",
    "http.user_agent": CHROME_WINDOWS, "http.status_code": 200,
}


def span(attributes: dict[str, Any] | None = None, *, names: dict[str, Any] = STABLE, kind: int = SERVER_SPAN,
         start_ns: int = SPAN_START_NS, duration_ms: float = 12.5, name: str = "GET /api/items/<int:item_id>") -> dict:
    """A span, described plainly: `names`' attributes with `attributes` over them (None removes one)."""
    merged = {**names, **(attributes or {})}
    return {"name": name, "kind": kind, "start": start_ns, "end": start_ns + round(duration_ms * 1_000_000),
            "attributes": {k: v for k, v in merged.items() if v is not None}}


def resource(*spans: dict, api_key: str | None = None, scope: str = "opentelemetry.instrumentation.flask") -> dict:
    """A service's spans; `api_key` sets its footfall.api_key resource attribute."""
    attributes = {"service.name": "shop", "telemetry.sdk.language": "python"}
    if api_key is not None:
        attributes["footfall.api_key"] = api_key
    return {"attributes": attributes, "scope": scope, "spans": list(spans)}


def otlp_json(*resources: dict) -> bytes:
    """An ExportTraceServiceRequest in OTLP JSON, written as the spec writes it: lowerCamelCase
    keys, hex ids, the kind as an integer, int64 values as strings."""
    def value(v: Any) -> dict:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        if isinstance(v, (list, tuple)):
            return {"arrayValue": {"values": [value(x) for x in v]}}
        return {"stringValue": v}

    def attributes(values: dict) -> list:
        return [{"key": k, "value": value(v)} for k, v in values.items()]

    return orjson.dumps({"resourceSpans": [
        {"resource": {"attributes": attributes(r["attributes"])},
         "scopeSpans": [{"scope": {"name": r["scope"], "version": "0.66b2"}, "spans": [
             {"traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}", "name": s["name"], "kind": s["kind"],
              "startTimeUnixNano": str(s["start"]), "endTimeUnixNano": str(s["end"]),
              "attributes": attributes(s["attributes"]), "status": {}}
             for i, s in enumerate(r["spans"])]}]}
        for r in resources]})


def otlp_protobuf(*resources: dict) -> bytes:
    """The same request in protobuf, built with opentelemetry-proto's generated classes."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, InstrumentationScope, KeyValue
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

    def value(v: Any) -> AnyValue:
        if isinstance(v, bool):
            return AnyValue(bool_value=v)
        if isinstance(v, int):
            return AnyValue(int_value=v)
        if isinstance(v, float):
            return AnyValue(double_value=v)
        if isinstance(v, (list, tuple)):
            return AnyValue(array_value=ArrayValue(values=[value(x) for x in v]))
        return AnyValue(string_value=v)

    def attributes(values: dict) -> list:
        return [KeyValue(key=k, value=value(v)) for k, v in values.items()]

    return ExportTraceServiceRequest(resource_spans=[
        ResourceSpans(resource=Resource(attributes=attributes(r["attributes"])), scope_spans=[ScopeSpans(
            scope=InstrumentationScope(name=r["scope"], version="0.66b2"),
            spans=[Span(trace_id=(i + 1).to_bytes(16, "big"), span_id=(i + 1).to_bytes(8, "big"), name=s["name"],
                        kind=s["kind"], start_time_unix_nano=s["start"], end_time_unix_nano=s["end"],
                        attributes=attributes(s["attributes"])) for i, s in enumerate(r["spans"])])])
        for r in resources]).SerializeToString()


# --- Identity rules (core/identity.py) -------------------------------------------------------------


def bearer_jwt(claims: dict[str, Any]) -> str:
    """An Authorization value: `Bearer ` and a JWT with these claims, signed (HS256, joserfc) with a
    random key Footfall never sees: it reads the claims without verifying them."""
    import secrets

    from joserfc import jwt
    from joserfc.jwk import OctKey

    return "Bearer " + jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secrets.token_bytes(32)))


def keyed(fingerprint_key: bytes, api_key: str) -> str:
    """The customer ID a key mapped to no customer counts under: key_ and the start of its
    HMAC-SHA256 under the database's identity key, worked out here with hashlib alone."""
    import hashlib
    import hmac

    return "key_" + hmac.new(fingerprint_key, api_key.encode(), hashlib.sha256).hexdigest()[:16]
