"""The one ingest path for the collector, import and demo: payload -> record -> batch write (and
OpenTelemetry spans, as payloads: core/otlp.py)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from multiprocessing.pool import Pool
from typing import Any, NamedTuple

import orjson

from core.identity import NO_IDENTITIES, ApiIdentity, Identities
from core.keys import key_hash
from core.masking import NO_EXTRA_NAMES, Masking
from core.otlp import ExportTraceServiceRequest, in_span_terms, payloads_from_spans
from core.payload import FUTURE_TOLERANCE_SECONDS, PayloadError, payload_api_key
from core.record import Record, record_from_payload, warm_up
from db.writes.records import RecordWriter


# How many batches may wait in the worker pool: enough to keep every worker busy, few enough
# that a big import is never all in memory at once.
BATCHES_IN_FLIGHT = 8
IMPORT_BATCH = 2000  # payloads per task for the enrichment workers (import and demo)


class Reason(Enum):
    """Why a payload was refused: what the collector's status code and import's report go by."""

    NOT_JSON = "not JSON"  # the line or body is not valid JSON
    WRONG_SHAPE = "wrong shape"  # JSON, but not a payload Footfall reads (core.payload.PayloadError)
    UNKNOWN_API_KEY = "unknown API key"  # a payload for no registered API


class Rejection(NamedTuple):
    """One payload refused: where it was, why (typed), and a message for people."""

    where: str  # "payload 3", "file.jsonl:41"
    reason: Reason
    message: str  # for people: what is wrong, and where in the payload


UNKNOWN_API_KEY_MESSAGE = "no API is registered with this API key"


@dataclass
class IngestReport:
    """What a run of ingest_batches stored, and what it refused."""

    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def records_or_reasons(
    payloads: Iterable[tuple[str, Any]], known_api: Callable[[str], bool], received_at: float,
    *, masking: Masking = NO_EXTRA_NAMES, identity_of: Callable[[str], ApiIdentity | None] = NO_IDENTITIES.of,
) -> tuple[list[Record], list[Rejection]]:
    """Turn (where, payload) pairs into records, masked by `masking`, and say why for each one refused.

    A payload's API key is read and checked first, before anything else of it is parsed, masked
    or enriched: a payload for no registered API costs a key lookup, nothing more. A timestamp more
    than a day after `received_at` is taken as `received_at` (core.payload's window). `identity_of`
    gives an API's identity rules by its key (core/identity.py): who made a call that names no
    customer, and which of its headers and parameters are secret besides."""
    records, rejected = [], []
    known: dict[str, bool] = {}  # the same few keys come again and again: each is hashed once
    identities: dict[str, ApiIdentity | None] = {}
    latest = received_at + FUTURE_TOLERANCE_SECONDS
    for where, payload in payloads:
        try:
            key = payload_api_key(payload)
        except PayloadError as error:
            rejected.append(Rejection(where, Reason.WRONG_SHAPE, str(error)))
            continue
        registered = known.get(key)
        if registered is None:
            registered = known_api(key)
            if len(key) <= 256:
                known[key] = registered
        if not registered:
            rejected.append(Rejection(where, Reason.UNKNOWN_API_KEY, UNKNOWN_API_KEY_MESSAGE))
            continue
        if key in identities:
            identity = identities[key]
        else:
            identity = identity_of(key)
            if len(key) <= 256:
                identities[key] = identity
        try:
            records.append(record_from_payload(payload, received_at=received_at, masking=masking,
                                               latest_timestamp=latest, identity=identity))
        except PayloadError as error:
            rejected.append(Rejection(where, Reason.WRONG_SHAPE, str(error)))
    return records, rejected


class SpanRecords(NamedTuple):
    """What an OTLP request's spans come to: the records of its SERVER spans, those refused, and
    whether it names a registered API at all (core.otlp.SpanPayloads)."""

    records: list[Record]
    rejected: list[Rejection]
    named_api: bool


def records_from_spans(
    traces: ExportTraceServiceRequest, *, header_key: str | None, known_api: Callable[[str], bool],
    received_at: float, masking: Masking = NO_EXTRA_NAMES,
    identity_of: Callable[[str], ApiIdentity | None] = NO_IDENTITIES.of,
) -> SpanRecords:
    """The records of an OTLP request's SERVER spans, through the Treblle path from their payloads
    on (core.otlp): each resource's API key is checked before its spans are read, and a span refused
    there is refused in the span's own words. A span without enduser.id or user.id has its customer
    from the API's identity rules (`identity_of`), over its captured request headers and query."""
    mapped = payloads_from_spans(traces, header_key=header_key, known_api=known_api)
    rejected = [Rejection(r.where, Reason.UNKNOWN_API_KEY if r.for_key else Reason.WRONG_SHAPE, r.message)
                for r in mapped.refused]
    records, refused = records_or_reasons(mapped.payloads, known_api, received_at, masking=masking,
                                          identity_of=identity_of)
    rejected += [r._replace(message=in_span_terms(r.message)) for r in refused]
    return SpanRecords(records, sorted(rejected, key=lambda r: int(r.where.rsplit(" ", 1)[1])), mapped.named_api)


def records_from_batch(
    batch: list[tuple[str, Any]], known_keys: frozenset[str], received_at: float,
    *, masking: Masking = NO_EXTRA_NAMES, identities: Identities = NO_IDENTITIES,
) -> tuple[list[Record], list[Rejection]]:
    """One batch of (where, payload) pairs, where a payload may still be a JSON line (bytes).
    Each line is decoded just before its record is made, so one payload's objects are alive at a
    time: far less work for the garbage collector than a whole decoded batch."""
    rejected: list[Rejection] = []

    def decoded() -> Iterator[tuple[str, Any]]:
        for where, item in batch:
            if isinstance(item, (bytes, str)):
                if isinstance(item, bytes) and item.startswith(b"\xef\xbb\xbf"):  # a file's UTF-8 byte order mark
                    item = item[3:]
                try:
                    item = orjson.loads(item)
                except orjson.JSONDecodeError as error:  # also a line that is not UTF-8
                    rejected.append(Rejection(where, Reason.NOT_JSON, f"not valid JSON: {error}"))
                    continue
            yield where, item

    records, refused = records_or_reasons(decoded(), lambda key: key_hash(key) in known_keys, received_at,
                                         masking=masking, identity_of=identities.of)
    return records, rejected + refused


@contextlib.contextmanager
def enrichment_pool(workers: int | None = None) -> Iterator[Pool | None]:
    """Worker processes that parse and enrich while this one writes; None on one core.

    Start it before this process opens a database connection: the workers are forked, and a
    SQLite connection must never be carried across a fork."""
    if workers is None:
        workers = os.cpu_count() or 1
    if workers <= 1:
        yield None
        return
    warm_up()  # load the user-agent and GeoIP data once, for every forked worker to share
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def ingest_batches(
    writer: RecordWriter,
    batches: Iterable[list[tuple[str, Any]]],
    *,
    received_at: float,
    pool: Pool | None = None,
    commit_every: int = 20_000,
    masking: Masking = NO_EXTRA_NAMES,
    identities: Identities = NO_IDENTITIES,
) -> IngestReport:
    """Parse and enrich the batches (in the pool's workers when there is one) and write them,
    in order, committing every `commit_every` records. Refused payloads are reported, never
    written; they never stop the good ones. `masking` says which names are secret besides the
    built-in ones; `identities`, every API's identity rules (db.writes.identity.identities)."""
    work = partial(records_from_batch, known_keys=writer.known_key_hashes(), received_at=received_at,
                   masking=masking, identities=identities)
    report, pending = IngestReport(), []

    def take(records: list[Record], rejected: list[Rejection]) -> None:
        report.rejected.extend(rejected)
        pending.extend(records)
        if len(pending) >= commit_every:
            report.accepted += writer.write(pending)
            pending.clear()

    if pool is None:
        for batch in batches:
            take(*work(batch))
    else:
        in_flight: deque = deque()
        for batch in batches:
            in_flight.append(pool.apply_async(work, (batch,)))
            if len(in_flight) >= BATCHES_IN_FLIGHT:
                take(*in_flight.popleft().get())
        while in_flight:
            take(*in_flight.popleft().get())
    if pending:
        report.accepted += writer.write(pending)
    return report


def in_batches(items: Iterable, size: int) -> Iterator[list]:
    """The items in lists of `size` (the last one shorter), as ingest_batches takes them."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
