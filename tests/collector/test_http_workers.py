"""The collector's HTTP workers each listen on a socket of their own (SO_REUSEPORT), so a
client's keep-alive connections, opened together, are spread over them; a worker that dies is
replaced; a port already in use is refused with a clear message."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from conftest import ROOT, child_processes, start_collector, stop, wait_for_http
from factories import payload
from services.processes import free_port

pytestmark = pytest.mark.sqlite_only  # sockets and processes: the database's engine changes nothing here

LISTEN, ESTABLISHED = "0A", "01"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _tcp_sockets(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets on this local port in this state."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.add(fields[9])
    return found


def http_workers(process: subprocess.Popen, port: int) -> list[int]:
    """The collector's processes that listen on the port themselves."""
    listening = _tcp_sockets(port, LISTEN)
    return [pid for pid in child_processes(process.pid) if _socket_inodes(pid) & listening]


def connections_per_worker(process, port: int) -> list[int]:
    established = _tcp_sockets(port, ESTABLISHED)
    return sorted(len(_socket_inodes(pid) & established) for pid in http_workers(process, port))


def post_on(sock: socket.socket, body: bytes) -> bytes:
    sock.sendall(b"POST / HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    return sock.recv(65536).split(b"\r\n", 1)[0]


def test_connections_opened_together_are_spread_over_the_workers(conn, db_path):
    process, url = start_collector(db_path, workers=2)
    port = int(url.rsplit(":", 1)[1])
    # Opened at once, as a client's keep-alive pool does: all wait to be accepted together.
    pool = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(24)]
    try:
        assert {post_on(sock, orjson.dumps(payload())) for sock in pool} == {b"HTTP/1.1 200 OK"}
        spread = connections_per_worker(process, port)
        assert len(spread) == 2 and sum(spread) == 24
        assert min(spread) >= 4, spread  # on uvicorn's one shared socket: [0, 24]
    finally:
        for sock in pool:
            sock.close()
        stop(process)


def test_a_worker_that_dies_is_replaced_and_the_collector_keeps_storing(conn, db_path):
    process, url = start_collector(db_path, workers=2)
    port = int(url.rsplit(":", 1)[1])
    try:
        first, second = http_workers(process, port)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        workers = http_workers(process, port)
        while (len(workers) < 2 or first in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = http_workers(process, port)
        assert len(workers) == 2 and first not in workers and second in workers
        replies = [httpx.post(url + "/", content=orjson.dumps(payload()), timeout=10) for _ in range(10)]
        assert [r.status_code for r in replies] == [200] * 10
    finally:
        stop(process)
    assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 10


def test_a_port_already_in_use_is_refused_with_a_clear_message(db_path):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        run = subprocess.run(
            [sys.executable, "-m", "footfall", "--db", str(db_path), "collect", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
    assert run.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr and "Traceback" not in run.stderr


def test_a_collector_restarted_at_once_gets_its_port_back(conn, db_path):
    process, url = start_collector(db_path, workers=2)
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        assert post_on(sock, orjson.dumps(payload())) == b"HTTP/1.1 200 OK"
        stop(process)  # it closes the connection first: TIME_WAIT stays behind on its port
    again = subprocess.Popen(
        [sys.executable, "-m", "footfall", "--db", str(db_path), "collect", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_for_http(url + "/healthz", again)
        assert httpx.post(url + "/", content=orjson.dumps(payload()), timeout=10).status_code == 200
    finally:
        stop(again)
    assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 2


def test_the_http_workers_do_not_load_the_dashboard_s_dataframe_library():
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, collector.app, collector.writer; print('polars' in sys.modules)"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert imported.stdout.strip() == "False"
