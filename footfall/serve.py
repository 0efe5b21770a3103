"""The serving commands: `collect` (the collector alone), `dashboard` (the dashboard alone) and `up`
(demo data into an empty database, then both). Each service listens on its own host and port;
the dashboard refuses to listen off loopback without sign-in (core.access.exposure_refusal), and
with a sign-in set up only in part (Settings.sign_in_problem). Each runs until Ctrl-C or SIGTERM,
then stops what it started, in order, and says once "Footfall stopped"."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from collector.processes import StopRequest
from core.access import exposure_refusal
from db.backends.postgres_url import without_password
from db.connection import connect, database
from db.writes.apis import api_count
from db.writes.sessions import cookie_key
from footfall.errors import UserError
from services.demo_seeding import DatabaseHasApis, seed_demo
from services.processes import start_process, stop_process
from services.settings import Address, Settings, collector_url, dashboard_url, settings

ROOT = Path(__file__).resolve().parent.parent  # the checkout: streamlit_app.py and pages/
STOPPED = "Footfall stopped"


def add_serve_commands(commands, common: argparse.ArgumentParser) -> None:
    """Register `collect`, `dashboard` and `up` on the command line's subparsers."""
    collect = commands.add_parser("collect", parents=[common], help="run the collector (HTTP ingest) alone")
    collect.add_argument("--host", default=None, help="default: FOOTFALL_COLLECTOR_HOST or 127.0.0.1")
    collect.add_argument("--port", type=int, default=None)
    collect.add_argument("--workers", type=int, default=None,
                         help="processes (default: FOOTFALL_COLLECTOR_WORKERS or one per core)")
    # `up` runs the collector with this: `up` prints the addresses and the stop line for both.
    collect.add_argument("--within-up", action="store_true", help=argparse.SUPPRESS)
    collect.set_defaults(run=cmd_collect)

    dashboard = commands.add_parser("dashboard", parents=[common], help="run the dashboard alone")
    dashboard.add_argument("--host", default=None, help="default: FOOTFALL_DASHBOARD_HOST or 127.0.0.1")
    dashboard.add_argument("--port", type=int, default=None)
    dashboard.set_defaults(run=cmd_dashboard)

    up = commands.add_parser("up", parents=[common], help="demo data if there are no APIs, then collector + dashboard")
    up.add_argument("--collector-host", default=None, help="default: FOOTFALL_COLLECTOR_HOST or 127.0.0.1")
    up.add_argument("--collector-port", type=int, default=None)
    up.add_argument("--dashboard-host", default=None, help="default: FOOTFALL_DASHBOARD_HOST or 127.0.0.1")
    up.add_argument("--dashboard-port", type=int, default=None)
    up.add_argument("--demo-requests", type=int, default=20000)
    up.set_defaults(run=cmd_up)


def cmd_collect(args, db_path: str | Path) -> None:
    """collect: one writer process owns the database's write side, and is started again if it
    dies; HTTP workers (one per core by default) serve HTTP, parse and enrich, and send it their
    records (collector/supervisor.py)."""
    # Here, not above: the other commands start without loading the HTTP server.
    from collector.supervisor import WriterDidNotStart, run_collector
    from collector.workers import PortInUse, check_port_free

    config = settings()
    host, port = args.host or config.collector_host, args.port or config.collector_port
    workers = args.workers or config.collector_workers
    try:
        check_port_free(host, port)
    except PortInUse as error:
        raise UserError(str(error)) from None
    connect(db_path).close()  # create and migrate before the first request

    def ready() -> None:
        if not args.within_up:
            address = collector_url(config, served=(host, port))
            print(f"Footfall collector on {address.url} writing to {without_password(db_path)} ({workers} workers)",
                  flush=True)
            _note(address)

    try:
        run_collector(db_path, host, port, workers, config.retention_days, ready)
    except WriterDidNotStart as error:
        raise UserError(str(error)) from None
    if not args.within_up:
        print(STOPPED, flush=True)


def cmd_dashboard(args, db_path: str | Path) -> int:
    """dashboard: the dashboard alone, until stopped."""
    config = settings()
    host, port = args.host or config.dashboard_host, args.port or config.dashboard_port
    check_dashboard_exposure(host, config)
    connect(db_path).close()  # create and migrate: the dashboard reads through read-only connections
    address = dashboard_url(config, served=(host, port))
    stopping = StopRequest()
    with dashboard_process(db_path, host, port, config, address) as process:
        print(f"Footfall dashboard: {address.url}", flush=True)
        _note(address)
        code = _run_until_stopped({"the dashboard": process}, stopping)
    print(STOPPED, flush=True)
    return code


