"""The collector's HTTP worker processes, each with its own listening socket on the same port.

uvicorn's own multi-worker mode shares one listening socket, and whichever worker wakes first
accepts every connection waiting: a client's pool of keep-alive connections, opened together,
all lands on one worker while the others idle (measured: 40,000 payloads over 32 connections, one
worker used 6.3 s of CPU, the other 0.01 s). With SO_REUSEPORT each worker listens on a socket of
its own and the kernel spreads new connections across them.
"""

from __future__ import annotations

import functools
import multiprocessing
import signal
import socket
import time
from multiprocessing.connection import wait

import uvicorn

from collector.connections import ConnectionLimits, GuardedHttpToolsProtocol
from collector.processes import StopRequest, die_with_parent, name_process
from services.processes import leave_interrupts_to_parent
from services.settings import settings

# A worker that dies is started again, but not in a tight loop when it cannot start at all.
RESTART_PAUSE_SECONDS = 1.0


class PortInUse(OSError):
    """The collector's port is taken by another process."""


def check_port_free(host: str, port: int) -> None:
    """Refuse a port something else listens on: SO_REUSEPORT alone would let a second collector
    of the same user share it silently. Connections a collector just stopped left behind (in
    TIME_WAIT) do not count."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUse(f"cannot listen on {host}:{port}: {error.strerror}") from None


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port that other workers may listen on too (SO_REUSEPORT)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def serve_http(host: str, port: int) -> None:
    """One worker: the collector app on its own socket, until SIGTERM or SIGINT, its connections
    bounded by the settings (collector/connections.py)."""
    server, sock = http_server(host, port)
    server.run(sockets=[sock])


def http_server(host: str, port: int) -> tuple[uvicorn.Server, socket.socket]:
    """The collector app's server and its socket, listening on host:port, not yet serving
    (serve_http serves it); its `should_exit` turns true as soon as it is asked to stop."""
    chosen = settings()
    limits = ConnectionLimits(chosen.header_timeout, chosen.body_timeout, chosen.body_min_rate,
                              chosen.max_header_bytes, chosen.max_headers)
    config = uvicorn.Config(
        "collector.app:app_from_settings", factory=True, loop="uvloop",
        http=functools.partial(GuardedHttpToolsProtocol, limits=limits),
        timeout_keep_alive=chosen.keep_alive_timeout, log_level="warning", access_log=False,
    )
    return uvicorn.Server(config), listening_socket(host, port)


def _worker(host: str, port: int) -> None:
    """A worker process: HTTP until stopped, and never a moment past the collector (killed with
    it, so that its socket does not keep the port)."""
    leave_interrupts_to_parent()
    die_with_parent(signal.SIGKILL)
    name_process("footfall-http")
    serve_http(host, port)


def run_workers(host: str, port: int, count: int, stop: StopRequest | None = None) -> None:
    """Start `count` workers and keep them running (a dead one is replaced) until SIGTERM or
    SIGINT (`stop`, the caller's, or one of its own), then stop them all. The caller has checked
    the port is free (check_port_free) and set the environment the workers read."""
    spawn = multiprocessing.get_context("spawn")
    if stop is None:
        stop = StopRequest()

    def start() -> multiprocessing.Process:
        process = spawn.Process(target=_worker, args=(host, port), name="footfall-http", daemon=True)
        process.start()
        return process

    workers = [start() for _ in range(count)]
    try:
        while not stop:
            for dead in wait([w.sentinel for w in workers], timeout=0.5):
                time.sleep(RESTART_PAUSE_SECONDS)
                if stop:
                    break
                index = next(i for i, w in enumerate(workers) if w.sentinel == dead)
                workers[index] = start()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(30)
