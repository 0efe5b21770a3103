"""A collector that heals itself: kill -9 the writer, an HTTP worker or the collector itself while
clients post; every payload acknowledged (200) is stored exactly once, nothing is stored twice, and
the collector takes payloads again within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
from load import Load, stored_paths

from conftest import ROOT, child_processes, start_collector, stop, until
from collector.app import UNAVAILABLE
from db.connection import connect
from db.writes.apis import add_api
from factories import API_KEY, payload
from services.processes import free_port

RECOVERY_SECONDS = 10  # the most a client waits for the collector to take payloads again


def named(pid: int, name: str) -> list[int]:
    """The processes under `pid` with this name (collector.processes.name_process)."""
    found = []
    for child in child_processes(pid):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == name:
                found.append(child)
        except FileNotFoundError:
            pass
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def exactly_once(conn, load: Load) -> None:
    stored = stored_paths(conn)
    assert load.acked, "no payload was acknowledged: the load never ran"
    assert [p for p in load.acked if stored.get(p) != 1] == []  # every acknowledged one, once
    assert [p for p, n in stored.items() if n > 1] == []  # nothing twice, acknowledged or not


def storing(load: Load, since: float = 0.0, acks: int = 20) -> bool:
    """Whether the load has had `acks` payloads acknowledged after `since` (monotonic), within seconds."""
    return until(lambda: sum(t > since for t in list(load.acked_at)) >= acks, RECOVERY_SECONDS)


def healthz(url: str) -> int:
    try:
        return httpx.get(url + "/healthz", timeout=5).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.parametrize("workers", [1, 2])
def test_a_writer_killed_under_load_is_replaced_and_nothing_acknowledged_is_lost(conn, db_path, workers):
    process, url = start_collector(db_path, workers=workers)
    load = Load(url).start()
    try:
        assert storing(load)
        [writer] = named(process.pid, "footfall-writer")
        before = len(load.acked)
        killed_at = time.monotonic()
        os.kill(writer, signal.SIGKILL)
        assert until(lambda: named(process.pid, "footfall-writer") not in ([], [writer]))  # another one
        assert until(lambda: healthz(url) == 200)
        assert storing(load, since=time.monotonic())
    finally:
        load.stop()
        stop(process)
    assert len(load.acked) > before > 0
    assert load.recovered_after(killed_at) < RECOVERY_SECONDS
    exactly_once(conn, load)


def test_an_http_worker_killed_under_load_is_replaced_and_the_others_keep_storing(conn, db_path):
    process, url = start_collector(db_path, workers=2)
    load = Load(url).start()
    try:
        assert storing(load)
        workers = named(process.pid, "footfall-http")
        assert len(workers) == 2
        killed_at = time.monotonic()
        os.kill(workers[0], signal.SIGKILL)
        assert until(lambda: len(named(process.pid, "footfall-http")) == 2 and workers[0] not in named(
            process.pid, "footfall-http"))
        assert storing(load, since=time.monotonic())
    finally:
        load.stop()
        stop(process)
    assert load.recovered_after(killed_at) < RECOVERY_SECONDS
    exactly_once(conn, load)


def test_a_collector_killed_under_load_takes_its_processes_with_it_and_restarts_on_its_port(conn, db_path):
    port = free_port()
    process, url = start_collector(db_path, workers=2, port=port)
    load = Load(url).start()
    try:
        assert storing(load)
        children = (named(process.pid, "footfall-writer") + named(process.pid, "footfall-http")
                    + named(process.pid, "footfall-signal"))
        assert len(children) == 4  # the writer, two HTTP workers, the signals process
        killed_at = time.monotonic()
        process.kill()  # SIGKILL: no chance to stop anything itself
        process.wait()
        assert until(lambda: not any(alive(pid) for pid in children))
        again, url_again = start_collector(db_path, workers=2, port=port)
        try:
            assert url_again == url
            assert until(lambda: load.first_ack_after(killed_at) is not None, 20)
            assert storing(load, since=time.monotonic())
        finally:
            load.stop()
            stop(again)
    finally:
        load.stop()
        stop(process)
    assert load.recovered_after(killed_at) < RECOVERY_SECONDS + 10  # the new collector's start included
    exactly_once(conn, load)


def test_healthz_answers_503_while_no_writer_can_commit(db_path, tmp_path):
    """An HTTP worker that cannot reach a writer says so on /healthz (and a POST gets 503, never 200)."""
    conn = connect(db_path)
    add_api(conn, "Test API", API_KEY)
    conn.close()
    port = free_port()
    env = {**os.environ, "FOOTFALL_WRITER_SOCKET": str(tmp_path / "no-writer.sock"), "FOOTFALL_DB": str(db_path)}
    server = subprocess.Popen([sys.executable, "-c", f"from collector.workers import serve_http; "
                               f"serve_http('127.0.0.1', {port})"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        assert until(lambda: healthz(url) == 503, 20)
        reply = httpx.get(url + "/healthz", timeout=5)
        assert reply.json()["status"] == "unavailable" and reply.headers["retry-after"] == "2"
        reply = httpx.post(url + "/", content=orjson.dumps(payload()), timeout=5)
        assert reply.status_code == 503 and reply.json()["error"] == UNAVAILABLE
    finally:
        stop(server)


@pytest.fixture
def small_disk(tmp_path):
    """A 160 MB file system of its own (tmpfs), mounted for the test: a disk that can fill up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_disk(mount: Path) -> Path:
    """Take every free byte of the file system."""
    filler = mount / "filler"
    with open(filler, "wb", buffering=0) as out:  # unbuffered: closing has nothing left to write
        try:
            while out.write(b"\0" * 65536):
                pass
        except OSError:  # no space left
            pass
    return filler


