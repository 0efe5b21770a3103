"""An HTTP worker's line to the collector's writer process (collector/writer.py).

`await write(records)` returns once they are committed and raises WriterUnavailable if they were
not; `await ping()` says whether ingest can commit. Writes made in the same loop iteration travel
as one message. When the writer dies, the writes it had not answered fail, and the next write or
ping connects again to the writer the collector starts in its place.
"""

from __future__ import annotations

import asyncio
import itertools
import pickle
import struct
import time

from core.record import Record

_LENGTH = struct.Struct("!i")
RECONNECT_PAUSE_SECONDS = 0.2  # between two attempts to reach a writer that is not there
WRITER_GONE = "the writer has stopped"


class WriterUnavailable(ConnectionError):
    """The writer did not commit a submission (it failed, or it is not running)."""


class WriterClient:
    """The worker's connection to the writer, on the worker's event loop."""

    def __init__(self, address: str):
        self._address = address
        self._tickets = itertools.count()
        self._waiting: dict[int, asyncio.Future] = {}
        self._outbox: list[tuple[int, list[Record] | None]] = []
        self._stream: asyncio.StreamWriter | None = None
        self._replies: asyncio.Task | None = None
        self._tried_at = 0.0

    async def start(self) -> None:
        """Connect now if the writer is there; otherwise the first write or ping tries again."""
        try:
            await self._connect()
        except WriterUnavailable:
            pass

    async def write(self, records: list[Record]) -> None:
        """Return once the records are committed; raise WriterUnavailable if they were not."""
        problem = await self._submit(records)
        if problem is not None:
            raise WriterUnavailable(problem)

    async def ping(self) -> str | None:
        """None when ingest can commit, else what is wrong (the writer is down, a commit failed)."""
        try:
            return await self._submit(None)
        except WriterUnavailable as error:
            return str(error)

    async def close(self) -> None:
        """Hang up."""
        if self._replies is not None:
            self._replies.cancel()
        if self._stream is not None:
            self._stream.close()

    async def _submit(self, records: list[Record] | None) -> str | None:
        if self._stream is None:
            await self._connect()
        done = asyncio.get_running_loop().create_future()
        ticket = next(self._tickets)
        self._waiting[ticket] = done
        self._outbox.append((ticket, records))
        if len(self._outbox) == 1:
            asyncio.get_running_loop().call_soon(self._flush)
        return await done

    async def _connect(self) -> None:
        if time.monotonic() - self._tried_at < RECONNECT_PAUSE_SECONDS:
            raise WriterUnavailable(WRITER_GONE)
        self._tried_at = time.monotonic()
        try:
            reader, stream = await asyncio.open_unix_connection(self._address)
        except OSError:
            raise WriterUnavailable(WRITER_GONE) from None
        self._stream = stream
        self._replies = asyncio.create_task(self._receive(reader, stream))

    def _flush(self) -> None:
        outbox, self._outbox = self._outbox, []
        if self._stream is None:  # the writer went away meanwhile
            for ticket, _ in outbox:
                _settle(self._waiting.pop(ticket), WRITER_GONE)
            return
        data = pickle.dumps(outbox, protocol=pickle.HIGHEST_PROTOCOL)
        self._stream.write(_LENGTH.pack(len(data)) + data)

    async def _receive(self, reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
                for ticket, outcome in pickle.loads(await reader.readexactly(length)):
                    _settle(self._waiting.pop(ticket), outcome)
        except (asyncio.IncompleteReadError, OSError):
            pass
        if self._stream is stream:
            self._stream = None
        stream.close()
        # What the writer was sent but did not answer may or may not be committed: say it was not
        # acknowledged (a 503), never that it was stored.
        waiting, self._waiting = self._waiting, {}
        for done in waiting.values():
            _settle(done, WRITER_GONE)


def _settle(done: asyncio.Future, outcome: str | None) -> None:
    if not done.done():
        done.set_result(outcome)
