"""OpenTelemetry traces (OTLP) into Treblle-shaped payloads: each SERVER span is one API call.

decode_traces reads an ExportTraceServiceRequest from protobuf (opentelemetry-proto's generated
classes) or from OTLP JSON; payloads_from_spans maps its spans, one pure function per span
(payload_from_span), to the payloads the Treblle path takes, so that everything after it (the key
check, customer, enrichment, masking, caps, the writer) is that path's. What each field comes from,
first found wins (stable attribute names first, then the old ones instrumentations still emit by
default):

| payload field                 | span                                                                |
|-------------------------------|---------------------------------------------------------------------|
| project_id (the API)          | resource attribute footfall.api_key, else the x-footfall-api-key header |
| request.method                | http.request.method_original, http.request.method, http.method       |
| request.url: path             | url.path, http.target (before `?`), the path of url.full / http.url  |
| request.url: query            | url.query, http.target (after `?`), the query of url.full / http.url |
| request.url: scheme, host     | url.scheme / http.scheme; server.address / http.host / net.host.name, with server.port / net.host.port |
| request.route_path (endpoint) | http.route                                                          |
| request.ip                    | client.address, http.client_ip, net.peer.ip, network.peer.address    |
| request.user_agent            | user_agent.original, http.user_agent                                 |
| request.headers               | http.request.header.<name> (`_` read as `-`; one value as a string) |
| request.timestamp             | the span's start (UTC)                                               |
| response.code                 | http.response.status_code, http.status_code                          |
| response.size                 | http.response.body.size, http.response_content_length                |
| response.load_time            | the span's end - start, in ms                                        |
| response.headers              | http.response.header.<name>                                          |
| metadata.user-id              | enduser.id, user.id (else the Treblle headers among the captured ones) |
| metadata.user-name            | user.full_name, user.name                                            |
| sdk                           | the instrumentation scope's name, else "opentelemetry"              |

Other span kinds are skipped, as are SERVER spans with no HTTP method (gRPC, messaging): neither
is an HTTP call. A span's other attributes, its ids, events and links are not kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from core.payload import EARLIEST_TIMESTAMP

API_KEY_HEADER = "x-footfall-api-key"  # what OTEL_EXPORTER_OTLP_HEADERS sets
API_KEY_ATTRIBUTE = "footfall.api_key"  # a resource attribute; names the API of that resource's spans
DEFAULT_SDK = "opentelemetry"
SERVER = Span.SpanKind.SPAN_KIND_SERVER
REQUEST_HEADER = "http.request.header."
RESPONSE_HEADER = "http.response.header."

METHOD = ("http.request.method_original", "http.request.method", "http.method")
PATH = ("url.path",)
QUERY = ("url.query",)
TARGET = ("http.target",)  # the old path?query
FULL_URL = ("url.full", "http.url")
SCHEME = ("url.scheme", "http.scheme")
HOST = ("server.address", "http.host", "net.host.name")
PORT = ("server.port", "net.host.port")
ROUTE = ("http.route",)
CLIENT = ("client.address", "http.client_ip", "net.peer.ip", "network.peer.address")
USER_AGENT = ("user_agent.original", "http.user_agent")
STATUS = ("http.response.status_code", "http.status_code")
SIZE = ("http.response.body.size", "http.response_content_length")
CUSTOMER_ID = ("enduser.id", "user.id")
CUSTOMER_NAME = ("user.full_name", "user.name")

DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,15}")
_HOST = re.compile(r"[^\s/?#@\\]{1,512}")  # what can stand between // and the path
LATEST_DATETIME_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
# What the shared path's refusals call a field, and what a span calls it.
SPAN_TERMS = (
    ("data.metadata.user-id", "enduser.id / user.id"),
    ("data.request.headers.", REQUEST_HEADER),
    ("data.response.headers.", RESPONSE_HEADER),
    ("data.response.load_time", "the span's duration"),
    ("data.response.code", "http.response.status_code"),
)


class TraceDecodeError(ValueError):
    """A body that is not an ExportTraceServiceRequest in the encoding it says: answered 400."""


class SpanError(ValueError):
    """A SERVER span that cannot be a call (no status code, ...): it is refused, the others are not."""


class RefusedSpan(NamedTuple):
    """A SERVER span refused before it became a payload."""

    where: str  # "span 3": its place among the request's spans, counted from 0
    for_key: bool  # refused for its API key (none, or one no API is registered with), else for its content
    message: str


class SpanPayloads(NamedTuple):
    """A request's SERVER spans as (where, payload) pairs, those refused, and how many were skipped.
    `named_api`: the header (checked before the body was decoded) or some resource's
    footfall.api_key names a registered API; a request that names none is refused whole (401)."""

    payloads: list[tuple[str, dict]]
    refused: list[RefusedSpan]
    skipped: int
    named_api: bool


def decode_traces(body: bytes, *, json: bool) -> ExportTraceServiceRequest:
    """The request in `body`: OTLP JSON when `json`, else protobuf. OTLP JSON's hex trace and span
    ids are read as base64 and so not checked: ids are not kept. TraceDecodeError says what is wrong."""
    request = ExportTraceServiceRequest()
    try:
        if not json:
            request.ParseFromString(body)
            return request
        document = orjson.loads(body)
        if not isinstance(document, dict):
            raise TraceDecodeError("the body must be a JSON object (an ExportTraceServiceRequest)")
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except DecodeError as error:
        raise TraceDecodeError(f"the body is not an ExportTraceServiceRequest in protobuf: {error}") from None
    except orjson.JSONDecodeError as error:
        raise TraceDecodeError(f"the body is not valid JSON: {error}") from None
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
        raise TraceDecodeError(f"the body is not an ExportTraceServiceRequest in OTLP JSON: {_cut(str(error), 300)}") from None
    return request


def span_count(request: ExportTraceServiceRequest) -> int:
    """Every span of the request, of any kind."""
    return sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)


def payloads_from_spans(request: ExportTraceServiceRequest, *, header_key: str | None,
                        known_api: Callable[[str], bool]) -> SpanPayloads:
    """Each SERVER span's payload. A resource's spans belong to the API its footfall.api_key
    names, else the header's (`header_key`, already checked); that key is checked with
    `known_api` before any of its spans is read, and a resource whose key names no API has its
    SERVER spans refused."""
    payloads, refused, skipped, named_api = [], [], 0, header_key is not None
    known: dict[str, bool] = {}
    index = -1
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        key = _text(resource, (API_KEY_ATTRIBUTE,)) or header_key
        registered = False
        if key is not None:
            registered = known.get(key)
            if registered is None:
                registered = known[key] = known_api(key)
        named_api = named_api or registered
        if not registered:
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    index += 1
                    if span.kind == SERVER:
                        refused.append(RefusedSpan(f"span {index}", True, _no_api(key)))
                    else:
                        skipped += 1
            continue
        for scope in resource_spans.scope_spans:
            sdk = scope.scope.name or DEFAULT_SDK
            for span in scope.spans:
                index += 1
                if span.kind != SERVER:
                    skipped += 1
                    continue
                attributes = _attributes(span.attributes)
                if _text(attributes, METHOD) is None:
                    skipped += 1  # a SERVER span of another protocol
                    continue
                try:
                    payloads.append((f"span {index}", payload_from_span(span, attributes, key, sdk)))
                except SpanError as error:
                    refused.append(RefusedSpan(f"span {index}", False, str(error)))
    return SpanPayloads(payloads, refused, skipped, named_api)


def payload_from_span(span: Span, attributes: dict[str, Any], api_key: str, sdk: str = DEFAULT_SDK) -> dict:
    """The Treblle payload (format A) of one SERVER span with these attributes (the table above).
    SpanError when it has no HTTP status code."""
    status = _first(attributes, STATUS)
    if status is None:
        raise SpanError("it has no http.response.status_code (nor http.status_code)")
    if type(status) is not int and not (type(status) is str and status.isascii() and status.isdigit()
                                        and len(status) <= 3):
        raise SpanError(f"http.response.status_code must be an integer, got {_cut(repr(status), 40)}")
    target = _text(attributes, TARGET)
    full = _text(attributes, FULL_URL)
    path = _text(attributes, PATH)
    query = _text(attributes, QUERY)
    if target is not None:
        target_path, _, target_query = target.partition("?")
        path = path if path is not None else target_path
        query = query if query is not None else target_query
    if full is not None and (path is None or query is None):
        try:
            parts = urlsplit(full)
        except ValueError:
            parts = None
        if parts is not None:
            path = path if path is not None else parts.path
            query = query if query is not None else parts.query
    request_headers, response_headers = _headers(attributes)
    request: dict[str, Any] = {
        "timestamp": _iso(span.start_time_unix_nano),
        "method": _text(attributes, METHOD),
        "url": _url(_text(attributes, SCHEME), _text(attributes, HOST), _first(attributes, PORT), path or "/", query),
        "route_path": _text(attributes, ROUTE),
        "ip": _text(attributes, CLIENT),
        "user_agent": _text(attributes, USER_AGENT),
        "headers": request_headers,
    }
    size = _first(attributes, SIZE)
    response = {
        "code": int(status),
        "size": size if type(size) is int else None,
        "load_time": (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6
        if span.end_time_unix_nano > span.start_time_unix_nano > 0 else 0,
        "headers": response_headers,
    }
    metadata = {}
    customer_id = _text(attributes, CUSTOMER_ID)
    if customer_id is not None:
        metadata["user-id"] = customer_id
    name = _text(attributes, CUSTOMER_NAME)
    if name is not None:
        metadata["user-name"] = name
    return {"project_id": api_key, "sdk": sdk,
            "data": {"server": {"timezone": "UTC"}, "request": request, "response": response, "metadata": metadata}}


def in_span_terms(message: str) -> str:
    """A refusal of the shared path (which names a payload's fields) in the words of a span."""
    for field, attribute in SPAN_TERMS:
        message = message.replace(field, attribute)
    return message


def export_response(rejected: int = 0, message: str = "", *, json: bool) -> bytes:
    """The 200 reply: an ExportTraceServiceResponse, with partial_success when spans were refused."""
    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return _encoded(response, json)


def status_body(message: str, *, json: bool) -> bytes:
    """The body of a 4xx or 5xx reply: a google.rpc.Status with the message, as the OTLP spec says."""
    return _encoded(Status(message=message), json)


def _encoded(message, json: bool) -> bytes:
    if json:
        return orjson.dumps(json_format.MessageToDict(message))
    return message.SerializeToString()


def _no_api(key: str | None) -> str:
    if key is None:
        return (f"it names no API: send the header {API_KEY_HEADER} (OTEL_EXPORTER_OTLP_HEADERS) or the resource"
                f" attribute {API_KEY_ATTRIBUTE}")
    return "no API is registered with its resource's footfall.api_key"


def _attributes(key_values) -> dict[str, Any]:
    """Attribute name -> value: a string, integer, float or boolean; an array as a list of those;
    anything else (bytes, maps, arrays in arrays) as None."""
    found = {}
    for kv in key_values:
        value = kv.value
        kind = value.WhichOneof("value")
        if kind == "array_value":
            found[kv.key] = [_scalar(v) for v in value.array_value.values]
        elif kind in ("string_value", "int_value", "bool_value", "double_value"):
            found[kv.key] = getattr(value, kind)
        else:
            found[kv.key] = None
    return found


def _scalar(value) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in ("string_value", "int_value", "bool_value", "double_value") else None


def _first(attributes: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = attributes.get(name)
        if value is not None:
            return value
    return None


def _text(attributes: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """The first of the attributes set, as text (a number as its digits; an array's first value)."""
    value = _first(attributes, names)
    if type(value) is list:
        value = next((v for v in value if v is not None), None)
    if value is None or type(value) is str:
        return value
    return str(value)


def _headers(attributes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The captured request and response headers: `x_customer_id` read as `x-customer-id` (newer
    instrumentations turn `-` into `_`), one value as a string, several as a list."""
    request, response = {}, {}
    for name, value in attributes.items():
        if name.startswith(REQUEST_HEADER):
            into, header = request, name[len(REQUEST_HEADER):]
        elif name.startswith(RESPONSE_HEADER):
            into, header = response, name[len(RESPONSE_HEADER):]
        else:
            continue
        header = header.lower().replace("_", "-")
        if header and header not in into and value is not None:
            if type(value) is list:
                values = [v if type(v) is str else str(v) for v in value if v is not None]
                value = values[0] if len(values) == 1 else values
            into[header] = value if type(value) in (str, list) else str(value)
    return request, response


def _url(scheme: str | None, host: str | None, port: Any, path: str, query: str | None) -> str:
    """The call's URL from its parts, as the Treblle path reads it back: a `?` or `#` inside the
    path (a decoded %3F) stays in the path, and a host or scheme that cannot stand in a URL is left out."""
    path = path if path.startswith("/") else "/" + path
    url = path.replace("?", "%3F").replace("#", "%23") if ("?" in path or "#" in path) else path
    if query:
        url += "?" + query
    if host and _HOST.fullmatch(host):
        if ":" in host and not host.startswith("[") and host.count(":") > 1:
            host = f"[{host}]"  # an IPv6 address, as server.address gives it
        scheme = scheme.lower() if scheme and _SCHEME.fullmatch(scheme) else None
        has_port = ":" in host.rsplit("]", 1)[-1]  # http.host may carry one
        if type(port) is int and 0 < port < 65536 and not has_port and DEFAULT_PORTS.get(scheme or "") != port:
            host = f"{host}:{port}"
        with_host = f"{scheme}://{host}{url}" if scheme else f"//{host}{url}"
        if ":" not in host and "[" not in host and "]" not in host:
            return with_host
        try:
            urlsplit(with_host).port  # a bracketed host that is no address, a port that is no number
            return with_host
        except ValueError:
            pass
    return "//" + url if url.startswith("//") else url  # an empty host, so that //x/y stays a path


def _iso(nanos: int) -> str | None:
    """A time in unix nanoseconds as ISO 8601 UTC text; None (the arrival time) when it is before
    2000 or past what a date holds."""
    seconds = nanos / 1e9
    if not EARLIEST_TIMESTAMP <= seconds <= LATEST_DATETIME_SECONDS:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
