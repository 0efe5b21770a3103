"""Memory of one collector HTTP worker under a flood of unique, huge user agents.

    .venv/bin/python -m bench.flood [--payloads 2000] [--user-agent-bytes 1000000] [--every 200]
                                    [--tree PATH]

Starts a collector with one HTTP worker (`collect --workers 1`: HTTP in the collector's main
process, the writer a child of it) on a free port and a temporary database, registers an API,
then sends payloads with a valid key, each with a different user agent of the given size (in
`data.request.user_agent` and the `user-agent` header, as the SDKs send it), one at a time. Every
`--every` payloads it reads the HTTP process's resident memory (VmRSS in /proc/PID/status).
Every user agent is new, so a cache keyed by raw user agents keeps them all; with keys capped, the
figure levels off. `--tree` runs another checkout's code (its collector and CLI), for a before and
after. The last line is JSON with the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson

from bench.ingest import wait_until_up
from services.processes import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent
MAX_BODY_BYTES = 5 * 1024 * 1024


def main() -> None:
    """Run the flood with the command line's figures and print the RSS series."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--payloads", type=int, default=2000)
    parser.add_argument("--user-agent-bytes", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=200)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose collector runs (default: this one)")
    args = parser.parse_args()
    results = flood(args.tree.resolve(), args.payloads, args.user_agent_bytes, args.every)
    print(orjson.dumps(results).decode())


def flood(tree: Path, payloads: int, user_agent_bytes: int, every: int) -> dict:
    """Send the flood to a fresh collector of `tree`; the HTTP process's RSS (MB) every `every` payloads."""
    with tempfile.TemporaryDirectory(prefix="footfall-flood-") as work:
        db = Path(work) / "flood.db"
        key = _footfall(tree, db, "apis", "add", "Flood API").stdout.split()[0]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "footfall", "--db", str(db), "collect", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"],
            cwd=tree, env=_env(FOOTFALL_MAX_BODY_BYTES=str(MAX_BODY_BYTES)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(port)
            statuses: Counter[int] = Counter()
            with httpx.Client(timeout=120) as client:
                # the baseline: after one ordinary payload, with everything loaded that loads lazily
                client.post(url + "/", content=_payload(key, 0, 100), headers={"content-type": "application/json"})
                series = [(0, _rss_mb(server.pid))]
                started = time.perf_counter()
                for i in range(1, payloads + 1):
                    body = _payload(key, i, user_agent_bytes)
                    statuses[client.post(url + "/", content=body,
                                         headers={"content-type": "application/json"}).status_code] += 1
                    if i % every == 0:
                        series.append((i, _rss_mb(server.pid)))
                        print(f"{i:>6} payloads  RSS {series[-1][1]:8.1f} MB", flush=True)
            seconds = time.perf_counter() - started
            peak = _status_mb(server.pid, "VmHWM")
        finally:
            stop_process(server)
    return {
        "tree": str(tree), "payloads": payloads, "user_agent_bytes": user_agent_bytes,
        "rss_mb": [[n, round(mb, 1)] for n, mb in series], "peak_rss_mb": round(peak, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())}, "seconds": round(seconds, 1),
    }


def _payload(key: str, i: int, size: int) -> bytes:
    """A valid format A payload whose user agent is `size` bytes and differs from every other."""
    user_agent = f"Mozilla/5.0 (flood {i:08d}) " + "x" * max(0, size - 30)
    return orjson.dumps({
        "api_key": "sdk-token", "project_id": key, "sdk": "django", "version": 1,
        "data": {
            "server": {"timezone": "UTC"},
            "request": {"timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "ip": "81.2.69.142",
                        "url": f"https://api.example.com/api/items/{i}", "user_agent": user_agent, "method": "GET",
                        "headers": {"user-agent": user_agent, "treblle-user-id": "cus_flood"}, "body": {}},
            "response": {"headers": {}, "code": 200, "size": 10, "load_time": 5.0, "body": {}},
            "errors": [],
        },
    })


def _footfall(tree: Path, db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "footfall", "--db", str(db), *args], cwd=tree, env=_env(),
                          capture_output=True, text=True, check=True, timeout=120)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    return {**env, **extra}


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise KeyError(field)


def _rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS")


if __name__ == "__main__":
    main()
