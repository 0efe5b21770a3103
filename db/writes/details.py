"""The packed details of requests (core/detail_codec.py) and each API's dictionaries.

A writer packs an API's details with the API's newest dictionary. An API without one is packed
without a dictionary until it has FIRST_TRAINING requests, then trained on what it has; a dictionary
trained on fewer than TRAINING_REQUESTS is trained again once as many more came in. Details packed
with an older dictionary keep it: a dictionary is never changed or removed while its API exists.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from core.detail_codec import TRAINING_REQUESTS, UNIDENTIFIED, Packer, train, unpack
from core.record import Record
from db.backends.base import Connection
from db.connection import transaction
from db.queries.details import dictionaries_by_id

FIRST_TRAINING = 1_000  # requests of an API packed without a dictionary before one is trained


@dataclass
class _ApiPacking:
    dictionary_id: int | None
    trained_on: int
    packer: Packer
    packed_since: int = 0  # requests packed by this writer since the dictionary was loaded


@dataclass
class DetailPackers:
    """A writer's packers, one per API, with the dictionary each uses."""

    _apis: dict[int, _ApiPacking] = field(default_factory=dict)

    def prepare(self, conn: Connection, api_ids: Iterable[int]) -> None:
        """Read the dictionaries of these APIs that are not loaded yet (before rows(): a COPY
        under way leaves the connection to nothing else)."""
        for api_id in set(api_ids) - self._apis.keys():
            self._load(conn, api_id)

    def rows(self, ids: Iterable[int], api_ids: Sequence[int], records: Sequence[Record]) -> Iterator[tuple]:
        """The rows of `request_details`, in db.schema.DETAIL_COLUMNS' order (the APIs prepared)."""
        for request_id, api_id, r in zip(ids, api_ids, records):
            packing = self._apis[api_id]
            packing.packed_since += 1
            yield (request_id, r.ts, packing.dictionary_id,
                   packing.packer.pack((r.request_headers, r.request_body, r.response_headers, r.response_body,
                                        r.errors)))

    def train_due(self, conn: Connection) -> None:
        """After a batch is committed: train a dictionary for each API that is due one (each in a
        short transaction of its own; a failure loses no request)."""
        for api_id, packing in list(self._apis.items()):
            due = FIRST_TRAINING if packing.dictionary_id is None else TRAINING_REQUESTS
            if packing.trained_on < TRAINING_REQUESTS and packing.packed_since >= due:
                packing.packed_since = 0  # tried once per `due` requests, whatever the outcome
                details = training_details(conn, api_id, TRAINING_REQUESTS)
                if len(details) > packing.trained_on:
                    add_dictionary(conn, api_id, details)
                    self._apis.pop(api_id)  # loaded again, with the new dictionary, by the next batch

    def forget(self) -> None:
        """After a rollback or an erasure: dictionaries are read again when next needed."""
        self._apis.clear()

    def _load(self, conn: Connection, api_id: int) -> _ApiPacking:
        newest = newest_dictionary(conn, api_id)
        if newest is None:
            packing = _ApiPacking(None, 0, Packer(None))
        else:
            dictionary_id, content, trained_on = newest
            packing = _ApiPacking(dictionary_id, trained_on, Packer(content))
        self._apis[api_id] = packing
        return packing


def newest_dictionary(conn: Connection, api_id: int) -> tuple[int, bytes, int] | None:
    """The API's newest dictionary: its id, content and how many requests it was trained on."""
    row = conn.execute("SELECT id, content, trained_on FROM detail_dictionaries WHERE api_id = ?"
                       " ORDER BY id DESC LIMIT 1", (api_id,)).fetchone()
    return None if row is None else (row[0], bytes(row[1]), row[2])


def training_details(conn: Connection, api_id: int, limit: int) -> list[tuple]:
    """The API's newest details, unpacked, each with its caller (core.detail_codec.train's input)."""
    rows = conn.execute(
        "SELECT r.customer_id, d.dictionary_id, d.details FROM requests r"
        " JOIN request_details d ON d.request_id = r.id"
        " WHERE r.api_id = ? ORDER BY r.ts DESC LIMIT ?", (api_id, limit)).fetchall()
    dictionaries = dictionaries_by_id(conn, {row[1] for row in rows})
    return [(UNIDENTIFIED if customer_id is None else customer_id,
             tuple(unpack(details, dictionaries.get(dictionary_id)).values()))
            for customer_id, dictionary_id, details in rows]


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
