"""Starting and stopping the processes Footfall runs (the CLI's `up`, the tests, the benchmarks)."""

from __future__ import annotations

import signal
import socket
import subprocess


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (tests and benchmarks start servers on it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def leave_interrupts_to_parent() -> None:
    """Block SIGINT in this process and those it starts: a terminal sends Ctrl-C to its whole
    process group, and the parent stops its children itself, in order and quietly (stop_process),
    rather than each of them stopping, or printing a traceback, on its own."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def start_process(command: list[str], **popen_args) -> subprocess.Popen:
    """subprocess.Popen for a child that leaves Ctrl-C to this process (leave_interrupts_to_parent:
    it starts with SIGINT blocked, as a signal mask survives exec)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return subprocess.Popen(command, **popen_args)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
