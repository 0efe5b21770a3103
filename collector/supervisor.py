"""The collector as a whole: one writer process, kept running, and the HTTP workers.

If the writer dies (kill -9, out of memory), another is started on the same socket within a
second or so; the workers connect to it on their next write, and answer 503 until then (never 200
for what was not committed). HTTP workers that die are replaced (collector/workers.py); every
child dies with the collector (collector/processes.py), so a restart gets the port back.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn

from collector.processes import StopRequest
from collector.signals import run_signals
from collector.workers import http_server, run_workers
from collector.writer import serve
from db.connection import database
from services.settings import settings

WRITER_START_SECONDS = 60  # a writer that is not listening by then did not start
# A writer that stopped as asked (SIGTERM to the collector's whole process group, `kill -- -PGID` or a
# service manager's stop) is followed by the collector's own stop within moments: wait this long for it.
STOP_GRACE_SECONDS = 2.0


class WriterDidNotStart(RuntimeError):
    """The writer process did not come up."""


class WriterSupervisor:
    """Starts the writer process and starts it again whenever it dies, until stopped."""

    def __init__(self, db_path: str | Path, address: str, retention_days: int | None,
                 collector_stopping: Callable[[], bool] = lambda: False):
        self._args = (db_path, address, retention_days)
        self._collector_stopping = collector_stopping  # whether the collector was asked to stop
        self._context = multiprocessing.get_context("spawn")
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a writer is started, or the supervisor stopped, never both at once
        self._process: multiprocessing.Process | None = None

    def start(self) -> None:
        """The first writer, then a thread that watches it."""
        self._process = self._spawn()
        threading.Thread(target=self._watch, name="writer-supervisor", daemon=True).start()

    def stop(self) -> None:
        """SIGTERM to the writer (it commits what it holds, then stops), also to one still starting,
        and no new one."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None:
            process.terminate()
            process.join(30)

    def _spawn(self) -> multiprocessing.Process:
        """A new writer, once it listens (self._process from its start on, so that stop() stops
        it however far it got); WriterDidNotStart when it dies first or takes too long."""
        ready = self._context.Event()
        db_path, address, retention_days = self._args
        process = self._context.Process(target=serve, args=(db_path, address, ready, retention_days),
                                        name="footfall-writer")
        with self._lock:
            if self._stopping.is_set():
                raise WriterDidNotStart("the collector is stopping")
            process.start()
            self._process = process
        deadline = time.monotonic() + WRITER_START_SECONDS
        while not ready.wait(0.2):
            if not process.is_alive() or time.monotonic() > deadline:
                process.kill()
                process.join(5)
                raise WriterDidNotStart("the collector's writer did not start")
        return process

    def _watch(self) -> None:
        while not self._stopping.is_set():
            self._process.join(0.2)
            if self._process.is_alive():
                continue
            if self._stopped_with_the_collector():
                return
            print(f"footfall collector: the writer stopped (exit {self._process.exitcode}); starting another",
                  file=sys.stderr, flush=True)
            try:
                self._spawn()
            except WriterDidNotStart as error:
                if not self._stopping.is_set():
                    print(f"footfall collector: {error}; trying again", file=sys.stderr, flush=True)
                    time.sleep(1)

    def _stopped_with_the_collector(self) -> bool:
        """Whether the writer that ended did so because the collector is stopping. One that exited
        0 was asked to stop (SIGTERM): when the signal went to the whole process group, the
        collector's own stop follows, so it is waited for rather than another writer started."""
        deadline = time.monotonic() + (STOP_GRACE_SECONDS if self._process.exitcode == 0 else 0)
        while not (self._stopping.is_set() or self._collector_stopping()):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True


def run_collector(db_path: str | Path, host: str, port: int, workers: int, retention_days: int | None,
                  ready: Callable[[], None]) -> None:
    """Run the collector until SIGTERM or SIGINT: the writer (kept running), then `workers` HTTP
    workers, or with one, HTTP in this process; `ready` is called once the writer listens. The
    signals process (collector/signals.py) runs beside them."""
    # uvicorn raises the SIGTERM or SIGINT it caught again once it has shut down: with a handler
    # that only notes it, this process lives on to stop its writer (in `finally`).
    stop = StopRequest()
    servers: list[uvicorn.Server] = []  # HTTP in this process: asked to stop as soon as its should_exit

    def stopping() -> bool:
        return bool(stop) or any(server.should_exit for server in servers)

    with tempfile.TemporaryDirectory(prefix="footfall-collector-") as sockets:
        address = str(Path(sockets) / "writer.sock")
        writer = WriterSupervisor(db_path, address, retention_days, stopping)
        writer.start()
        signals = multiprocessing.get_context("spawn").Process(
            target=run_signals, args=(db_path, settings().signals_interval), name="footfall-signals", daemon=True)
        signals.start()
        try:
            os.environ.update(FOOTFALL_DB=str(database(db_path)), FOOTFALL_WRITER_SOCKET=address)  # for the workers
            ready()
            if workers > 1:
                run_workers(host, port, workers, stop)
            else:
                server, listening = http_server(host, port)  # in this process
                servers.append(server)
                server.run(sockets=[listening])
        finally:
            signals.kill()
            writer.stop()
            signals.join(5)
