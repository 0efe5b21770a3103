"""Machinery for the SDK compatibility tests: run a real Treblle SDK inside a real app, point
it at a real Footfall collector, send it scripted traffic, and wait until Footfall's command line
(run in this process) shows it all.

The SDKs are not modified. Their hard-coded *.treblle.com traffic is sent to the local
collector by the transport patches the README gives operators (sdk/), which the test apps load:
  node:   `node -r sdk/node/footfall-redirect.js app-....js`  (wraps https.request and globalThis.fetch)
  django: sdk/django/footfall_redirect.py's install()          (pre-seeds TreblleMiddleware's requests.Session)
both driven by the FOOTFALL_URL environment variable.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from services.processes import free_port

SDK_DIR = Path(__file__).resolve().parent
ROOT = SDK_DIR.parent.parent
NODE_DIR = SDK_DIR / "node"
DJANGO_DIR = SDK_DIR / "django_app"
NODE_PRELOAD = ROOT / "sdk" / "node" / "footfall-redirect.js"
DJANGO_REDIRECT_DIR = ROOT / "sdk" / "django"  # footfall_redirect.py

INSTALL_HINT = "run `make test` (or `npm ci --prefix tests/sdk/node`) to install the pinned Node SDKs"
WAIT_SECONDS = 45  # the SDKs send asynchronously; poll Footfall this long for everything to land


# ---- the apps under test --------------------------------------------------------------------


@dataclass(frozen=True)
class SdkApp:
    name: str  # as in tests/sdk/samples/<name>.json
    endpoint_names: dict[str, str]  # request path -> the endpoint name Footfall should show
    pace: float = 0.0  # pause between calls (see treblle-django below)


NODE_ENDPOINTS = {
    "/api/orders": "/api/orders",
    "/api/items/42": "/api/items/{id}",
    "/api/items/1": "/api/items/{id}",
    "/api/items/2": "/api/items/{id}",
    "/api/users/7/profile": "/api/users/{id}/profile",
    "/api/slow": "/api/slow",
    "/api/search": "/api/search",
}

SDK_APPS = {
    # The Node SDKs send no route: Footfall infers the template from the path.
    "treblle-express": SdkApp("treblle-express", NODE_ENDPOINTS),
    "treblle-node": SdkApp("treblle-node", NODE_ENDPOINTS),
    # Django sends `route_path` built from the URL pattern (`api/items/{item_id}`, no slash).
    # The SDK keeps each request's start/end time on the one shared middleware instance and
    # computes load_time later in a worker thread, so a call that starts before the previous
    # call's worker has run corrupts that call's load_time (even negative). Real traffic has
    # that bug; the test paces its calls so load times can be checked.
    "treblle-django": SdkApp(
        "treblle-django",
        {
            "/api/orders": "/api/orders",
            "/api/items/42": "/api/items/{item_id}",
            "/api/items/1": "/api/items/{item_id}",
            "/api/items/2": "/api/items/{item_id}",
            "/api/users/7/profile": "/api/users/{user_id}/profile",
            "/api/slow": "/api/slow",
            "/api/search": "/api/search",
        },
        pace=0.25,
    ),
}

NODE_PINS = {"@treblle/express": "1.0.2", "treblle": "1.5.2"}
PYTHON_PINS = {"treblle": "2.0.6", "Django": "5.2.19"}


def require_sdks_installed(sdk: str) -> None:
    """Fail (never skip) when the pinned SDKs are not installed: CI installs them."""
    if sdk == "treblle-django":
        for package, version in PYTHON_PINS.items():
            try:
                installed = metadata.version(package)
            except metadata.PackageNotFoundError:
                pytest.fail(f"PyPI {package} {version} is not installed: run `make test` (make dev)", pytrace=False)
            if installed != version:
                pytest.fail(f"PyPI {package} is {installed}, the tests pin {version}: run `make dev`", pytrace=False)
        return
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: the Node SDK tests need Node.js 20", pytrace=False)
    for package, version in NODE_PINS.items():
        manifest = NODE_DIR / "node_modules" / package / "package.json"
        if not manifest.exists():
            pytest.fail(f"tests/sdk/node/node_modules has no {package}: {INSTALL_HINT}", pytrace=False)
        installed = json.loads(manifest.read_text())["version"]
        if installed != version:
            pytest.fail(f"npm {package} is {installed}, the tests pin {version}: {INSTALL_HINT}", pytrace=False)


# ---- the traffic ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One HTTP call the test client makes to the app."""

    customer: str | None  # who Footfall should attribute it to (None: unidentified)
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None


