"""The alerts page in headless Chromium, on `footfall up` whose collector fires a rule by itself:
the rule listed, its firing with the customer's link, delivered to a real webhook; screenshot kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_support import _stop_group, browser, open_page, page, screenshot  # noqa: F401 (browser, page: fixtures)
from playwright.sync_api import expect

from alerts.alerts_support import HOUR, Webhook, in_hour, send
from conftest import ROOT, footfall, free_port, wait_for_http

pytestmark = pytest.mark.browser
SCREENS = Path("/tmp/screens")
SHOP_KEY = "shop-key"


@pytest.fixture
def alerting(tmp_path):
    """`footfall up` on a database with one API and two rules; its collector checks every second
    and posts to a real webhook. Yields (dashboard URL, collector URL, webhook)."""
    db = tmp_path / "footfall.db"
    footfall("apis", "add", "Shop API", "--api-key", SHOP_KEY, db=db)
    footfall("alerts", "add", "--api", "Shop API", "--kind", "error_rate", "--threshold", "0.2", db=db)
    footfall("alerts", "add", "--api", "Shop API", "--kind", "p95", "--threshold", "2000", db=db)
    webhook = Webhook()
    port, collector_port = free_port(), free_port()
    env = {**os.environ, "FOOTFALL_DB": str(db), "FOOTFALL_DASHBOARD_PORT": str(port),
           "FOOTFALL_COLLECTOR_PORT": str(collector_port), "FOOTFALL_ALERT_WEBHOOK": webhook.url,
           "FOOTFALL_ALERT_INTERVAL": "1"}
    with open(tmp_path / "up.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "footfall", "up"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", process, timeout=60)
        wait_for_http(f"http://127.0.0.1:{collector_port}/healthz", process, timeout=60)
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{collector_port}", webhook
    finally:
        _stop_group(process)
        webhook.close()


def test_the_alerts_page_shows_the_rules_and_a_firing_the_collector_sent(alerting, page, tmp_path):
    dashboard, collector, webhook = alerting
    hour = int(time.time()) // HOUR * HOUR
    # The same traffic in the last complete hour and in this one: whichever the collector's checks
    # judge (the clock may turn the hour meanwhile), acme had 40% errors in it and globex 3%.
    send(collector, [call for start in (hour - HOUR, hour) for call in (
        *in_hour("acme", start, 30, errors=12, name="Acme Corp"), *in_hour("globex", start, 30, errors=1, name="Globex"))],
        api_key=SHOP_KEY)
    [body] = webhook.wait_for(1)
    assert body["footfall"]["customer_id"] == "acme"

    open_page(page, dashboard + "/alerts")

    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    # Each rule's line is bold (the firings' table may name the rule too, in a cell of its grid).
    for rule in ("Error rate ≥ 20% errors · every customer on Shop API",
                 "Slow responses (p95) ≥ 2,000 ms · every customer on Shop API"):
        expect(page.get_by_role("strong").filter(has_text=rule)).to_be_visible()
    expect(page.get_by_text("1 open firing", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    shot = screenshot(page, "alerts_page")
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, tmp_path / shot.name)
    shutil.copy(shot, SCREENS / shot.name)
    assert webhook.attempts == 1  # still one firing for the episode, however many checks since
