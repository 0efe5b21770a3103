"""The collector: Treblle-compatible HTTP ingest on Starlette.

POST / and POST /v1/log take one payload or a JSON array of them, plain or gzip. A reply of 200
means every payload in the body is committed; any error means none of them was stored.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.ingest import Reason, Rejection, records_or_reasons
from collector.writer import WriterClient
from core.masking import NO_EXTRA_NAMES, Masking
from core.record import warm_up
from core.keys import key_hash
from db.apis import api_ids_by_hash
from db.connection import connect_readonly
from footfall.settings import settings

KEYS_FRESH_SECONDS = 2.0
# A gzip body may expand to this many times the size limit before it is refused.
GZIP_EXPANSION_LIMIT = 10
JSON_TYPES = ("application/json", "text/json", "text/plain", "application/x-ndjson")


class Refusal(Exception):
    """A request refused with this status and message; nothing of its body is stored."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def refusal_status(rejected: list[Rejection]) -> int:
    """401 when every refused payload names an API key no API is registered with, else 422."""
    return 401 if all(r.reason is Reason.UNKNOWN_API_KEY for r in rejected) else 422


def json_response(status: int, content: dict) -> Response:
    """A JSON reply."""
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


class ApiKeys:
    """Which API keys are registered; re-read on a miss, at most once a second, through a
    read-only connection (the writer process alone writes)."""

    def __init__(self, db_path: str | Path):
        self._conn = connect_readonly(db_path)
        self._hashes: set[str] = set()
        self._read_at = 0.0

    def __contains__(self, key: str) -> bool:
        hashed = key_hash(key)
        # Re-read on a miss (an API just added) and every few seconds anyway (a key just rotated
        # or removed stops working within KEYS_FRESH_SECONDS).
        age = time.monotonic() - self._read_at
        if age > KEYS_FRESH_SECONDS or (hashed not in self._hashes and age > 1.0):
            self._hashes = set(api_ids_by_hash(self._conn))
            self._read_at = time.monotonic()
        return hashed in self._hashes

    def close(self) -> None:
        self._conn.close()


def app_from_settings() -> Starlette:
    """The app each collector worker process builds, configured from the environment."""
    config = settings()
    return create_app(config.db_path, config.writer_socket, config.max_body_bytes,
                      masking=Masking(config.masked_names))


def create_app(db_path: str | Path, writer_address: str, max_body_bytes: int = 5 * 1024 * 1024,
               *, masking: Masking = NO_EXTRA_NAMES) -> Starlette:
    """The HTTP side; records, masked by `masking`, go to the writer process listening on
    `writer_address`."""
    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        warm_up()  # load the enrichment data before the first request, not during it
        state["keys"] = ApiKeys(db_path)
        state["writer"] = WriterClient(writer_address)
        await state["writer"].start()
        try:
            yield
        finally:
            await state["writer"].close()
            state["keys"].close()

    async def ingest(request: Request) -> Response:
        try:
            payloads = _decode(await _read_body(request, max_body_bytes), request, max_body_bytes)
            keys = state["keys"]
            items = [(f"payload {i}" if len(payloads) > 1 else "payload", p) for i, p in enumerate(payloads)]
            records, rejected = records_or_reasons(items, keys.__contains__, time.time(), masking=masking)
            if rejected:
                more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
                raise Refusal(refusal_status(rejected),
                              f"{rejected[0].where}: {rejected[0].message}{more}; nothing was stored")
        except Refusal as refusal:
            return json_response(refusal.status, {"error": refusal.message})
        try:
            await state["writer"].write(records)
        except Exception as error:
            return json_response(503, {"error": f"could not store the payloads, nothing was stored: {error}"})
        return json_response(200, {"accepted": len(records)})

    async def healthz(request: Request) -> Response:
        return json_response(200, {"status": "ok"})

    return Starlette(
        routes=[
            Route("/", ingest, methods=["POST"]),
            Route("/v1/log", ingest, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"the body is {int(declared)} bytes; the limit is {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(body: bytes, request: Request, limit: int) -> list:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not (content_type in JSON_TYPES or content_type.endswith("+json")):
        raise Refusal(415, f"Content-Type {content_type} is not accepted; send application/json")
    if encoding == "gzip":
        body = _gunzip(body, limit * GZIP_EXPANSION_LIMIT)
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
    if isinstance(document, list) and document:
        return document
    if isinstance(document, list):
        raise Refusal(422, "the array is empty; send at least one payload")
    raise Refusal(422, "the body must be a JSON object (one payload) or an array of payloads")


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise Refusal(400, f"the body is not valid gzip: {error}") from None
    if len(data) > limit:
        raise Refusal(413, f"the body expands past the limit of {limit} bytes")
    if not inflater.eof:
        raise Refusal(400, "the gzip body is truncated")
    return data
