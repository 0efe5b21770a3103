"""An error in the dashboard reaches the analyst as a short notice: no traceback, no file names, no
internal messages."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from browser_support import browser, open_page, page  # noqa: F401 (fixtures)
from playwright.sync_api import expect

from conftest import ROOT, free_port, stop, wait_for_http

pytestmark = pytest.mark.browser


def test_a_failing_page_shows_no_traceback(tmp_path, page):
    broken = tmp_path / "footfall.db"
    broken.write_bytes(b"this is not an SQLite database, it is a file of text " * 100)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, "FOOTFALL_DB": str(broken)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/_stcore/health", process, timeout=60)
        open_page(page, url)
        expect(page.get_by_test_id("stException")).to_have_count(1)
        text = page.inner_text("body")
        for internal in ("Traceback", 'File "', "sqlite3", "DatabaseError", str(ROOT), "not a database"):
            assert internal not in text, internal
    finally:
        stop(process)
