"""Helpers for the alert tests: a real webhook (http.server on a free port, in a thread) that
keeps what it receives and can be made to fail, and traffic placed at chosen times, stored through
the collector's ingest path (tests/loading.py) or sent to the real collector over HTTP, and kept in
the test to work the figures out independently."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import send_calls
from factories import API_KEY, payload
from loading import load
from services.processes import free_port

HOUR = 3600
DAY = 86400
SECRET_PATH = "/hooks/T0001/B0002/not-a-real-secret"  # a Slack webhook's path is its key


class Webhook:
    """A local HTTP server taking webhook POSTs: `bodies` are the JSON bodies it answered 200 to,
    `attempts` counts every POST; the first `fail_first` POSTs (or all while `down`) get 500."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.attempts = 0
        self.fail_first = 0
        self.down = False
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with hook._lock:
                    hook.attempts += 1
                    failing = hook.down or hook.attempts <= hook.fail_first
                    if not failing:
                        hook.bodies.append(body)
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"no" if failing else b"ok")

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.url = f"http://127.0.0.1:{self.port}{SECRET_PATH}"
        # Polling shutdown's flag every 20 ms, not 500: closing it is quick.
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 30) -> list[dict]:
        """The bodies, once at least `count` have arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return list(self.bodies)

    def close(self) -> None:
        """Stop listening (again: nothing)."""
        if self._thread.is_alive():
            self.server.shutdown()
            self.server.server_close()


@dataclass(frozen=True)
class Sent:
    """One call as sent: who, when, with what status and load time, and the name it carries."""

    user: str
    ts: int
    status: int = 200
    load_ms: float = 20.0
    name: str | None = None

    def payload(self, api_key: str = API_KEY) -> dict:
        stamp = datetime.fromtimestamp(self.ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        if self.name is None:
            return payload(user_id=self.user, timestamp=stamp, status=self.status, load_time=self.load_ms,
                           api_key=api_key)
        metadata = json.dumps({"user-id": self.user, "user-name": self.name})
        return payload(user_id=None, timestamp=stamp, status=self.status, load_time=self.load_ms, api_key=api_key,
                       request_headers={"treblle-metadata": metadata})


def send(url: str, calls: list[Sent], api_key: str = API_KEY, batch: int = 500) -> None:
    """POST the calls to the collector as JSON arrays; every one must be accepted."""
    send_calls(url, calls, api_key, batch)


def in_hour(user: str, hour: int, count: int, errors: int = 0, **fields) -> list[Sent]:
    """`count` calls spread over the hour starting at `hour`, the first `errors` of them failing (500)."""
    return [Sent(user, hour + 30 + i * (HOUR - 60) // count, status=500 if i < errors else 200, **fields)
            for i in range(count)]


def hourly(user: str, per_hour: int, start: int, end: int, **fields) -> list[Sent]:
    """`per_hour` calls in every hour of [start, end)."""
    return [call for hour in range(start, end, HOUR) for call in in_hour(user, hour, per_hour, **fields)]


def spread(user: str, n: int, start: int, end: int, loads: list[float] | None = None, **fields) -> list[Sent]:
    """`n` calls evenly spread over [start, end), with these load times (ms) if given."""
    return [Sent(user, start + i * (end - start) // n, **({"load_ms": loads[i]} if loads else {}), **fields)
            for i in range(n)]


def daily(user: str, per_day: int, first_day: int, last_day: int, **fields) -> list[Sent]:
    """`per_day` calls a day at evenly spread hours, on the days [first_day, last_day) (midnights)."""
    return [Sent(user, day + (i * 24 * HOUR) // per_day + 60, **fields)
            for day in range(first_day, last_day, DAY) for i in range(per_day)]


def count(calls: list[Sent], user: str, start: int, end: int) -> int:
    """The user's calls in [start, end)."""
    return sum(1 for c in calls if c.user == user and start <= c.ts < end)


def errors(calls: list[Sent], user: str, start: int, end: int) -> int:
    """The user's 4xx and 5xx calls in [start, end)."""
    return sum(1 for c in calls if c.user == user and start <= c.ts < end and c.status >= 400)


def p95(calls: list[Sent], user: str, start: int, end: int) -> float:
    """The nearest-rank p95 of the user's load times in [start, end)."""
    loads = sorted(c.load_ms for c in calls if c.user == user and start <= c.ts < end)
    return loads[max(1, math.ceil(len(loads) * 0.95)) - 1]


def clear_of_the_hour(margin: float) -> float:
    """Wait past the next hour when fewer than `margin` seconds (the most the test takes) are left of
    this one: a test judged by a running collector, on the real clock, must not straddle an hour. (A
    test that judges in this process passes its own `now` instead.) Returns the time then."""
    left = HOUR - time.time() % HOUR
    if left < margin:
        time.sleep(left + 1)
    return time.time()


def database_text(conn, db_path) -> str:
    """Everything the database holds, as text: SQLite's dump (iterdump), or pg_dump's (plain SQL,
    every table's rows) of the PostgreSQL database."""
    if conn.backend.name != "postgresql":
        return "\n".join(conn.iterdump())
    program = shutil.which("pg_dump")
    assert program is not None, "pg_dump is not installed (Debian: postgresql-client)"
    return subprocess.run([program, "--no-password", "--dbname", str(db_path)], capture_output=True, text=True,
                          check=True).stdout


def firing_rows(conn) -> list[tuple]:
    """(rule_id, customer ID, value, fired_at, resolved_at, delivered_at, attempts, last_error) of every firing."""
    return conn.execute(
        "SELECT f.rule_id, c.external_id, f.value, f.fired_at, f.resolved_at, f.delivered_at, f.attempts, f.last_error"
        " FROM alert_firings f JOIN customers c ON c.id = f.customer_id ORDER BY f.id").fetchall()


# --- Fixtures (imported by the test modules) ---------------------------------------------------


@pytest.fixture
def webhook():
    """A real webhook on a free port."""
    hook = Webhook()
    yield hook
    hook.close()


def store(db_path, calls: list[Sent]) -> None:
    """Store the calls through the collector's ingest path, in this process: no collector runs, so
    every check is the test's own, at a time it chooses."""
    load(db_path, [c.payload() for c in calls])
