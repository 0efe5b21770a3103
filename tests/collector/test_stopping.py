"""A collector's processes stop on SIGTERM however many arrive, however fast: a stop sends its
writer several, and a handler that took a lock could deadlock the writer for good."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from conftest import child_processes, start_collector, stop


def named(pid: int, name: str) -> list[int]:
    return [child for child in child_processes(pid) if Path(f"/proc/{child}/comm").read_text().strip() == name]


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def storm(pid: int, seconds: float) -> None:
    """SIGTERM to pid, as fast as it goes, for `seconds` or until it is gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return


def test_a_writer_and_the_worker_supervisor_stop_under_a_storm_of_sigterm(conn, db_path):
    process, _ = start_collector(db_path, workers=2)
    try:
        [writer] = named(process.pid, "footfall-writer")
        storm(writer, 1.0)
        deadline = time.monotonic() + 10
        while running(writer) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not running(writer), "the writer hung on SIGTERM"
        storm(process.pid, 1.0)  # the collector itself: its worker supervisor loop, then its children
        children = child_processes(process.pid)
        process.wait(timeout=15)
        deadline = time.monotonic() + 10
        while any(map(running, children)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in children if running(pid)]
    finally:
        stop(process)


def test_a_stopped_collector_has_stopped_its_writer_and_every_child_before_it_exits(conn, db_path):
    # Three times: before uvicorn's re-raised SIGTERM was caught, the writer outlived its collector
    # by a moment in most stops (its alert checks could then still post to a webhook).
    for _ in range(3):
        process, _ = start_collector(db_path, workers=1)
        writer = named(process.pid, "footfall-writer")
        children = child_processes(process.pid)
        assert writer
        stop(process)
        assert not [pid for pid in writer if running(pid)]
        deadline = time.monotonic() + 5  # the others (multiprocessing's resource tracker) end on their own
        while any(map(running, children)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in children if running(pid)]
