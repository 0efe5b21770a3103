"""Ingest goes on while readers query; every acknowledged payload is there afterwards."""

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest

from core.periods import Period
from db.connection import connect, connect_readonly
from conftest import child_processes, start_collector, stop
from core.scope import Scope
from db.reads.customers import customer_list
from factories import payload


@pytest.fixture
def two_worker_collector(conn, db_path):
    """Two HTTP worker processes sharing the one writer process, as `collect` runs by default."""
    process, url = start_collector(db_path, workers=2)
    yield url
    stop(process)


def test_every_acknowledged_payload_is_stored_while_a_reader_queries(two_worker_collector, conn, db_path):
    collector = two_worker_collector
    acknowledged: list[str] = []
    stop_reading = threading.Event()
    reads = []

    def reader():
        reading = connect_readonly(db_path)
        while not stop_reading.is_set():
            reads.append(customer_list(reading, Scope(None, Period(None, None))).height)

    def client(n: int):
        with httpx.Client(base_url=collector, timeout=30) as http:
            for i in range(60):
                marker = f"/api/items/{n}-{i}"
                reply = http.post("/", content=orjson.dumps(payload(user_id=f"cus_{n % 5}", url="https://api.example.com" + marker)))
                if reply.status_code == 200:
                    acknowledged.append(marker)

    reading_thread = threading.Thread(target=reader)
    reading_thread.start()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(client, range(8)))
    stop_reading.set()
    reading_thread.join()

    stored = {row[0] for row in conn.execute("SELECT path FROM requests")}
    assert len(acknowledged) == 480
    assert set(acknowledged) <= stored
    assert len(reads) > 1 and reads == sorted(reads)  # the reader saw customers only ever appear
    assert conn.execute("SELECT SUM(requests) FROM customer_hourly").fetchone()[0] == 480


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_stopping_the_collector_stops_its_writer_and_workers(conn, db_path):
    process, _ = start_collector(db_path, workers=2)
    children = child_processes(process.pid)
    assert len(children) >= 3  # the writer and two HTTP workers
    stop(process)
    deadline = time.monotonic() + 10
    while any(map(_running, children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _running(pid)]


def test_a_collector_whose_writer_died_answers_503_and_stores_nothing(conn, db_path):
    process, url = start_collector(db_path, workers=1)  # the HTTP worker runs in the main process
    try:
        writer = [pid for pid in child_processes(process.pid) if Path(f"/proc/{pid}/comm").read_text().strip() == "footfall-writer"]
        assert len(writer) == 1
        os.kill(writer[0], signal.SIGKILL)
        reply = httpx.post(url + "/", content=orjson.dumps(payload()), timeout=10)
        assert reply.status_code == 503
        assert "nothing was stored" in reply.json()["error"]
    finally:
        stop(process)
    assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 0
