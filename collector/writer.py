"""The collector's one writer: a process that owns the write side of the database.

The HTTP workers (one process per core) parse and enrich, then send their records here over a
Unix socket. Every submission waiting when the writer is free shares one transaction (group
commit), so all workers' traffic is batched together, and each sender hears back only once its
records are committed.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import signal
import threading
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path

from core.record import Record
from db.connection import connect
from db.writes import RecordWriter

# Records per transaction, at most: a commit stays short even under a flood.
MAX_BATCH = 5000


class WriterUnavailable(ConnectionError):
    pass


def serve(db_path: str | Path, address: str, ready=None) -> None:
    """Run the writer until SIGTERM or SIGINT; `ready` (an Event) is set once it listens."""
    submissions: queue.SimpleQueue = queue.SimpleQueue()
    listener = Listener(address, family="AF_UNIX")
    writer = RecordWriter(connect(db_path))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: submissions.put(None))
    threading.Thread(target=_accept, args=(listener, submissions), daemon=True).start()
    if ready is not None:
        ready.set()
    try:
        group_commit(writer, submissions)
    finally:
        listener.close()
        writer.conn.close()


def _accept(listener: Listener, submissions: queue.SimpleQueue) -> None:
    while True:
        try:
            conn = listener.accept()
        except OSError:  # the listener was closed: shutting down
            return
        threading.Thread(target=_receive, args=(conn, submissions), daemon=True).start()


def _receive(conn: Connection, submissions: queue.SimpleQueue) -> None:
    """One HTTP worker's submissions, (ticket, records), into the shared queue."""
    while True:
        try:
            ticket, records = conn.recv()
        except (EOFError, OSError):
            return
        submissions.put((conn, ticket, records))


def group_commit(writer: RecordWriter, submissions: queue.SimpleQueue) -> None:
    """Commit whatever is waiting, together, until a None arrives; then finish and return."""
    while True:
        item = submissions.get()
        if item is None:
            return
        batch, size, stopping = [item], len(item[2]), False
        while size < MAX_BATCH:
            try:
                item = submissions.get_nowait()
            except queue.Empty:
                break
            if item is None:
                stopping = True
                break
            batch.append(item)
            size += len(item[2])
        _commit(writer, batch)
        if stopping:
            return


def _commit(writer: RecordWriter, batch: list) -> None:
    try:
        writer.write([record for _, _, records in batch for record in records])
        outcomes = [None] * len(batch)
    except Exception:
        # One bad submission must not sink the others: write each on its own.
        outcomes = []
        for _, _, records in batch:
            try:
                writer.write(records)
                outcomes.append(None)
            except Exception as error:  # reported to that sender alone
                outcomes.append(f"{type(error).__name__}: {error}")
    for (conn, ticket, _), outcome in zip(batch, outcomes):
        try:
            conn.send((ticket, outcome))
        except OSError:  # that worker is gone; its records are committed all the same
            pass


class WriterClient:
    """An HTTP worker's line to the writer. `await write(records)` returns once they are
    committed, and raises if they were not."""

    def __init__(self, address: str):
        self._conn = Client(address, family="AF_UNIX")
        self._tickets = itertools.count()
        self._waiting: dict[int, tuple[asyncio.Future, asyncio.AbstractEventLoop]] = {}
        self._send_lock = threading.Lock()
        self._broken: str | None = None
        threading.Thread(target=self._receive, name="footfall-writer-replies", daemon=True).start()

    async def write(self, records: list[Record]) -> None:
        if self._broken:
            raise WriterUnavailable(self._broken)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        ticket = next(self._tickets)
        self._waiting[ticket] = (done, loop)
        if self._broken and self._waiting.pop(ticket, None):  # it broke just now
            raise WriterUnavailable(self._broken)
        try:
            with self._send_lock:
                self._conn.send((ticket, records))
        except OSError as error:
            self._waiting.pop(ticket, None)
            raise WriterUnavailable(f"the writer is not reachable: {error}") from None
        await done

    def close(self) -> None:
        self._conn.close()

    def _receive(self) -> None:
        while True:
            try:
                ticket, outcome = self._conn.recv()
            except (EOFError, OSError):
                break
            done, loop = self._waiting.pop(ticket)
            loop.call_soon_threadsafe(_settle, done, outcome)
        # Set before failing the waiting ones, so that write() sees it or its ticket is failed.
        self._broken = "the writer has stopped"
        while self._waiting:
            _, (done, loop) = self._waiting.popitem()
            loop.call_soon_threadsafe(_settle, done, self._broken)


def _settle(done: asyncio.Future, outcome: str | None) -> None:
    if done.cancelled():
        return
    if outcome is None:
        done.set_result(None)
    else:
        done.set_exception(WriterUnavailable(outcome))
