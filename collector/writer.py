"""The collector's one writer: a process that owns the write side of the database.

The HTTP workers (one process per core) parse and enrich, then send their records here over a
Unix socket. Whatever has arrived from all workers while the last transaction was committing
goes into the next one (group commit), and each sender hears back only once its records are
committed. Messages are multiprocessing.connection's frames: a 4-byte big-endian length, then a
pickle; each is a list of (ticket, records) one way and (ticket, error or None) the other.
A submission without records asks whether ingest can commit (the workers' /healthz).
collector/writer_client.py is the workers' end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection, Listener, wait
from pathlib import Path

from collector.processes import LeaseLog, StopRequest, die_with_parent, name_process
from core.quiet import QuietRule
from core.record import Record
from db.backends.base import Upkeep
from db.backends.partitions import DAYS_BEHIND
from db.connection import connect, connection_lost
from db.operations.leases import ALERTS_LEASE, lease
from db.writes.records import RecordWriter, probe_commit
from services.processes import leave_interrupts_to_parent
from services.retention import prune_expired
from services.settings import settings

# Records per transaction, at most: a commit stays short even under a flood.
MAX_BATCH = 5000
PRUNE_EVERY_SECONDS = 3600.0  # with a retention: how often expired raw requests are pruned
PROBE_AFTER_SECONDS = 3.0  # broken health is probed with a commit of its own only after this long
UPKEEP_EVERY_SECONDS = 3600.0  # how often the database's upkeep is tended (PostgreSQL: the days ahead's partitions)
RECONNECT_EVERY_SECONDS = 1.0  # how often a writer that lost its server (PostgreSQL) tries to reach it again


def serve(db_path: str | Path, address: str, ready=None, retention_days: int | None = None) -> None:
    """Run the writer until SIGTERM or SIGINT; `ready` (an Event) is set once it listens. With a
    retention, raw requests past it are pruned at the start and every PRUNE_EVERY_SECONDS.

    The database's upkeep (Backend.writer_upkeep) starts with it and is tended at the start and
    every UPKEEP_EVERY_SECONDS: on SQLite a thread of its own checkpoints the WAL; on PostgreSQL
    there is no WAL file to keep small, instead the partitions of today and the days ahead are made
    (db/backends/partitions.py). A connection that lost its server (a PostgreSQL restart, a network
    cut) is replaced as soon as the server answers again."""
    leave_interrupts_to_parent()  # Ctrl-C: the collector stops its workers first, then this writer
    stop = StopRequest()
    stopping = threading.Event()  # set once the main loop ends: the other threads stop with it
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address)  # a writer that died left its socket behind
    listener = Listener(address, family="AF_UNIX")
    workers: list[Connection] = []
    threading.Thread(target=_accept, args=(listener, workers), daemon=True).start()
    writer = RecordWriter(connect(db_path), partition_days_behind=DAYS_BEHIND)  # live traffic: db/backends/partitions.py
    upkeep = writer.conn.backend.writer_upkeep(writer.conn, db_path, stopping)
    tending, reconnects = Schedule(UPKEEP_EVERY_SECONDS), Schedule(0, RECONNECT_EVERY_SECONDS)
    _tend(upkeep, writer, tending)
    if retention_days is not None:
        threading.Thread(target=_prune_on_schedule, args=(db_path, retention_days, stopping), name="retention",
                         daemon=True).start()
    alerts = settings()
    if alerts.alert_interval > 0:
        threading.Thread(target=_check_alerts_on_schedule, name="alerts", daemon=True,
                         args=(db_path, alerts.alert_interval, alerts.alert_webhook, alerts.quiet_rule, stopping)).start()
    if ready is not None:
        ready.set()
    parent = os.getppid()
    die_with_parent(signal.SIGTERM)
    name_process("footfall-writer")
    health = Health()
    try:
        while not stop and os.getppid() == parent:  # never outlive the collector
            batch = receive(wait(list(workers), timeout=0.2), workers)
            if batch:
                commit_together(writer, batch, health)
            writer = _reconnected(writer, db_path, health, reconnects)
            if tending.due():
                _tend(upkeep, writer, tending)
    finally:
        listener.close()
        stopping.set()
        upkeep.stop()
        writer.conn.close()


class Schedule:
    """Something done every `seconds` (monotonic time), sooner again after it failed."""

    def __init__(self, seconds: float, retry_seconds: float = 60.0):
        self.seconds, self.retry_seconds = seconds, retry_seconds
        self._next = 0.0

    def due(self) -> bool:
        return time.monotonic() >= self._next

    def done(self, ok: bool = True) -> None:
        self._next = time.monotonic() + (self.seconds if ok else self.retry_seconds)


def _tend(upkeep: Upkeep, writer: RecordWriter, schedule: Schedule) -> None:
    """The database's upkeep on the writer's connection (PostgreSQL: today's partitions and the
    days' ahead, outside any transaction, so that an insert never waits for one); a failure is
    reported and tried again within a minute."""
    try:
        upkeep.tend(writer.conn)
        schedule.done()
    except Exception as error:  # noqa: BLE001 - ingest goes on; the days ahead exist already, mostly
        print(f"footfall collector: the database's upkeep failed, will retry: {_failure(error)}",
              file=sys.stderr, flush=True)
        schedule.done(ok=False)


def _reconnected(writer: RecordWriter, db_path: str | Path, health: Health, schedule: Schedule) -> RecordWriter:
    """The writer, or, when its connection lost the server (PostgreSQL), a writer on a new
    connection once the server answers (tried at most every RECONNECT_EVERY_SECONDS). Meanwhile
    commits fail and senders hear 503: nothing is acknowledged that was not committed."""
    if not connection_lost(writer.conn) or not schedule.due():
        return writer
    schedule.done(ok=False)  # the next try, if this one fails, in RECONNECT_EVERY_SECONDS
    try:
        fresh = RecordWriter(connect(db_path), partition_days_behind=DAYS_BEHIND)
    except Exception as error:  # noqa: BLE001 - the server is still away: try again later
        health.failed(error)
        return writer
    writer.conn.close()
    print("footfall collector: reconnected to the database", file=sys.stderr, flush=True)
    return fresh


def _prune_on_schedule(db_path: str | Path, retention_days: int, stopping: threading.Event) -> None:
    """Prune expired raw requests now and then on a connection of this thread's own, its batches
    leaving the write lock free in between for the writer's commits; an error is reported and the
    next round tries again."""
    while not stopping.is_set():
        try:
            report = prune_expired(db_path, retention_days, time.time())
            if report and report.requests:
                print(f"footfall collector: pruned {report.requests} requests older than {retention_days} days",
                      file=sys.stderr, flush=True)
        except Exception as error:  # noqa: BLE001 - the schedule goes on
            print(f"footfall collector: pruning failed, will retry: {type(error).__name__}", file=sys.stderr, flush=True)
        stopping.wait(PRUNE_EVERY_SECONDS)


def _check_alerts_on_schedule(db_path: str | Path, interval: float, webhook: str | None, quiet_rule: QuietRule,
                              stopping: threading.Event) -> None:
    """Check the alert rules and deliver firings (services/alert_rounds.py) now and every `interval`
    seconds, on a connection of this thread's own; an error is reported and the next round tries
    again."""
    # Here, not above: the writer loads the dashboard's dataframe library (polars, which the
    # alert checks read through) only once it checks alerts.
    from services.alert_rounds import round_lines, run_alert_check

    conn = None
    alerts_lease = LeaseLog(lease(db_path, ALERTS_LEASE), "checks the alerts")
    try:
        while not stopping.is_set():
            try:
                if not alerts_lease.held():  # another collector on the same server checks them
                    stopping.wait(interval)
                    continue
                conn = conn or connect(db_path)
                outcome = run_alert_check(conn, time.time(), webhook, quiet_rule)
                if outcome.report.opened or outcome.report.resolved or outcome.quota_fired or outcome.delivered \
                        or outcome.failed:
                    for line in round_lines(outcome, webhook):
                        print(f"footfall collector: alerts: {line}", file=sys.stderr, flush=True)
            except Exception as error:  # noqa: BLE001 - the schedule goes on
                print(f"footfall collector: checking alerts failed, will retry: {type(error).__name__}: {error}",
                      file=sys.stderr, flush=True)
                if conn is not None and connection_lost(conn):  # the server went away: a new connection next time
                    conn.close()
                    conn = None
            stopping.wait(interval)
    finally:
        alerts_lease.close()
        if conn is not None:
            conn.close()


def _accept(listener: Listener, workers: list[Connection]) -> None:
    while True:
        try:
            workers.append(listener.accept())
        except OSError:  # the listener was closed: shutting down
            return


def receive(readable: list, workers: list[Connection]) -> list[tuple[Connection, int, list[Record] | None]]:
    """Every message already waiting on the readable connections, up to MAX_BATCH records. A
    submission without records (None) asks whether ingest can commit (WriterClient.ping)."""
    batch, size = [], 0
    for conn in readable:
        try:
            while size < MAX_BATCH:
                for ticket, records in conn.recv():
                    batch.append((conn, ticket, records))
                    size += len(records or ())
                if not conn.poll():
                    break
        except (EOFError, OSError):  # that worker has gone
            workers.remove(conn)
            conn.close()
    return batch


class Health:
    """Whether ingest can commit. A failed commit (a full disk, a locked or damaged file) breaks
    it; the next commit that succeeds mends it. Asked while broken, with no commit tried for
    PROBE_AFTER_SECONDS (no traffic, or only refused traffic), it tries a tiny commit of its own:
    a small one can fit where a batch does not, so it never overrules a recent failure."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self._failed_at = 0.0

    def failed(self, error: BaseException) -> None:
        self.problem = _failure(error)
        self._failed_at = time.monotonic()

    def mended(self) -> None:
        self.problem = None

    def check(self, writer: RecordWriter) -> str | None:
        """None when commits go through, else what went wrong."""
        if self.problem is not None and time.monotonic() - self._failed_at > PROBE_AFTER_SECONDS:
            try:
                probe_commit(writer.conn)
                self.mended()
            except Exception as error:  # noqa: BLE001 - any failure is the answer
                self.failed(error)
        return self.problem


def _failure(error: BaseException) -> str:
    """What went wrong, for the operator's log; senders hear only that nothing was stored."""
    return f"{type(error).__name__}: {error}"


def commit_together(writer: RecordWriter, batch: list[tuple[Connection, int, list[Record] | None]],
                    health: Health | None = None) -> None:
    """One transaction for the whole batch, then one reply message per worker; submissions
    without records are health checks, answered with health.check."""
    health = health or Health()
    submissions = [(conn, ticket, records) for conn, ticket, records in batch if records is not None]
    outcomes = _write(writer, [records for _, _, records in submissions], health)
    replies: dict[Connection, list] = {}
    for (conn, ticket, _), outcome in zip(submissions, outcomes):
        replies.setdefault(conn, []).append((ticket, outcome))
    for conn, ticket, records in batch:
        if records is None:
            replies.setdefault(conn, []).append((ticket, health.check(writer)))
    for conn, message in replies.items():
        try:
            conn.send(message)
        except OSError:  # that worker is gone; its records are committed all the same
            pass


def _write(writer: RecordWriter, submissions: list[list[Record]], health: Health) -> list[str | None]:
    """Each submission's outcome (None: committed), all in one transaction when possible."""
    if not submissions:
        return []
    try:
        writer.write([record for records in submissions for record in records])
        health.mended()
        return [None] * len(submissions)
    except Exception as error:  # noqa: BLE001 - told to the senders, logged for the operator
        print(f"footfall collector: a commit failed: {_failure(error)}", file=sys.stderr, flush=True)
    # One bad submission must not sink the others: write each on its own.
    outcomes = []
    for records in submissions:
        try:
            writer.write(records)
            outcomes.append(None)
            health.mended()
        except Exception as error:  # noqa: BLE001 - reported to that sender alone
            outcomes.append(_failure(error))
            health.failed(error)
    return outcomes