def send(base_url: str, calls: list[Call], pace: float) -> None:
    with httpx.Client(base_url=base_url, timeout=15, trust_env=False) as client:
        for number, call in enumerate(calls):
            if number and pace:
                time.sleep(pace)
            response = client.request(call.method, call.path, headers=call.headers, params=call.params, json=call.json)
            assert response.status_code < 400, f"the test app refused {call}: {response.status_code} {response.text}"


# ---- processes ------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            return ""
        return f"--- last lines of {self.name} ({self.log}) ---\n" + "\n".join(text)

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}\n{self.tail()}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start(name: str, argv: list[str], log: Path, cwd: Path, env: dict[str, str]) -> Process:
    handle = log.open("w")
    try:
        popen = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT)
    finally:
        handle.close()
    return Process(name, popen, log)


def wait_until(what: str, ready: Callable[[], Any], process: Process, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.check_alive()
        value = ready()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready within {timeout}s\n{process.tail()}")


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def start_app(sdk: str, footfall_url: str, api_key: str, workdir: Path) -> tuple[Process, str]:
    """Start the app instrumented with `sdk`; returns it and its base URL."""
    env = base_env()
    # Every app runs in a non-UTC zone: Footfall must still store UTC.
    env.update(TZ="America/New_York", FOOTFALL_URL=footfall_url)
    log = workdir / f"{sdk}.log"
    if sdk == "treblle-django":
        port = free_port()
        env.update(
            DJANGO_SETTINGS_MODULE="sdkapp.settings",
            PYTHONPATH=os.pathsep.join([str(DJANGO_DIR), str(DJANGO_REDIRECT_DIR)]),
            TREBLLE_SDK_TOKEN=f"sdk-token-{sdk}",
            TREBLLE_API_KEY=api_key,  # the Django SDK's API_KEY is sent as project_id
            PYTHONUNBUFFERED="1",
        )
        argv = [sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"]
        app = start(sdk, argv, log, DJANGO_DIR, env)
        wait_until(f"the Django app on port {port}", lambda: port_open(port), app)
    else:
        env.update(TREBLLE_API_KEY=f"sdk-token-{sdk}", TREBLLE_PROJECT_ID=api_key, PORT="0")
        app = start(sdk, ["node", "-r", str(NODE_PRELOAD), f"app-{sdk}.js"], log, NODE_DIR, env)

        def listening_port() -> int | None:
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("LISTENING "):
                    return int(line.split()[1])
            return None

        port = wait_until(f"the {sdk} app", listening_port, app)
    return app, f"http://127.0.0.1:{port}"


# ---- Footfall, through its command line -----------------------------------------------------


@dataclass
class Footfall:
    db: Path | str  # a SQLite file, or a PostgreSQL database's URL

    def run(self, *args: str) -> str:
        from conftest import footfall  # in this process: the command line, polled every quarter second

        done = footfall(*args, db=self.db, check=False, env=base_env())
        if done.returncode != 0:
            raise AssertionError(f"footfall {' '.join(args)} exited {done.returncode}:\n{done.stderr}{done.stdout}")
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--format", "json"))

    def customers(self) -> list[dict]:
        return self.json("customers")

    def requests(self, customer: str) -> list[dict]:
        return self.json("requests", "--customer", customer, "--limit", "1000")

    def start_collector(self, workdir: Path) -> tuple[Process, str]:
        port = free_port()
        argv = [sys.executable, "-m", "footfall", "--db", str(self.db), "collect", "--host", "127.0.0.1", "--port", str(port)]
        collector = start("footfall collector", argv, workdir / "collector.log", ROOT, base_env())
        url = f"http://127.0.0.1:{port}"
        wait_until("the Footfall collector", lambda: http_ok(url + "/healthz"), collector)
        return collector, url + "/"


def implied_total(customers: list[dict]) -> float | None:
    """All of the API's requests, unidentified ones included, as the shares imply."""
    for row in customers:
        if row.get("share"):
            return row["requests"] * 100.0 / row["share"]
    return None


# ---- one run: the stack, the traffic, and what Footfall recorded ----------------------------


@dataclass
class Recorded:
    sdk: SdkApp
    footfall: Footfall
    calls: list[Call]
    sent_from: datetime  # UTC, by the test's own clock
    sent_until: datetime
    customers: list[dict]
    requests: dict[str, list[dict]]  # customer id -> Footfall's request history (newest first)
    workdir: Path

    def request(self, customer: str, path: str) -> dict:
        matches = [r for r in self.requests[customer] if r["path"] == path]
        assert len(matches) == 1, f"{customer} should have one call to {path}, Footfall has: {self.requests[customer]}"
        return matches[0]


def run_traffic(sdk_name: str, calls: list[Call], workdir: Path, db: str | None = None):
    """Start collector + app, send `calls`, wait for Footfall to have them all, stop everything.
    Into `db` (a PostgreSQL URL) when given, else a SQLite file in `workdir`.

    A generator for a yield-fixture: yields a `Recorded`, and cleans up on any failure."""
    require_sdks_installed(sdk_name)
    sdk = SDK_APPS[sdk_name]
    footfall = Footfall(db or workdir / "footfall.db")
    api_key = f"ff-{sdk_name}-project"
    footfall.run("apis", "add", f"{sdk_name} test API", "--api-key", api_key)

    expected = {}
    for call in calls:
        if call.customer:
            expected[call.customer] = expected.get(call.customer, 0) + 1
    processes: list[Process] = []
    try:
        collector, footfall_url = footfall.start_collector(workdir)
        processes.append(collector)
        app, app_url = start_app(sdk_name, footfall_url, api_key, workdir)
        processes.append(app)

        sent_from = datetime.now(timezone.utc)
        send(app_url, calls, sdk.pace)
        sent_until = datetime.now(timezone.utc)

        # Wait (polling the CLI) until every customer's calls are in ...
        customers = wait_for_customers(footfall, expected, processes, sdk_name, len(calls))
        # ... and the unidentified ones, which show only in the shares' denominator. If the
        # shares never add up, go on after a grace period: the share test will say so.
        grace = time.monotonic() + 10
        while implied_total(customers) is None or round(implied_total(customers)) != len(calls):
            if time.monotonic() > grace:
                break
            time.sleep(0.25)
            customers = footfall.customers()
    finally:
        for process in reversed(processes):
            process.stop()

    yield Recorded(
        sdk=sdk,
        footfall=footfall,
        calls=calls,
        sent_from=sent_from,
        sent_until=sent_until,
        customers=customers,
        requests={customer: footfall.requests(customer) for customer in expected},
        workdir=workdir,
    )


def wait_for_customers(footfall: Footfall, expected: dict[str, int], processes: list[Process], sdk_name: str, sent: int) -> list[dict]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        customers = footfall.customers()
        if {row["customer_id"]: row["requests"] for row in customers} == expected:
            return customers
        if time.monotonic() > deadline:
            logs = "\n".join(p.tail() for p in processes)
            raise AssertionError(
                f"{sdk_name}: Footfall did not get all {sent} calls within {WAIT_SECONDS}s.\n"
                f"expected customers {expected} (+{sent - sum(expected.values())} unidentified calls)\n"
                f"footfall customers: {json.dumps(customers, indent=1)}\n{logs}"
            )
        for process in processes:
            process.check_alive()
        time.sleep(0.25)


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time from Footfall; it must say it is UTC (Z or +00:00)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0, f"{text!r} is not marked UTC"
    return parsed
