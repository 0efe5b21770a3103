"""The collector: Treblle-compatible HTTP ingest on Starlette, and OpenTelemetry traces.

POST / and POST /v1/log take one payload or a JSON array of them, plain or gzip. A reply of 200
means every payload in the body is committed; any error means none of them was stored.
POST /v1/traces takes OTLP/HTTP (protobuf or JSON, plain or gzip): each SERVER span is a call
(core/otlp.py), under the same limits; a 200 means every span not counted in its partial_success
is committed.

It cannot be pushed over: a connection must deliver its request at a minimum pace, with a head of
bounded size (collector/connections.py); a body is read to at most the body limit, and the bodies a
worker reads at once hold at most READING_LIMIT_BODIES times it (past that, 503); a gzip body is
decompressed as a stream and refused as soon as it expands past what it may; a body holds at most
`max_payloads` payloads; every payload's API key is checked before anything else is done with it;
a worker takes at most MAX_REQUESTS_AT_ONCE requests past that check at a time (parsed, enriched,
waiting on the writer: the next gets 503 with Retry-After at once); and every payload it cannot
read is answered with a 4xx naming the field (core.payload), never a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from collector.identities import ApiIdentities
from collector.writer_client import WriterClient, WriterUnavailable
from core.keys import key_hash
from core.masking import NO_EXTRA_NAMES, Masking
from core.otlp import (
    API_KEY_ATTRIBUTE, API_KEY_HEADER, TraceDecodeError, decode_traces, export_response, span_count, status_body,
)
from core.record import Record, warm_up
from db.connection import connect_readonly, live_readonly
from db.errors import DatabaseError
from db.writes.apis import api_ids_by_hash
from services.ingest import Reason, Rejection, records_from_spans, records_or_reasons
from services.settings import settings

KEYS_FRESH_SECONDS = 2.0
RETRY_AFTER_SECONDS = 2  # a writer restarts, or space comes back, within seconds
HEALTH_TIMEOUT_SECONDS = 5.0
UNAVAILABLE = "could not store the payloads right now; nothing was stored; retry later"
# A gzip body may expand to the size limit, and past it to at most this many times the limit if it
# expands at most GZIP_RATIO_LIMIT times its own size; its JSON may hold at most as many values
# (commas, objects and arrays) as half the limit in bytes, about what a plain body at the limit can
# hold, so that parsing it costs no more.
GZIP_EXPANSION_LIMIT = 10
GZIP_RATIO_LIMIT = 100
GZIP_PIECE_BYTES = 1024 * 1024  # decompressed at a time
GZIP_MAGIC = b"\x1f\x8b"
# Requests one worker takes at once past their key check (parsed, enriched, waiting on the writer);
# each holds at most its body (FOOTFALL_MAX_BODY_BYTES) and its records, so this bounds a worker's
# memory. The next request gets 503 with Retry-After at once. Requests still sending their body do
# not count: they are bounded by the connection's pace (collector/connections.py) and, together, to
# this many times the body limit in bytes held.
MAX_REQUESTS_AT_ONCE = 64
READING_LIMIT_BODIES = 64
BUSY = "the collector is serving as many requests as it takes at once; nothing was stored; retry later"
BUSY_READING = "the collector is reading as many bodies as it holds at once; nothing was stored; retry later"
REFUSING = "ingest is refusing requests: this worker is serving or reading as many as it takes at once"
# Of a body over the limit, up to this many more bytes are read and dropped so that the sender can
# finish sending and read its 413 on a connection that stays open; past that the connection is
# closed after the 413.
OVERSIZE_DRAIN_BYTES = 16 * 1024 * 1024
JSON_TYPES = ("application/json", "text/json", "text/plain", "application/x-ndjson")
OTLP_PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")


class Refusal(Exception):
    """A request refused with this status and message; nothing of its body is stored. `close`:
    close the connection after the reply (the rest of the body is not worth reading)."""

    def __init__(self, status: int, message: str, *, close: bool = False, retry: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if retry else {}
        if close:
            self.headers["Connection"] = "close"


def refusal_status(rejected: list[Rejection]) -> int:
    """401 when every refused payload names an API key no API is registered with, else 422."""
    return 401 if all(r.reason is Reason.UNKNOWN_API_KEY for r in rejected) else 422


def json_response(status: int, content: dict, headers: dict[str, str] | None = None) -> Response:
    """A JSON reply."""
    return Response(orjson.dumps(content), status_code=status, media_type="application/json", headers=headers)


class KeysUnavailable(Exception):
    """The API keys could not be read (the database server is away): nothing can be stored now."""


class ApiKeys:
    """Which API keys are registered; re-read on a miss, at most once a second, through a
    read-only connection (the writer process alone writes). While they cannot be read (a
    PostgreSQL server away; the connection is opened again once it answers), the keys read last
    still count, and a key not among them raises KeysUnavailable rather than being refused."""

    def __init__(self, db_path: str | Path):
        self._db_path = db_path
        self._conn = connect_readonly(db_path)
        self._hashes: set[str] = set()
        self._read_at = 0.0
        self._failing = False

    def __contains__(self, key: str) -> bool:
        hashed = key_hash(key)
        # Re-read on a miss (an API just added) and every few seconds anyway (a key just rotated
        # or removed stops working within KEYS_FRESH_SECONDS).
        age = time.monotonic() - self._read_at
        if age > KEYS_FRESH_SECONDS or (hashed not in self._hashes and age > 1.0):
            self._read_at = time.monotonic()
            self._failing = not self._read()
        if self._failing and hashed not in self._hashes:
            raise KeysUnavailable(key)
        return hashed in self._hashes

    def _read(self) -> bool:
        try:
            self._conn = live_readonly(self._conn, self._db_path)
            self._hashes = set(api_ids_by_hash(self._conn))
            return True
        except DatabaseError:
            return False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def app_from_settings() -> Starlette:
    """The app each collector worker process builds, configured from the environment."""
    config = settings()
    return create_app(config.db_path, config.writer_socket, config.max_body_bytes,
                      masking=Masking(config.masked_names), max_payloads=config.max_payloads)


class BodyBytes:
    """The bytes of the bodies a worker is reading, at most `most` together."""

    def __init__(self, most: int):
        self.most = most
        self.held = 0


def create_app(db_path: str | Path, writer_address: str, max_body_bytes: int = 5 * 1024 * 1024,
               *, masking: Masking = NO_EXTRA_NAMES, max_payloads: int = 10_000) -> Starlette:
    """The HTTP side; records, masked by `masking`, go to the writer process listening on
    `writer_address`."""
    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        warm_up()  # load the enrichment data before the first request, not during it
        state["keys"] = ApiKeys(db_path)
        state["identities"] = ApiIdentities(db_path)
        state["writer"] = WriterClient(writer_address)
        await state["writer"].start()
        try:
            yield
        finally:
            await state["writer"].close()
            state["keys"].close()
            state["identities"].close()

    serving = 0  # requests past their key check: enriched, waiting on the writer
    reading = BodyBytes(max_body_bytes * READING_LIMIT_BODIES)
    refused_busy_at = -RETRY_AFTER_SECONDS  # when this worker last refused a request for being busy

    async def take(request: Request, records_of: Callable[[bytes], Taken], replies: Replies) -> Response:
        """Read the body, make its records (`records_of`) and have them committed; the reply in
        the words of `replies`."""
        nonlocal serving, refused_busy_at
        try:
            body = await _read_body(request, max_body_bytes, reading)
            if serving >= MAX_REQUESTS_AT_ONCE:  # at once, before the body is parsed
                raise Refusal(503, BUSY, retry=True)
            taken = records_of(body)
        except Refusal as refusal:
            if refusal.status == 503:
                refused_busy_at = time.monotonic()
            return replies.refused(refusal)
        except KeysUnavailable:
            return replies.refused(Refusal(503, UNAVAILABLE, retry=True))
        if taken.records:
            serving += 1  # no await since `serving` was seen under the limit
            try:
                await state["writer"].write(taken.records)
            except WriterUnavailable:
                # Why (a full disk, a writer restarting) is in the collector's log, not in the reply.
                return replies.refused(Refusal(503, UNAVAILABLE, retry=True))
            finally:
                serving -= 1
        return replies.accepted(taken)

    async def ingest(request: Request) -> Response:
        """POST / and /v1/log: Treblle payloads."""
        return await take(request, lambda body: Taken(_records(body, request, max_body_bytes, max_payloads,
                                                                state["keys"], masking, state["identities"])),
                          TREBLLE_REPLIES)

    async def traces(request: Request) -> Response:
        """POST /v1/traces: OpenTelemetry spans (OTLP/HTTP), replies in the request's encoding."""
        json = _otlp_is_json(request)
        return await take(request, lambda body: _span_records(body, request, json, max_body_bytes, max_payloads,
                                                             state["keys"], masking, state["identities"]),
                          OtlpReplies(json))

    async def healthz(request: Request) -> Response:
        """200 while ingest takes requests and can commit; 503 while this worker is busy (it takes
        no more requests past their key check, or the bodies it is reading leave no room for one at
        the limit, or it refused a request for being busy within RETRY_AFTER_SECONDS), or cannot
        commit (the writer down or restarting, a commit failing: a full disk), so that a load
        balancer sends traffic elsewhere. Each worker answers for itself: it takes its own share of
        new connections, so a probe is answered as a sender's next connection would be."""
        if (serving >= MAX_REQUESTS_AT_ONCE or reading.held + max_body_bytes > reading.most
                or time.monotonic() - refused_busy_at < RETRY_AFTER_SECONDS):
            return json_response(503, {"status": "busy", "error": REFUSING}, {"Retry-After": str(RETRY_AFTER_SECONDS)})
        try:
            problem = await asyncio.wait_for(state["writer"].ping(), HEALTH_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            problem = "the writer did not answer"
        if problem is not None:
            return json_response(503, {"status": "unavailable", "error": "ingest cannot commit right now"},
                                 {"Retry-After": str(RETRY_AFTER_SECONDS)})
        return json_response(200, {"status": "ok"})

    return Starlette(
        routes=[
            Route("/", ingest, methods=["POST"]),
            Route("/v1/log", ingest, methods=["POST"]),
            Route("/v1/traces", traces, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _records(body: bytes, request: Request, limit: int, max_payloads: int, keys: ApiKeys,
             masking: Masking, identities: ApiIdentities) -> list[Record]:
    """The records of a body; Refusal when any payload in it is refused (401 when every refused
    one names an unknown API key, else 422). Each payload's key is checked before anything else
    of it is read (records_or_reasons); a call that names no customer gets one from its API's
    identity rules. The decoded payloads are gone when this returns: a request waiting for the
    writer holds only its records."""
    payloads = _decode(body, request, limit, max_payloads)
    many = len(payloads) > 1
    items = ((f"payload {i}" if many else "payload", p) for i, p in enumerate(payloads))
    records, rejected = records_or_reasons(items, keys.__contains__, time.time(), masking=masking,
                                           identity_of=identities.of)
    if rejected:
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        raise Refusal(refusal_status(rejected), f"{rejected[0].where}: {rejected[0].message}{more}; nothing was stored")
    return records


class Taken(NamedTuple):
    """A body's records, and what of it was refused while the rest is stored (OTLP's partial success)."""

    records: list[Record]
    rejected: Sequence[Rejection] = ()


class Replies(Protocol):
    """How an ingest route answers: a refusal, or the records taken."""

    def refused(self, refusal: Refusal) -> Response: ...

    def accepted(self, taken: Taken) -> Response: ...


class TreblleReplies:
    """JSON: {"error": message}, or {"accepted": n}."""

    def refused(self, refusal: Refusal) -> Response:
        return json_response(refusal.status, {"error": refusal.message}, refusal.headers)

    def accepted(self, taken: Taken) -> Response:
        return json_response(200, {"accepted": len(taken.records)})


TREBLLE_REPLIES = TreblleReplies()


class OtlpReplies:
    """As the OTLP/HTTP spec says, in the request's encoding (protobuf, or JSON; JSON for a
    Content-Type Footfall does not read): a google.rpc.Status for a refusal, an
    ExportTraceServiceResponse for 200, with partial_success when spans were refused."""

    def __init__(self, json: bool | None):
        self.json = json is not False
        self.media_type = "application/json" if self.json else OTLP_PROTOBUF_TYPES[0]

    def refused(self, refusal: Refusal) -> Response:
        return Response(status_body(refusal.message, json=self.json), status_code=refusal.status,
                        media_type=self.media_type, headers=refusal.headers)

    def accepted(self, taken: Taken) -> Response:
        rejected, message = len(taken.rejected), ""
        if rejected:
            first = taken.rejected[0]
            more = f" (and {rejected - 1} more)" if rejected > 1 else ""
            message = (f"{rejected} of {rejected + len(taken.records)} server spans refused, and not stored:"
                       f" {first.where}: {first.message}{more}")
        return Response(export_response(rejected, message, json=self.json), status_code=200,
                        media_type=self.media_type)


def _otlp_is_json(request: Request) -> bool | None:
    """Whether an OTLP request is JSON (True) or protobuf (False), by its Content-Type; None when
    it is neither."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return True if content_type == "application/json" else False if content_type in OTLP_PROTOBUF_TYPES else None


def _span_records(body: bytes, request: Request, json: bool | None, limit: int, max_payloads: int, keys: ApiKeys,
                  masking: Masking, identities: ApiIdentities) -> Taken:
    """The records of an OTLP request's SERVER spans, and the spans refused (answered with 200 and
    partial_success: the others are stored). The header's API key is checked before anything of the
    body is decoded; the resources' keys (footfall.api_key) once it is, before their spans are read.
    Refusal (nothing stored): 415 for an encoding Footfall does not read, 401 for a key no API is
    registered with, or none, 400 for a body that does not decode, 413 past the limits."""
    if json is None:
        content_type = request.headers.get("content-type", "").split(";")[0].strip() or "(none)"
        raise Refusal(415, f"Content-Type {content_type} is not accepted; send application/x-protobuf or"
                           " application/json")
    header_key = request.headers.get(API_KEY_HEADER) or None
    if header_key is not None and header_key not in keys:
        raise Refusal(401, f"no API is registered with the key in {API_KEY_HEADER}; nothing was stored")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        body = _gunzip(body, limit, json=json)
    elif encoding not in ("identity", ""):
        raise Refusal(415, f"Content-Encoding {encoding} is not accepted; send gzip or no encoding")
    try:
        decoded = decode_traces(body, json=json)
    except TraceDecodeError as error:
        raise Refusal(400, f"{error}; nothing was stored") from None
    spans = span_count(decoded)
    if spans > max_payloads:
        raise Refusal(413, f"the body holds {spans} spans; the limit is {max_payloads} in one body")
    taken = records_from_spans(decoded, header_key=header_key, known_api=keys.__contains__, received_at=time.time(),
                               masking=masking, identity_of=identities.of)
    if not taken.named_api:
        raise Refusal(401, f"the request names no registered API: send its key in the {API_KEY_HEADER} header"
                           f" (OTEL_EXPORTER_OTLP_HEADERS) or the resource attribute {API_KEY_ATTRIBUTE};"
                           " nothing was stored")
    return Taken(taken.records, taken.rejected)


async def _read_body(request: Request, limit: int, reading: BodyBytes) -> bytes:
    """The body, at most `limit` bytes; 413 past it. A body declared too long is refused without
    being kept: it is read and dropped first, so that the sender can finish sending and read the
    413 (also one that sent `Connection: close`, and would otherwise meet a closed connection);
    one declared more than OVERSIZE_DRAIN_BYTES past the limit, or whose sender waits for
    `100 Continue`, has its 413 at once and its connection closed. A chunked body has no declared
    length: past the limit, up to OVERSIZE_DRAIN_BYTES more of it are read and dropped before the
    413, and the connection is closed unless the body ended within them. A body that would take
    the bodies being read past `reading.most` is dropped the same way and answered 503."""
    declared = request.headers.get("content-length")
    stream = request.stream()
    chunks, size = [], 0
    try:
        if declared and declared.isdigit() and int(declared) > limit:
            size = int(declared)
            message = f"the body is {size} bytes; the limit is {limit} bytes"
            # A client waiting for `100 Continue` sends no body after this reply: the connection closes.
            if "100-continue" in request.headers.get("expect", "").lower() or size > limit + OVERSIZE_DRAIN_BYTES:
                raise Refusal(413, message, close=True)
            raise Refusal(413, message, close=not await _drop(stream, size))
        async for chunk in stream:
            size += len(chunk)
            if size > limit:
                raise Refusal(413, f"the body is over the limit of {limit} bytes",
                              close=not await _drop(stream, OVERSIZE_DRAIN_BYTES))
            reading.held += len(chunk)
            chunks.append(chunk)
            if reading.held > reading.most:
                reading.held -= sum(map(len, chunks))
                chunks.clear()
                raise Refusal(503, BUSY_READING, retry=True, close=not await _drop(stream, limit))
    except ClientDisconnect:
        raise Refusal(400, "the body ended before it was complete (the client went away)") from None
    finally:
        reading.held -= sum(map(len, chunks))
    return b"".join(chunks)


async def _drop(stream: AsyncIterator[bytes], most: int) -> bool:
    """Read and drop up to `most` more bytes of a body; whether it ended within them."""
    dropped = 0
    async for chunk in stream:
        dropped += len(chunk)
        if dropped > most:
            return False
    return True


def _decode(body: bytes, request: Request, limit: int, max_payloads: int) -> list:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not (content_type in JSON_TYPES or content_type.endswith("+json")):
        raise Refusal(415, f"Content-Type {content_type} is not accepted; send application/json")
    if encoding == "gzip":
        body = _gunzip(body, limit)
    elif encoding not in ("identity", ""):
        raise Refusal(415, f"Content-Encoding {encoding} is not accepted; send gzip or no encoding")
    if not body.strip():
        raise Refusal(400, "the body is empty; send a Treblle payload as JSON")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Refusal(400, f"the body is not valid JSON: {error}") from None
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list) and len(document) > max_payloads:
        raise Refusal(413, f"the body holds {len(document)} payloads; the limit is {max_payloads} in one body")
    if isinstance(document, list) and document:
        return document
    if isinstance(document, list):
        raise Refusal(422, "the array is empty; send at least one payload")
    raise Refusal(422, "the body must be a JSON object (one payload) or an array of payloads")


def _gunzip(body: bytes, limit: int, *, json: bool = True) -> bytearray:
    """Every gzip member of the body, one after the other (RFC 1952), decompressed a piece at a
    time and refused (413) as soon as it passes what it may expand to (GZIP_EXPANSION_LIMIT); 400
    for anything but gzip after the last member, or a member cut short. Protobuf (not `json`)
    expands to the body limit at most: its values cannot be counted before it is decoded, and
    decoded, it takes up to ~90 times its size (an empty span is 2 bytes)."""
    most = min(limit * GZIP_EXPANSION_LIMIT, max(limit, len(body) * GZIP_RATIO_LIMIT)) if json else limit
    most_values = limit // 2 if json else len(body) + most  # (protobuf: not counted)
    data, values, members = bytearray(), 0, 0
    rest = body
    while rest:
        if members and not rest.startswith(GZIP_MAGIC):
            raise Refusal(400, "the body goes on after the end of its gzip data")
        members += 1
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        while not inflater.eof:
            try:
                piece = inflater.decompress(rest, GZIP_PIECE_BYTES)
            except zlib.error as error:
                raise Refusal(400, f"the body is not valid gzip: {error}") from None
            if not piece and len(inflater.unconsumed_tail) == len(rest):
                break  # no more to come: cut short
            rest = inflater.unconsumed_tail
            if len(data) + len(piece) > most:
                raise Refusal(413, f"the body expands past the limit: {most} bytes for this gzip body of"
                                   f" {len(body)} (the body limit, and past it at most {GZIP_RATIO_LIMIT}"
                                   f" times its size, up to {GZIP_EXPANSION_LIMIT} times the limit)" if json else
                              f"the body expands past the limit: a protobuf body may expand to {most} bytes")
            if json:
                values += piece.count(b",") + piece.count(b"{") + piece.count(b"[")
            if values > most_values:
                raise Refusal(413, f"the body expands past the limit: its JSON holds over {most_values} values"
                                   " (commas, objects and arrays counted)")
            data += piece
        if not inflater.eof:
            raise Refusal(400, "the gzip body is truncated")
        rest = inflater.unused_data
    return data
