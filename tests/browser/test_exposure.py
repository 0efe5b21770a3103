"""Where the dashboard listens: loopback unless chosen, and never off loopback without a sign-in
(Footfall's own, or a proxy's the operator vouches for), however it is started; and never with a
sign-in set up only in part, which would otherwise start it without one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from browser_support import browser, open_page, page  # noqa: F401 (fixtures)
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from conftest import ROOT, footfall, footfall_process, free_port, stop, wait_for_http

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_db(tmp_path):
    db = tmp_path / "footfall.db"
    footfall("demo", "--requests", "200", db=db)
    return db


def serve(args: list[str], env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, *args, "--server.port" if "streamlit" in args else "--port", str(port)],
                               cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(url + "/_stcore/health", process, timeout=60)
    return process, url


@pytest.mark.parametrize("command", [["dashboard", "--host", "0.0.0.0"], ["up", "--dashboard-host", "0.0.0.0"]])
def test_footfall_refuses_to_serve_the_dashboard_off_loopback_without_sign_in(demo_db, command):
    refused = footfall_process(*command, db=demo_db, check=False)  # were it not refused, it would serve
    assert refused.returncode == 1
    assert "refusing to start" in refused.stderr and "without sign-in" in refused.stderr
    assert "FOOTFALL_AUTH_PROXY=1" in refused.stderr


def test_sign_in_with_nobody_allowed_is_refused_too(demo_db):
    env = {**os.environ, "FOOTFALL_OIDC_METADATA_URL": "http://127.0.0.1:1/.well-known/openid-configuration",
           "FOOTFALL_OIDC_CLIENT_ID": "footfall", "FOOTFALL_OIDC_CLIENT_SECRET": "secret"}
    refused = footfall_process("dashboard", db=demo_db, check=False, env=env)
    assert refused.returncode == 1 and "FOOTFALL_ALLOWED_USERS is empty" in refused.stderr


SIGN_IN_SETTINGS = ("FOOTFALL_OIDC_METADATA_URL", "FOOTFALL_OIDC_CLIENT_ID", "FOOTFALL_OIDC_CLIENT_SECRET",
                    "FOOTFALL_ALLOWED_USERS", "FOOTFALL_OIDC_ASSUME_VERIFIED")
ONLY_THE_PROVIDER = {"FOOTFALL_OIDC_METADATA_URL": "http://127.0.0.1:9/.well-known/openid-configuration"}


@pytest.mark.parametrize("command", [["dashboard"], ["up"]])
def test_a_sign_in_set_up_in_part_refuses_to_start_naming_what_is_missing(demo_db, command):
    env = {name: value for name, value in os.environ.items() if name not in SIGN_IN_SETTINGS}
    env.update(ONLY_THE_PROVIDER, FOOTFALL_DASHBOARD_PORT=str(free_port()), FOOTFALL_COLLECTOR_PORT=str(free_port()))
    refused = footfall_process(*command, db=demo_db, check=False, env=env)  # were it not refused, it would serve
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "footfall: refusing to start: sign-in is only partly set up: FOOTFALL_OIDC_METADATA_URL is set but "
        "FOOTFALL_OIDC_CLIENT_ID, FOOTFALL_OIDC_CLIENT_SECRET and FOOTFALL_ALLOWED_USERS are not; set them for "
        "sign-in, or unset FOOTFALL_OIDC_METADATA_URL for a dashboard without sign-in"]


def test_a_dashboard_started_by_hand_with_a_sign_in_set_up_in_part_shows_no_data(demo_db, monkeypatch):
    for name in SIGN_IN_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FOOTFALL_DB", str(demo_db))
    monkeypatch.setenv("FOOTFALL_ALLOWED_USERS", "@corp.example")  # an allow-list, and no provider
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert [title.value for title in app.title] == ["Sign-in is not set up"]
    assert "FOOTFALL_OIDC_METADATA_URL" in app.error[0].value
    assert not app.metric and not app.dataframe and not app.sidebar.children


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the IPv4 sockets listening on `port`, from /proc/net/tcp."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, local_port = local.split(":")
        if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
            found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_a_plain_streamlit_run_listens_on_loopback_only(demo_db):
    process, url = serve(["-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true"],
                         {"FOOTFALL_DB": str(demo_db)})
    try:
        assert listening_addresses(int(url.rsplit(":", 1)[1])) == {"127.0.0.1"}
    finally:
        stop(process)


def test_a_dashboard_started_off_loopback_by_hand_shows_no_data(demo_db, page):
    process, url = serve(["-m", "streamlit", "run", "streamlit_app.py", "--server.address", "0.0.0.0",
                          "--server.headless", "true"], {"FOOTFALL_DB": str(demo_db)})
    try:
        open_page(page, url)
        expect(page.get_by_role("heading", name="This dashboard is not served here")).to_be_visible()
        expect(page.get_by_test_id("stMetric")).to_have_count(0)
        expect(page.get_by_test_id("stSidebar")).to_have_count(0)
    finally:
        stop(process)


def test_behind_a_proxy_that_signs_in_the_operator_may_open_it(demo_db, page):
    process, url = serve(["-m", "footfall", "--db", str(demo_db), "dashboard", "--host", "0.0.0.0"],
                         {"FOOTFALL_AUTH_PROXY": "1"})
    try:
        open_page(page, url)
        expect(page.get_by_role("heading", name="Home", exact=True)).to_be_visible()
    finally:
        stop(process)
