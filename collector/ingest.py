"""The one ingest path for the collector, import and demo: payload -> record -> batch write."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.payload import PayloadError
from core.record import Record, record_from_payload
from db.connection import connect
from db.writes import RecordWriter


@dataclass
class IngestReport:
    accepted: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, why)


def records_or_reasons(
    payloads: Iterable[tuple[str, Any]], known_api: Callable[[str], bool], received_at: float
) -> tuple[list[Record], list[tuple[str, str]]]:
    """Turn (where, payload) pairs into records, and say why for each one refused."""
    records, rejected = [], []
    for where, payload in payloads:
        try:
            record = record_from_payload(payload, received_at=received_at)
        except PayloadError as error:
            rejected.append((where, str(error)))
            continue
        if not known_api(record.api_key):
            rejected.append((where, "no API is registered with this API key"))
            continue
        records.append(record)
    return records, rejected


class GroupCommitWriter:
    """One writer thread; every batch waiting when it is free shares one transaction, and each
    submitter hears back only once its records are committed."""

    def __init__(self, db_path: str | Path, max_batch: int = 5000):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._max_batch = max_batch
        self._writer = RecordWriter(connect(db_path))
        self._thread = threading.Thread(target=self._run, name="footfall-writer", daemon=True)
        self._thread.start()

    async def write(self, records: list[Record]) -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.put((records, done, loop))
        await done

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._writer.conn.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch, size = [item], len(item[0])
            while size < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._commit(batch)
                    return
                batch.append(item)
                size += len(item[0])
            self._commit(batch)

    def _commit(self, batch: list) -> None:
        try:
            self._writer.write([record for records, _, _ in batch for record in records])
            outcomes = [None] * len(batch)
        except Exception:
            # One bad submission must not sink the others: write each on its own.
            outcomes = []
            for records, _, _ in batch:
                try:
                    self._writer.write(records)
                    outcomes.append(None)
                except Exception as error:  # reported to that submitter alone
                    outcomes.append(error)
        for (_, done, loop), error in zip(batch, outcomes):
            loop.call_soon_threadsafe(_settle, done, error)


def _settle(done: asyncio.Future, error: Exception | None) -> None:
    if done.cancelled():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