def test_a_full_disk_answers_503_without_internals_and_the_collector_recovers_when_space_returns(small_disk):
    db_path = small_disk / "footfall.db"
    conn = connect(db_path)
    add_api(conn, "Test API", API_KEY)
    process, url = start_collector(db_path)
    try:
        load = Load(url, clients=2).start()
        assert storing(load)
        filler = fill_disk(small_disk)
        assert until(lambda: healthz(url) == 503)
        reply = httpx.post(url + "/", content=orjson.dumps(payload()), timeout=10)
        assert reply.status_code == 503 and reply.json() == {"error": UNAVAILABLE}
        assert reply.headers["retry-after"] == "2"
        refused_while_full = len(load.refused)
        filler.unlink()
        freed_at = time.monotonic()
        assert until(lambda: healthz(url) == 200)
        assert until(lambda: load.first_ack_after(freed_at) is not None)
        assert storing(load, since=time.monotonic(), acks=10)
        load.stop()
    finally:
        stop(process)
    assert refused_while_full > 0
    exactly_once(conn, load)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


class Proxy:
    """A TCP proxy between the collector and PostgreSQL that can cut the line: cut() drops every
    connection through it and refuses new ones (the server unreachable, as in a network cut or a
    restart); mend() lets connections through again."""

    def __init__(self, upstream_port: int):
        import socket
        import threading

        self.port = free_port()
        self._upstream = upstream_port
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._open: list = []
        self._lock = threading.Lock()
        self.cut_now = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.cut_now:
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self._upstream))
            with self._lock:
                self._open += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.close()
                except OSError:
                    pass

    def cut(self) -> None:
        import socket

        self.cut_now = True
        with self._lock:
            for end in self._open:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._open.clear()

    def mend(self) -> None:
        self.cut_now = False

    def close(self) -> None:
        self.cut()
        self._listener.close()


def test_on_postgresql_the_collector_answers_503_while_the_server_is_unreachable_and_heals_when_it_is_back(
        pg_cluster):
    url = pg_cluster.create_database(template=pg_cluster.template)
    proxy = Proxy(pg_cluster.port)
    conn = connect(url)
    try:
        add_api(conn, "Test API", API_KEY)
        process, collector = start_collector(url.replace(f":{pg_cluster.port}/", f":{proxy.port}/"), workers=2)
        load = Load(collector).start()
        try:
            assert storing(load)
            before = len(load.acked)
            proxy.cut()
            cut_at = time.monotonic()
            assert until(lambda: healthz(collector) == 503)
            reply = httpx.post(collector + "/", content=orjson.dumps(payload()), timeout=10)
            assert reply.status_code == 503 and reply.json() == {"error": UNAVAILABLE}
            assert until(lambda: sum(t > cut_at for t in list(load.refused_at)) >= 20)  # every client refused, again
            refused_while_cut = [t for t in load.refused_at if t > cut_at]
            proxy.mend()
            mended_at = time.monotonic()
            assert until(lambda: healthz(collector) == 200)
            assert until(lambda: load.first_ack_after(mended_at) is not None)
            assert storing(load, since=time.monotonic())
        finally:
            load.stop()
            stop(process)
        assert before > 0 and refused_while_cut
        assert load.recovered_after(mended_at) < RECOVERY_SECONDS
        exactly_once(conn, load)
    finally:
        conn.close()
        proxy.close()
        pg_cluster.drop_database(url)