def cmd_up(args, db_path: str | Path) -> int:
    """up: demo data if the database has no APIs, then the collector and the dashboard until stopped."""
    config = settings()
    collector_host = args.collector_host or config.collector_host
    dashboard_host = args.dashboard_host or config.dashboard_host
    collector_port = args.collector_port or config.collector_port
    dashboard_port = args.dashboard_port or config.dashboard_port
    check_dashboard_exposure(dashboard_host, config)
    conn = connect(db_path)
    empty = api_count(conn) == 0
    conn.close()  # closed before seed_demo forks its workers
    if empty:
        print(f"no APIs yet: generating {args.demo_requests} demo requests ...", flush=True)
        try:
            seed_demo(db_path, args.demo_requests, seed=7)
        except DatabaseHasApis as error:  # APIs registered meanwhile
            raise UserError(str(error)) from None
    stopping = StopRequest()
    # The database goes in the environment, not the command line: a URL's password stays out of `ps`.
    collector = start_process(
        [sys.executable, "-m", "footfall", "collect", "--host", collector_host, "--port", str(collector_port),
         "--within-up"],
        env={**os.environ, "FOOTFALL_DB": str(database(db_path))}, cwd=ROOT,
    )
    dashboard_at = dashboard_url(config, served=(dashboard_host, dashboard_port))
    collector_at = collector_url(config, served=(collector_host, collector_port))
    # The dashboard shows where SDKs send their traffic: this collector's address.
    collector_env = {"FOOTFALL_COLLECTOR_HOST": collector_host, "FOOTFALL_COLLECTOR_PORT": str(collector_port)}
    try:
        with dashboard_process(db_path, dashboard_host, dashboard_port, config, dashboard_at,
                               collector_env) as dashboard:
            print(f"Footfall dashboard: {dashboard_at.url}", flush=True)
            print(f"Footfall collector: {collector_at.url}  (POST Treblle payloads here)", flush=True)
            _note(dashboard_at)
            _note(collector_at)
            code = _run_until_stopped({"the dashboard": dashboard, "the collector": collector}, stopping)
    finally:
        stop_process(collector, timeout=10)
    print(STOPPED, flush=True)
    return code


def check_dashboard_exposure(host: str, config: Settings) -> None:
    """Refuse to serve the dashboard with a sign-in set up only in part, where it would show data
    to anyone, or where it would let no one in."""
    refusal = config.sign_in_problem or exposure_refusal(host, config.sign_in, config.auth_proxy)
    if refusal:
        raise UserError(f"refusing to start: {refusal}")


def _note(address: Address) -> None:
    """Say on stderr that an address printed was a guess, and which setting fixes it."""
    if address.note:
        print(f"footfall: {address.note}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def dashboard_process(db_path: str | Path, host: str, port: int, config: Settings, address: Address,
                      env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """`streamlit run dashboard_app.py` (streamlit_app.py with the sign-in gate on Streamlit's HTTP
    routes) on host:port, with the sign-in settings handed to Streamlit (st.login reads them from
    a secrets file, written here readable by its owner only and deleted when the dashboard stops);
    sign-in's redirect comes back to `address`, the dashboard's."""
    with tempfile.TemporaryDirectory(prefix="footfall-dashboard-") as private:
        command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard_app.py"),
                   "--server.address", host, "--server.port", str(port), "--server.headless", "true",
                   "--browser.gatherUsageStats", "false"]
        if config.sign_in:
            cookie_secret = cookie_key(db_path, config.cookie_secret)
            command += ["--secrets.files", str(_write_auth_secrets(Path(private), config, cookie_secret, address))]
        process = start_process(command, env={**os.environ, **(env or {}), "FOOTFALL_DB": str(database(db_path))},
                                cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            yield process
        finally:
            stop_process(process, timeout=10)


def _write_auth_secrets(folder: Path, config: Settings, cookie_secret: str, address: Address) -> Path:
    """Streamlit's [auth] section for st.login, from Footfall's settings. Session cookies are
    signed with a key of their own (db.writes.sessions.cookie_key), never one derived from the client
    secret: whoever holds the provider's secret cannot sign a session."""
    values = {
        "redirect_uri": address.at("oauth2callback"),
        "cookie_secret": cookie_secret,
        "client_id": config.oidc_client_id,
        "client_secret": config.oidc_client_secret,
        "server_metadata_url": config.oidc_metadata_url,
    }
    path = folder / "secrets.toml"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as secrets:
        # A JSON string is a valid TOML basic string.
        secrets.write("[auth]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items()))
    return path


def _run_until_stopped(processes: dict[str, subprocess.Popen], stopping: StopRequest) -> int:
    """Wait until SIGTERM or Ctrl-C (0), or until one of the processes ends on its own (1, said on
    stderr); the caller stops them all."""
    while not stopping:
        ended = [name for name, process in processes.items() if process.poll() is not None]
        if ended and not stopping:
            print(f"footfall: {ended[0]} stopped on its own (exit {processes[ended[0]].returncode}); stopping the rest",
                  file=sys.stderr, flush=True)
            return 1
        time.sleep(0.2)
    return 0
