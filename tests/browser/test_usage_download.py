"""The Usage page in Chromium: the CSV download opens as the same rows the month's usage holds."""

from __future__ import annotations

import csv
import time

import pytest
from browser_support import browser, footfall_up, keyed, open_page, page  # noqa: F401 (fixtures)
from playwright.sync_api import expect

from core.usage import month_start, month_text
from db.connection import connect
from db.reads.usage import monthly_usage

pytestmark = pytest.mark.browser


def test_the_csv_download_opens_as_the_months_rows(footfall_up, page):
    open_page(page, f"{footfall_up.url}/usage")
    expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()
    with page.expect_download() as download:
        keyed(page, "usage_csv").get_by_role("button").click()
    this_month = month_start(time.time())
    assert download.value.suggested_filename == f"usage-{month_text(this_month)}.csv"
    with open(download.value.path(), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    conn = connect(footfall_up.db)
    try:
        expected = monthly_usage(conn, None, this_month)
    finally:
        conn.close()
    assert rows and len(rows) == expected.height
    assert [(r["api"], r["customer_id"], int(r["requests"]), int(r["billable_requests"]), int(r["errors"]))
            for r in rows] == list(expected.select("api", "customer_id", "requests", "billable_requests",
                                                   "errors").iter_rows())
