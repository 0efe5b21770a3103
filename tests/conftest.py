"""Shared fixtures: a real database (a SQLite file, or a database on a throwaway PostgreSQL
cluster), and the real collector over HTTP.

The tests of the folders in BOTH_BACKENDS run twice, once per backend (the `backend` parameter);
the others, and any test marked sqlite_only (it is about the file itself), on SQLite alone; a test
marked postgres_only (about sharing one server) runs on PostgreSQL alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from db.connection import connect
from db.writes.apis import add_api
from db.writes.records import RecordWriter
from factories import API_KEY
from services.processes import free_port, stop_process as stop  # the tests start and stop servers with these
from postgres_cluster import throwaway_cluster

ROOT = Path(__file__).resolve().parent.parent


def footfall(*args: str, db: Path, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run the real command line."""
    return subprocess.run(
        [sys.executable, "-m", "footfall", "--db", str(db), *args],
        cwd=ROOT, capture_output=True, text=True, check=check, timeout=120, **kwargs,
    )


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


COLLECTOR_PROCESSES = ("footfall-writer", "footfall-http", "footfall-signal")  # the names it gives its own


def collector_processes() -> set[int]:
    """Every live process (not a zombie) named as the collector names its processes."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "comm").read_text().strip() in COLLECTOR_PROCESSES:
                if (proc / "stat").read_text().split(")")[-1].split()[0] != "Z":
                    found.add(int(proc.name))
        except (FileNotFoundError, ProcessLookupError):  # gone meanwhile
            continue
    return found


@pytest.fixture(scope="session", autouse=True)
def no_collector_process_outlives_the_tests():
    """Every collector process the tests started is gone at the end: none hangs on its way out."""
    before = collector_processes()
    yield
    deadline = time.monotonic() + 10
    while (left := collector_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"collector processes outlived the tests: {sorted(left)}"


def send_calls(url: str, calls: list, api_key: str, batch: int = 200) -> None:
    """POST calls (anything with .payload(api_key)) to the collector as JSON arrays of `batch`;
    every one must be accepted."""
    for start in range(0, len(calls), batch):
        chunk = calls[start:start + batch]
        reply = httpx.post(url + "/", json=[c.payload(api_key) for c in chunk], timeout=60)
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"accepted": len(chunk)}


BOTH_BACKENDS = {"db", "collector", "cli", "dashboard", "signals", "alerts", "links", "sdk"}


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker
        both = metafunc.definition.path.parent.name in BOTH_BACKENDS and not marked("sqlite_only")
        metafunc.parametrize("backend", ["postgresql"] if marked("postgres_only") else
                             ["sqlite", "postgresql"] if both else ["sqlite"])


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL cluster for the session, and a migrated template database that
    each test's database is copied from."""
    with throwaway_cluster() as cluster:
        template = cluster.create_database()
        connect(template).close()
        cluster.template = template.rsplit("/", 1)[1]
        yield cluster


@pytest.fixture
def db_path(request, backend: str, tmp_path: Path) -> Path | str:
    """The test's database: a SQLite file, or a PostgreSQL URL of a fresh, migrated database."""
    if backend == "sqlite":
        yield tmp_path / "footfall.db"
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.create_database(template=cluster.template)
    yield url
    cluster.drop_database(url)


@pytest.fixture
def new_db(request, backend: str, tmp_path: Path):
    """Makes more databases of the test's backend: new_db(name) is a SQLite file of that name, or a
    fresh migrated PostgreSQL database (empty=True: one without Footfall's tables, for pg_restore)."""
    made: list[str] = []

    def make(name: str, empty: bool = False) -> Path | str:
        if backend == "sqlite":
            return tmp_path / name
        cluster = request.getfixturevalue("pg_cluster")
        made.append(cluster.create_database(template=None if empty else cluster.template))
        return made[-1]

    yield make
    for url in made:
        request.getfixturevalue("pg_cluster").drop_database(url)


@pytest.fixture
def conn(db_path: Path):
    connection = connect(db_path)
    add_api(connection, "Test API", API_KEY)
    yield connection
    connection.close()


@pytest.fixture
def writer(conn) -> RecordWriter:
    return RecordWriter(conn)


def child_processes(pid: int) -> list[int]:
    """Every process started under `pid`, children and theirs, from /proc."""
    found = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:  # it has gone
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # that thread ended meanwhile
            continue
        for child in children:
            found += [int(child), *child_processes(int(child))]
    return found


def until(condition, seconds: float = 10) -> bool:
    """Whether `condition()` comes true within `seconds`, asked every 50 ms."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_collector(db: Path, workers: int = 1, port: int | None = None, **env: str):
    """One HTTP worker by default: quicker to start; the concurrency test runs several. Returns the
    process and the collector's URL; `env` goes into its environment."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "footfall", "--db", str(db), "collect", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/healthz", process)
    except Exception:
        process.kill()
        raise
    return process, url


@pytest.fixture
def collector(conn, db_path: Path):
    """The real collector on a free port, writing to the test database; yields its URL."""
    process, url = start_collector(db_path, FOOTFALL_MAX_BODY_BYTES="200000")
    yield url
    stop(process)
