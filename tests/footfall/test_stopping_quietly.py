"""Footfall stops quietly, however it is asked to: Ctrl-C in its terminal (SIGINT to its whole
process group), `kill -- -PGID` (SIGTERM to the group, as a service manager stops it) or a plain
`kill PID` (SIGTERM to the command alone). It then prints no traceback, starts no writer again,
says once "Footfall stopped", exits 0 (a stop asked for is no failure), and leaves no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, footfall, free_port, until, wait_for_http

HOW = {"Ctrl-C": (signal.SIGINT, os.killpg), "kill -- -PGID": (signal.SIGTERM, os.killpg),
       "kill PID": (signal.SIGTERM, os.kill)}


@dataclass
class Running:
    process: subprocess.Popen
    log: Path

    def stop(self, how: str) -> tuple[int, str]:
        """Stop it as `how` says; its exit status and everything it printed."""
        signum, send = HOW[how]
        send(self.process.pid, signum)
        code = self.process.wait(timeout=60)
        return code, self.log.read_text()

    def group_is_gone(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        return False


@pytest.fixture
def start(tmp_path):
    """start(*args) runs `footfall ARGS` in a process group of its own (as a terminal runs a command),
    on a database with an API (so that `up` makes no demo data), until every URL answers."""
    db = tmp_path / "footfall.db"
    footfall("apis", "add", "Shop API", "--api-key", "shop-key", db=db)
    started: list[Running] = []

    def run(*args: str, urls: list[str]) -> Running:
        log = tmp_path / "footfall.log"
        with open(log, "wb") as output:
            process = subprocess.Popen([sys.executable, "-m", "footfall", "--db", str(db), *args], cwd=ROOT,
                                       stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(Running(process, log))
        for url in urls:
            wait_for_http(url, process, timeout=60)
        return started[-1]

    yield run
    for running in started:
        if not running.group_is_gone():
            os.killpg(running.process.pid, signal.SIGKILL)
        running.process.wait()


def stopped_quietly(code: int, output: str) -> None:
    assert "Traceback" not in output and "starting another" not in output, output
    stop_lines = [line for line in output.splitlines() if re.search(r"\bstopp(ed|ing)\b", line)]
    assert stop_lines == ["Footfall stopped"], output
    assert code == 0


@pytest.mark.parametrize("how", HOW)
def test_footfall_up_stops_quietly_and_says_so_once(start, how):
    dashboard, collector = free_port(), free_port()
    running = start("up", "--dashboard-port", str(dashboard), "--collector-port", str(collector),
                    urls=[f"http://127.0.0.1:{dashboard}/_stcore/health", f"http://127.0.0.1:{collector}/healthz"])
    stopped_quietly(*running.stop(how))
    assert until(running.group_is_gone, 10)


@pytest.mark.parametrize(("command", "health"), [(["collect", "--workers", "2"], "/healthz"),
                                                 (["dashboard"], "/_stcore/health")], ids=["collect", "dashboard"])
def test_the_collector_and_the_dashboard_alone_stop_quietly_on_ctrl_c(start, command, health):
    port = free_port()
    running = start(*command, "--port", str(port), urls=[f"http://127.0.0.1:{port}{health}"])
    stopped_quietly(*running.stop("Ctrl-C"))
    assert until(running.group_is_gone, 10)
