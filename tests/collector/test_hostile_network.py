"""The collector facing a hostile network, against the real collector over HTTP: connections that
send slowly or not at all are dropped in time and never lock senders out, only requests past their
key check count towards what a worker takes at once, a request head is bounded in size and count,
a gzip or JSON bomb is refused at a bounded cost in memory and time (measured on the HTTP workers
themselves), every gzip member is read or the body refused, a 413 is readable by a client that
sends `Connection: close`, and /healthz says when ingest is refusing.

On SQLite alone: what is tested is the HTTP side, before anything reaches the database."""

import base64
import gzip
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import httpx
import orjson
import pytest

from collector.app import MAX_REQUESTS_AT_ONCE, READING_LIMIT_BODIES
from conftest import child_processes, start_collector, stop, until
from db.connection import connect
from db.writes.apis import add_api
from factories import API_KEY, payload
from services.settings import settings
from raw_http import closed, connect_to, read_reply, request_head

MiB = 1024 * 1024
JSON = {"content-type": "application/json"}
GZIP = {**JSON, "content-encoding": "gzip"}
HEADER_TIMEOUT, BODY_TIMEOUT, KEEP_ALIVE_TIMEOUT = 2, 3, 1
SLACK = 2  # seconds a timeout may take past its setting on a busy machine


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return ""


