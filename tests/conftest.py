"""Shared fixtures: a real database (a SQLite file, or a database on a throwaway PostgreSQL
cluster), the real collector over HTTP, and the real command line.

Where the SQL differs by engine, tests run twice, once per backend (the `backend` parameter): the
folders in BOTH_BACKENDS (storage and the collector) and any test marked both_backends (what an
operation stores or removes, elsewhere). The others (pages, command-line output) run on SQLite
alone: tests/dashboard/test_backend_parity.py checks that every read model gives PostgreSQL's
figures too. A test marked sqlite_only (about the file itself, or what no engine changes: sockets,
processes) runs on SQLite alone; one marked postgres_only (about sharing one server) on PostgreSQL
alone."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
import traceback
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


# Every process the tests start inherits this from here: the leak check counts only this run's own.
RUN_TAG = "FOOTFALL_TEST_RUN"
os.environ[RUN_TAG] = str(os.getpid())

SERVING = {"collect", "dashboard", "up"}  # commands that serve until stopped: only as processes


def footfall(*args: str, db: Path | str, check: bool = True, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess:
    """Run the real command line in this process (footfall.cli.main), as `python -m footfall --db DB
    ARGS` would run: its exit status, and what it printed to stdout and stderr (a traceback too, for
    an error it does not catch). `env`, when given, is the whole environment of the run, as for a
    process. The entry point itself, and the commands that serve, run as processes: footfall_process."""
    assert not SERVING & set(args[:1]), f"footfall {args[0]} serves until stopped: use footfall_process"
    from footfall.cli import main

    argv = ["--db", str(db), *args]
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit:  # argparse refusing the arguments
                code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
                if isinstance(exit.code, str):
                    print(exit.code, file=sys.stderr)
            except Exception:  # noqa: BLE001 - what Python does at the top of a process
                traceback.print_exc()
                code = 1
    finally:
        if env is not None:
            os.environ.clear()
            os.environ.update(saved)
    result = subprocess.CompletedProcess(["footfall", *argv], code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"footfall {' '.join(args)} exited {code}:\n{result.stderr}{result.stdout}")
    return result


def footfall_process(*args: str, db: Path | str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run the real command line as a process of its own: `python -m footfall --db DB ARGS`."""
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
    """Every live process (not a zombie) named as the collector names its processes, started by this
    test run (its environment holds this run's RUN_TAG: an orphan's too, which no parent chain shows;
    another run's, such as another xdist worker's, does not)."""
    found = set()
    tag = f"{RUN_TAG}={os.environ[RUN_TAG]}".encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "comm").read_text().strip() in COLLECTOR_PROCESSES:
                if (proc / "stat").read_text().split(")")[-1].split()[0] != "Z" and \
                        tag in (proc / "environ").read_bytes().split(b"\0"):
                    found.add(int(proc.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):  # gone meanwhile; not ours
            continue
    return found


@pytest.fixture(scope="session", autouse=True)
def no_collector_process_outlives_the_tests():
    """Every collector process this run started is gone at the end: none hangs on its way out."""
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


BOTH_BACKENDS = {"db", "collector"}


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker
        both = (metafunc.definition.path.parent.name in BOTH_BACKENDS or marked("both_backends")) \
            and not marked("sqlite_only")
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


def start_collector(db: Path, workers: int = 1, port: int | None = None, log: Path | None = None, **env: str):
    """One HTTP worker by default: quicker to start; the concurrency test runs several. Returns the
    process and the collector's URL; `env` goes into its environment; its log (stderr) goes to the
    file `log` when given."""
    port = port or free_port()
    stderr = open(log, "ab") if log is not None else subprocess.PIPE  # noqa: SIM115 - the child holds it
    process = subprocess.Popen(
        [sys.executable, "-m", "footfall", "--db", str(db), "collect", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=stderr,
    )
    if log is not None:
        stderr.close()
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
