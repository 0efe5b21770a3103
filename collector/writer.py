"""The collector's one writer: a process that owns the write side of the database.

The HTTP workers (one process per core) parse and enrich, then send their records here over a
Unix socket. Whatever has arrived from all workers while the last transaction was committing
goes into the next one (group commit), and each sender hears back only once its records are
committed. Messages are multiprocessing.connection's frames: a 4-byte big-endian length, then a
pickle; each is a list of (ticket, records) one way and (ticket, error or None) the other.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pickle
import signal
import struct
import sys
import threading
import time
from multiprocessing.connection import Connection, Listener, wait
from pathlib import Path

from core.record import Record
from db.connection import checkpoint_in_background, connect
from db.writes import RecordWriter

# Records per transaction, at most: a commit stays short even under a flood.
MAX_BATCH = 5000
PRUNE_EVERY_SECONDS = 3600.0  # with a retention: how often expired raw requests are pruned
_LENGTH = struct.Struct("!i")


class WriterUnavailable(ConnectionError):
    """The writer did not commit a submission (it failed, or it has stopped)."""


def serve(db_path: str | Path, address: str, ready=None, retention_days: int | None = None) -> None:
    """Run the writer until SIGTERM or SIGINT; `ready` (an Event) is set once it listens. With a
    retention, raw requests past it are pruned at the start and every PRUNE_EVERY_SECONDS."""
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    listener = Listener(address, family="AF_UNIX")
    workers: list[Connection] = []
    threading.Thread(target=_accept, args=(listener, workers), daemon=True).start()
    writer = RecordWriter(connect(db_path))
    checkpoints = checkpoint_in_background(writer.conn, db_path, stopping)
    if retention_days is not None:
        threading.Thread(target=_prune_on_schedule, args=(db_path, retention_days, stopping), name="retention",
                         daemon=True).start()
    if ready is not None:
        ready.set()
    parent = os.getppid()
    try:
        while not stopping.is_set() and os.getppid() == parent:  # never outlive the collector
            batch = receive(wait(list(workers), timeout=0.2), workers)
            if batch:
                commit_together(writer, batch)
    finally:
        listener.close()
        stopping.set()
        checkpoints.join()
        writer.conn.close()


def _prune_on_schedule(db_path: str | Path, retention_days: int, stopping: threading.Event) -> None:
    """Prune expired raw requests now and then on a connection of this thread's own, its batches
    leaving the write lock free in between for the writer's commits; an error is reported and the
    next round tries again."""
    from footfall.lifecycle import prune_expired

    while not stopping.is_set():
        try:
            report = prune_expired(db_path, retention_days, time.time())
            if report and report.requests:
                print(f"footfall collector: pruned {report.requests} requests older than {retention_days} days",
                      file=sys.stderr, flush=True)
        except Exception as error:  # noqa: BLE001 - the schedule goes on
            print(f"footfall collector: pruning failed, will retry: {type(error).__name__}", file=sys.stderr, flush=True)
        stopping.wait(PRUNE_EVERY_SECONDS)


def _accept(listener: Listener, workers: list[Connection]) -> None:
    while True:
        try:
            workers.append(listener.accept())
        except OSError:  # the listener was closed: shutting down
            return


def receive(readable: list, workers: list[Connection]) -> list[tuple[Connection, int, list[Record]]]:
    """Every message already waiting on the readable connections, up to MAX_BATCH records."""
    batch, size = [], 0
    for conn in readable:
        try:
            while size < MAX_BATCH:
                for ticket, records in conn.recv():
                    batch.append((conn, ticket, records))
                    size += len(records)
                if not conn.poll():
                    break
        except (EOFError, OSError):  # that worker has gone
            workers.remove(conn)
            conn.close()
    return batch


def commit_together(writer: RecordWriter, batch: list[tuple[Connection, int, list[Record]]]) -> None:
    """One transaction for the whole batch, then one reply message per worker."""
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
    replies: dict[Connection, list] = {}
    for (conn, ticket, _), outcome in zip(batch, outcomes):
        replies.setdefault(conn, []).append((ticket, outcome))
    for conn, message in replies.items():
        try:
            conn.send(message)
        except OSError:  # that worker is gone; its records are committed all the same
            pass


class WriterClient:
    """An HTTP worker's line to the writer, on the worker's event loop. `await write(records)`
    returns once they are committed, and raises if they were not. Writes made in the same
    loop iteration travel as one message."""

    def __init__(self, address: str):
        self._address = address
        self._tickets = itertools.count()
        self._waiting: dict[int, asyncio.Future] = {}
        self._outbox: list[tuple[int, list[Record]]] = []
        self._broken: str | None = None

    async def start(self) -> None:
        reader, self._stream = await asyncio.open_unix_connection(self._address)
        self._replies = asyncio.create_task(self._receive(reader))

    async def write(self, records: list[Record]) -> None:
        if self._broken:
            raise WriterUnavailable(self._broken)
        done = asyncio.get_running_loop().create_future()
        ticket = next(self._tickets)
        self._waiting[ticket] = done
        self._outbox.append((ticket, records))
        if len(self._outbox) == 1:
            asyncio.get_running_loop().call_soon(self._flush)
        await done

    async def close(self) -> None:
        self._replies.cancel()
        self._stream.close()

    def _flush(self) -> None:
        data = pickle.dumps(self._outbox, protocol=pickle.HIGHEST_PROTOCOL)
        self._outbox = []
        self._stream.write(_LENGTH.pack(len(data)) + data)

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
                for ticket, outcome in pickle.loads(await reader.readexactly(length)):
                    _settle(self._waiting.pop(ticket), outcome)
        except (asyncio.IncompleteReadError, OSError):
            pass
        self._broken = "the writer has stopped; nothing more can be stored"
        for done in self._waiting.values():
            _settle(done, self._broken)
        self._waiting.clear()


def _settle(done: asyncio.Future, outcome: str | None) -> None:
    if done.done():
        return
    if outcome is None:
        done.set_result(None)
    else:
        done.set_exception(WriterUnavailable(outcome))
