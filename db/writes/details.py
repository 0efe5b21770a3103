"""The packed details of requests (core/detail_codec.py) and each API's dictionaries.

A writer packs an API's details with the API's newest dictionary. An API without one is packed
without a dictionary until this writer has packed FIRST_TRAINING of its requests, then trained on
them; a dictionary trained on fewer than TRAINING_REQUESTS is trained again once as many more came
in. The writer trains from the details it packed and keeps (the newest TRAINING_REQUESTS of each
API, TRAINING_BYTES at most), not from the database: no index leads to an API's newest requests on
PostgreSQL, and the training reads nothing while the writer's batches wait. Details packed with an
older dictionary keep it: a dictionary is never changed or removed while its API exists.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.detail_codec import TRAINING_REQUESTS, UNIDENTIFIED, Packer, train, unpack
from core.record import Record
from db.backends.base import Connection
from db.connection import transaction

FIRST_TRAINING = 1_000  # requests of an API packed without a dictionary before one is trained
# Packed details an API's writer keeps to train on at most, whatever their number: bodies of up to
# 64 KiB each could otherwise hold gigabytes (zstd wants about 100 times the 32 KB dictionary).
TRAINING_BYTES = 16 * 1024 * 1024


class _Newest:
    """An API's newest packed details with their callers: TRAINING_REQUESTS and TRAINING_BYTES at most."""

    def __init__(self) -> None:
        self._details: deque[tuple[Any, bytes]] = deque()
        self._bytes = 0

    def add(self, caller: Any, frame: bytes) -> None:
        self._details.append((caller, frame))
        self._bytes += len(frame)
        while len(self._details) > TRAINING_REQUESTS or self._bytes > TRAINING_BYTES:
            self._bytes -= len(self._details.popleft()[1])

    def __len__(self) -> int:
        return len(self._details)

    def unpacked(self, dictionary: bytes | None) -> list[tuple]:
        """core.detail_codec.train's input: (caller, the five texts) each."""
        return [(caller, tuple(unpack(frame, dictionary).values())) for caller, frame in self._details]


@dataclass
class _ApiPacking:
    dictionary_id: int | None
    dictionary: bytes | None
    trained_on: int
    packer: Packer
    packed_since: int = 0  # requests packed by this writer since the dictionary was loaded
    newest: _Newest | None = None  # kept while the API may be trained again (trained on fewer than TRAINING_REQUESTS)


@dataclass
class DetailPackers:
    """A writer's packers, one per API, with the dictionary each uses."""

    _apis: dict[int, _ApiPacking] = field(default_factory=dict)

    def prepare(self, conn: Connection, api_ids: Iterable[int]) -> None:
        """Read the dictionaries of these APIs that are not loaded yet (before rows(): a COPY
        under way leaves the connection to nothing else)."""
        for api_id in set(api_ids) - self._apis.keys():
            self._load(conn, api_id)

    def rows(self, ids: Iterable[int], api_ids: Sequence[int], records: Sequence[Record],
             customer_ids: Mapping[str, int]) -> Iterator[tuple]:
        """The rows of `request_details`, in db.schema.DETAIL_COLUMNS' order (the APIs prepared;
        customer_ids: each identified record's customer, by the ID it gave)."""
        for request_id, api_id, r in zip(ids, api_ids, records):
            packing = self._apis[api_id]
            packing.packed_since += 1
            frame = packing.packer.pack((r.request_headers, r.request_body, r.response_headers, r.response_body,
                                         r.errors))
            if packing.newest is not None:
                packing.newest.add(UNIDENTIFIED if r.customer_id is None else customer_ids[r.customer_id], frame)
            yield request_id, r.ts, packing.dictionary_id, frame

    def train_due(self, conn: Connection) -> None:
        """After a batch is committed: train a dictionary for each API that is due one, on the
        details this writer packed (each stored in a short transaction of its own; a failure loses
        no request, and the details are kept for the next try)."""
        for api_id, packing in list(self._apis.items()):
            due = FIRST_TRAINING if packing.dictionary_id is None else TRAINING_REQUESTS
            if packing.newest is not None and packing.packed_since >= due:
                packing.packed_since = 0  # tried once per `due` requests, whatever the outcome
                if len(packing.newest) > packing.trained_on and \
                        add_dictionary(conn, api_id, packing.newest.unpacked(packing.dictionary)) is not None:
                    self._apis.pop(api_id)  # loaded again, with the new dictionary, by the next batch

    def forget(self) -> None:
        """After a rollback or an erasure: dictionaries are read again when next needed, and the
        details kept to train on are dropped (an erased customer's among them)."""
        self._apis.clear()

    def _load(self, conn: Connection, api_id: int) -> _ApiPacking:
        newest = newest_dictionary(conn, api_id)
        dictionary_id, content, trained_on = (None, None, 0) if newest is None else newest
        packing = _ApiPacking(dictionary_id, content, trained_on, Packer(content),
                              newest=_Newest() if trained_on < TRAINING_REQUESTS else None)
        self._apis[api_id] = packing
        return packing


def newest_dictionary(conn: Connection, api_id: int) -> tuple[int, bytes, int] | None:
    """The API's newest dictionary: its id, content and how many requests it was trained on."""
    row = conn.execute("SELECT id, content, trained_on FROM detail_dictionaries WHERE api_id = ?"
                       " ORDER BY id DESC LIMIT 1", (api_id,)).fetchone()
    return None if row is None else (row[0], bytes(row[1]), row[2])


def add_dictionary(conn: Connection, api_id: int, details: list[tuple]) -> int | None:
    """Train the API a dictionary on these details and store it; its id, or None when there was too
    little to train on."""
    content = train(details)
    if content is None:
        return None
    with transaction(conn):
        (new_id,) = conn.execute(
            "INSERT INTO detail_dictionaries (api_id, made_at, trained_on, content) VALUES (?, ?, ?, ?) RETURNING id",
            (api_id, int(time.time()), len(details), content)).fetchone()
    return new_id
