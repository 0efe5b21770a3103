"""Browser fixtures and helpers: `python -m footfall up` on free ports with a demo database, and
headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect, sync_playwright

from conftest import ROOT, footfall, free_port, stop, wait_for_http
from db.connection import connect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
VIEWPORT = {"width": 1400, "height": 1000}
DEMO_REQUESTS, DEMO_SEED = 4000, 3
TIMEOUT_MS = 20_000  # Streamlit reruns on a busy two-core machine can take seconds

expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class RunningFootfall:
    url: str  # the dashboard, e.g. http://127.0.0.1:PORT
    db: Path


@pytest.fixture(scope="module")
def footfall_up(tmp_path_factory) -> RunningFootfall:
    """Demo traffic through the real ingest path, then dashboard and collector as `make run` starts them."""
    yield from run_footfall_up(tmp_path_factory.mktemp("footfall"), DEMO_REQUESTS)


def run_footfall_up(home: Path, demo_requests: int) -> Iterator[RunningFootfall]:
    """`footfall demo` with this many requests into home/footfall.db, then `footfall up` on free
    ports, until the generator is closed."""
    db = home / "footfall.db"
    footfall("demo", "--requests", str(demo_requests), "--seed", str(DEMO_SEED), db=db)
    port = free_port()
    env = {**os.environ, "FOOTFALL_DB": str(db),
           "FOOTFALL_DASHBOARD_PORT": str(port), "FOOTFALL_COLLECTOR_PORT": str(free_port())}
    log_path = home / "up.log"
    with open(log_path, "wb") as log:
        # Its own process group, so that teardown stops `up` and the dashboard and collector it started.
        process = subprocess.Popen([sys.executable, "-m", "footfall", "up"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/_stcore/health", process, timeout=60)
    except Exception as error:
        _stop_group(process)
        raise RuntimeError(f"footfall up did not start; its log:\n{log_path.read_text()[-3000:]}") from error
    try:
        yield RunningFootfall(url, db)
    finally:
        _stop_group(process)


def oidc_provider(*users: dict) -> Iterator[str]:
    """oidc-provider-mock on a free port with these users to pick on its authorization form; yields
    its URL until the generator is closed."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port),
         *[arg for user in users for arg in ("--user-claims", json.dumps(user))]],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/.well-known/openid-configuration", process)
        yield url
    finally:
        stop(process)


def on_db(footfall: RunningFootfall, function, *args):
    """function(conn, *args) on the running Footfall's database."""
    conn = connect(footfall.db)
    try:
        return function(conn, *args)
    finally:
        conn.close()


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the whole group (`up`, the dashboard, the collector), then SIGKILL whatever is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def browser() -> Browser:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Page:
    """A fresh browser context per test: a new Streamlit session, as a new tab or a reload starts."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def record_outside_requests(context: BrowserContext, url: str) -> list[str]:
    """The list, filled as the context's pages load, of every request to a host other than `url`'s
    (a favicon, a font, a script from a CDN...), each one aborted: none leaves the machine."""
    own = urlsplit(url).netloc
    outside: list[str] = []

    def check(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", check)
    context.on("page", lambda page: page.on(  # WebSockets pass no route: the page's own must be the dashboard's
        "websocket", lambda socket: None if urlsplit(socket.url).netloc == own else outside.append(socket.url)))
    return outside


# --- Finding things on a Streamlit page -----------------------------------------------------------

HEADER_HEIGHT = ROW_HEIGHT = 35  # st.dataframe's grid, in CSS pixels
ROW_MARKER_X = 16  # the middle of the selection checkbox column
ARTIFACTS = ROOT / "tests" / "artifacts"


def keyed(page: Page, key: str) -> Locator:
    """The element of a widget or container with this key (Streamlit's class st-key-<key>)."""
    return page.locator(".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip()))


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    settled(page)


def settled(page: Page) -> None:
    """Wait until the app's script has finished its run and the browser has drawn what it sent
    (elements still loading show as skeletons for a moment after the run)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)


def select_row(page: Page, table_key: str, row: int) -> None:
    """Tick a row's selection checkbox. The grid is drawn on a canvas, so this clicks where the box is."""
    grid = keyed(page, table_key).locator(".dvn-scroller")
    grid.click(position={"x": ROW_MARKER_X, "y": HEADER_HEIGHT + ROW_HEIGHT * row + ROW_HEIGHT // 2})


def column(page: Page, table_key: str, name: str) -> Locator:
    """The cells of one column of a keyed st.dataframe, from the grid's accessible table, which holds
    the rows in view (and a few more), not every row."""
    table = keyed(page, table_key)
    header = table.locator("th[role=columnheader]").filter(has_text=re.compile(rf"^{re.escape(name)}$"))
    index = header.get_attribute("aria-colindex")  # waits for the grid to draw its header
    return table.locator(f"td[aria-colindex='{index}']")


def screenshot(page: Page, name: str) -> Path:
    """The whole page, however tall, as tests/artifacts/<name>.png."""
    height = max(VIEWPORT["height"], page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight"))
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.mouse.move(VIEWPORT["width"] - 20, height - 20)  # an empty corner: no hover effects in the picture
    settled(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, animations="disabled")
    page.set_viewport_size(VIEWPORT)
    return path