def new_database(path: Path) -> tuple[Path, object]:
    db = path / "footfall.db"
    conn = connect(db)
    add_api(conn, "Test API", API_KEY)
    return db, conn


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One collector for the module: two HTTP workers, the default body limit (5 MiB), short timeouts."""
    db, conn = new_database(tmp_path_factory.mktemp("hostile"))
    process, url = start_collector(db, workers=2, FOOTFALL_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
                                   FOOTFALL_BODY_TIMEOUT=str(BODY_TIMEOUT),
                                   FOOTFALL_KEEP_ALIVE_TIMEOUT=str(KEEP_ALIVE_TIMEOUT))
    try:
        workers = [pid for pid in child_processes(process.pid) if process_name(pid) == "footfall-http"]
        assert len(workers) == 2
        # Both workers up and past their first payload: a new connection lands on either.
        warm = orjson.dumps(payload(user_id="warm-up"))
        for _ in range(20):
            assert httpx.post(url + "/", content=warm, headers=JSON, timeout=30).status_code == 200
        yield SimpleNamespace(url=url, conn=conn, workers=workers)
    finally:
        stop(process)
        conn.close()


def stored(conn, path: str | None = None) -> int:
    if path is None:
        return conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    return conn.execute("SELECT COUNT(*) FROM requests WHERE path = ?", (path,)).fetchone()[0]


def kib(pid: int, field: str) -> int:
    """A memory figure of /proc/<pid>/status, in KiB."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith(field + ":"))
    return int(line.split()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def cost(workers: list[int], action):
    """What `action` makes the HTTP workers spend: (its result, the most any worker's peak resident
    memory rose, in MiB, and their CPU seconds together)."""
    for pid in workers:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    resident = {pid: kib(pid, "VmRSS") for pid in workers}
    cpu = sum(cpu_seconds(pid) for pid in workers)
    result = action()
    rise = max(kib(pid, "VmHWM") - resident[pid] for pid in workers) / 1024
    return result, rise, sum(cpu_seconds(pid) for pid in workers) - cpu


def post(url: str, body: bytes, headers: dict = JSON) -> httpx.Response:
    return httpx.post(url + "/", content=body, headers=headers, timeout=120)


def error(reply) -> str:
    return orjson.loads(reply if isinstance(reply, bytes) else reply.content)["error"]


def slow_upload(url: str):
    """A connection that sends its headers and one byte of a 100,000-byte body, then nothing."""
    sock = connect_to(url, timeout=15)
    sock.sendall(request_head(100_000) + b"[")
    return sock


def trickle(sock, pieces: list[bytes], every: float) -> threading.Thread:
    """Send the pieces one at a time, `every` seconds apart, until they run out or the connection closes."""
    def run():
        for piece in pieces:
            try:
                sock.sendall(piece)
            except OSError:
                return
            time.sleep(every)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# --- Slow and idle connections -------------------------------------------------------------------------


def test_200_connections_sending_their_bodies_slowly_do_not_lock_a_sender_out(server):
    slow = [slow_upload(server.url) for _ in range(200)]
    try:
        replies = [post(server.url, orjson.dumps(payload(user_id=f"legit-{i}"))) for i in range(20)]
        assert [r.status_code for r in replies] == [200] * 20
        assert not any(closed(sock) for sock in slow)  # all of them held open meanwhile
    finally:
        for sock in slow:
            sock.close()


def test_a_body_that_stops_arriving_gets_408_and_its_connection_closes(server):
    with slow_upload(server.url) as sock:
        began = time.monotonic()
        status, headers, reply = read_reply(sock)
        assert status == 408 and "slower than 10000 bytes per second" in error(reply)
        assert time.monotonic() - began < BODY_TIMEOUT + SLACK and headers["connection"] == "close"
        assert until(lambda: closed(sock), SLACK)


def test_a_body_that_trickles_in_below_the_minimum_rate_gets_408(server):
    with connect_to(server.url, timeout=15) as sock:
        sock.sendall(request_head(100_000))
        trickle(sock, [b" "] * 100, every=0.1)  # 10 bytes a second, never quite idle
        began = time.monotonic()
        assert read_reply(sock)[0] == 408
        assert time.monotonic() - began < BODY_TIMEOUT + SLACK


def test_a_request_head_that_trickles_in_gets_408_when_the_header_timeout_is_up(server):
    with connect_to(server.url, timeout=15) as sock:
        began = time.monotonic()
        trickle(sock, [b"POST / HTTP/1.1\r\n"] + [f"X-Slow-{i}: 1\r\n".encode() for i in range(50)], every=0.2)
        status, _, reply = read_reply(sock)
        assert status == 408 and "head did not arrive within 2 seconds" in error(reply)
        assert time.monotonic() - began < HEADER_TIMEOUT + SLACK


def test_a_connection_that_sends_nothing_is_closed_when_the_header_timeout_is_up(server):
    with connect_to(server.url, timeout=15) as sock:
        began = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - began < HEADER_TIMEOUT + SLACK


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(server):
    body = orjson.dumps(payload(user_id="keep-alive"))
    with connect_to(server.url, timeout=15) as sock:
        sock.sendall(request_head(len(body)) + body)
        assert read_reply(sock)[0] == 200
        began = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - began < KEEP_ALIVE_TIMEOUT + SLACK


# --- Request heads -----------------------------------------------------------------------------------------


def test_a_request_head_over_64_kib_gets_431(server):
    with connect_to(server.url) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: collector\r\nX-Big: " + b"a" * (200 * 1024) + b"\r\n\r\n")
        status, headers, reply = read_reply(sock)
    assert status == 431 and "the request head is over 65536 bytes" in error(reply)


def test_a_request_with_over_100_headers_gets_431(server):
    headers = "".join(f"X-Header-{i}: {i}\r\n" for i in range(101))
    with connect_to(server.url) as sock:
        sock.sendall(f"POST / HTTP/1.1\r\nHost: collector\r\n{headers}Content-Length: 2\r\n\r\n{{}}".encode())
        status, _, reply = read_reply(sock)
    assert status == 431 and "the request has over 100 headers" in error(reply)


def send_ignoring_refusal(url: str, data: bytes) -> None:
    with connect_to(url, timeout=120) as sock:
        try:
            sock.sendall(data)
        except OSError:  # refused and closed before the end of it
            pass


HEADER_BOMBS = {
    "150-mb-header": lambda: b"X-Bomb: " + b"a" * 150_000_000 + b"\r\n",
    "1m-headers": lambda: b"X-Bomb: a\r\n" * 1_000_000,
}


@pytest.mark.parametrize("bomb", HEADER_BOMBS)
def test_a_header_bomb_is_refused_at_a_bounded_cost(server, bomb):
    bomb = b"POST / HTTP/1.1\r\nHost: collector\r\n" + HEADER_BOMBS[bomb]() + b"\r\n"
    began = time.monotonic()
    _, memory, cpu = cost(server.workers, lambda: send_ignoring_refusal(server.url, bomb))
    assert time.monotonic() - began < 3 and cpu < 1 and memory < 16, (time.monotonic() - began, cpu, memory)


# --- Bodies that expand ---------------------------------------------------------------------------------


def empty_objects(count: int) -> bytes:
    """A JSON array of `count` empty objects: the densest payload array there is, and none with a key."""
    return b"[" + b"{}," * (count - 1) + b"{}]"


def test_a_gzip_bomb_is_refused_at_a_bounded_cost(server):
    bomb = gzip.compress(empty_objects(25 * MiB // 3))  # 25 KiB expanding to 25 MiB
    assert len(bomb) < 30 * 1024
    reply, memory, cpu = cost(server.workers, lambda: post(server.url, bomb, GZIP))
    assert reply.status_code == 413 and "expands past the limit" in error(reply)
    assert cpu < 0.5 and memory < 16, (cpu, memory)


def test_a_gzip_body_within_the_ratio_but_dense_with_json_values_is_refused_at_a_bounded_cost(server):
    # 600 KB of text that barely compresses, then 4M empty objects: 12 MiB from 0.5 MB, 25 times.
    filler = base64.b64encode(os.urandom(450 * 1024))
    bomb = gzip.compress(b'["' + filler + b'",' + empty_objects(4 * MiB)[1:])
    reply, memory, cpu = cost(server.workers, lambda: post(server.url, bomb, GZIP))
    assert reply.status_code == 413 and "values" in error(reply)
    assert cpu < 1 and memory < 64, (cpu, memory)


def test_a_body_of_more_payloads_than_the_limit_is_refused_at_a_bounded_cost(server):
    body = empty_objects(5 * MiB // 3 - 1)  # 1.7 million payloads in a plain body under 5 MiB
    reply, memory, cpu = cost(server.workers, lambda: post(server.url, body))
    assert reply.status_code == 413 and "the limit is 10000 in one body" in error(reply)
    assert cpu < 1.5 and memory < 256, (cpu, memory)  # parsed, then refused: about 160 MiB


def test_every_gzip_member_of_a_body_is_read(server):
    first, second = (payload(url=f"https://api.example.com/members/{n}") for n in (1, 2))
    body = gzip.compress(b"[" + orjson.dumps(first)) + gzip.compress(b"," + orjson.dumps(second) + b"]")
    reply = post(server.url, body, GZIP)
    assert reply.status_code == 200 and reply.json() == {"accepted": 2}
    assert stored(server.conn, "/members/1") == stored(server.conn, "/members/2") == 1


def test_two_gzip_members_of_one_payload_each_are_refused_not_half_stored(server):
    first, second = (payload(url=f"https://api.example.com/halves/{n}") for n in (1, 2))
    reply = post(server.url, gzip.compress(orjson.dumps(first)) + gzip.compress(orjson.dumps(second)), GZIP)
    assert reply.status_code == 400 and "not valid JSON" in error(reply)
    assert stored(server.conn, "/halves/1") == stored(server.conn, "/halves/2") == 0


def test_bytes_after_the_gzip_data_get_400_and_nothing_is_stored(server):
    body = gzip.compress(orjson.dumps(payload(url="https://api.example.com/trailing"))) + b"trailing garbage"
    reply = post(server.url, body, GZIP)
    assert reply.status_code == 400 and "goes on after the end of its gzip data" in error(reply)
    assert stored(server.conn, "/trailing") == 0


# --- 413 with Connection: close ---------------------------------------------------------------------------


def test_a_body_over_the_limit_from_urllib_gets_a_413_it_can_read(server):
    request = urllib.request.Request(server.url + "/", data=b" " * (6 * MiB), headers=JSON)  # Connection: close
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 413 and "the limit is 5242880 bytes" in error(refused.value.read())


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bound_on_clients_that_is_not_a_number_over_0_is_refused_naming_the_setting(value):
    with pytest.raises(ValueError, match="FOOTFALL_BODY_MIN_RATE must be a whole number over 0"):
        settings({"FOOTFALL_BODY_MIN_RATE": value})


# --- What a worker takes at once, and /healthz -------------------------------------------------------------


def test_a_worker_takes_64_requests_past_their_key_check_at_once_and_bodies_being_sent_do_not_count(tmp_path):
    db, conn = new_database(tmp_path)
    process, url = start_collector(db, FOOTFALL_BODY_TIMEOUT="60")  # one worker
    writer = next(pid for pid in child_processes(process.pid) if process_name(pid) == "footfall-writer")
    slow = [slow_upload(url) for _ in range(100)]
    waiting = []
    os.kill(writer, signal.SIGSTOP)  # requests past their key check wait on it
    try:
        for i in range(MAX_REQUESTS_AT_ONCE):
            body = orjson.dumps(payload(user_id=f"waiting-{i}"))
            waiting.append(connect_to(url))
            waiting[-1].sendall(request_head(len(body)) + body)
        assert until(lambda: httpx.get(url + "/healthz", timeout=10).json()["status"] == "busy", 30)

        began = time.monotonic()
        reply = post(url, orjson.dumps(payload(user_id="one-too-many")))
        assert reply.status_code == 503 and int(reply.headers["retry-after"]) >= 1 and "retry later" in error(reply)
        assert time.monotonic() - began < 2

        os.kill(writer, signal.SIGCONT)
        assert [read_reply(sock)[0] for sock in waiting] == [200] * MAX_REQUESTS_AT_ONCE
        assert not any(closed(sock) for sock in slow)
    finally:
        os.kill(writer, signal.SIGCONT)
        for sock in slow + waiting:
            sock.close()
        stop(process)
    assert stored(conn) == MAX_REQUESTS_AT_ONCE
    conn.close()


def test_healthz_says_busy_while_slow_bodies_fill_what_a_worker_holds_and_ok_once_they_are_dropped(tmp_path):
    db, conn = new_database(tmp_path)
    limit = 64 * 1024
    process, url = start_collector(db, FOOTFALL_MAX_BODY_BYTES=str(limit), FOOTFALL_BODY_TIMEOUT="2")
    held = []
    try:
        for _ in range(READING_LIMIT_BODIES + 1):  # all but the last byte of bodies at the limit
            held.append(connect_to(url))
            held[-1].sendall(request_head(limit) + b" " * (limit - 1))
        assert until(lambda: post(url, orjson.dumps(payload())).status_code == 503)
        health = httpx.get(url + "/healthz")
        assert health.status_code == 503 and health.json()["status"] == "busy"

        assert until(lambda: httpx.get(url + "/healthz").status_code == 200, 20)  # the slow ones dropped
        assert post(url, orjson.dumps(payload())).status_code == 200
    finally:
        for sock in held:
            sock.close()
        stop(process)
        conn.close()
