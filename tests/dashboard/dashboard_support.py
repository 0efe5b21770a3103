"""Helpers for the dashboard tests: the real app script under Streamlit's AppTest, on a real
database (a SQLite file; a PostgreSQL database for what its planner does) filled through the
collector's ingest path (tests/loading.py: payload -> record -> RecordWriter)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.access import SHARED_ANALYST
from db.connection import connect
from db.writes.apis import add_api
from db.writes.edits import save_favorite
from factories import payload
from loading import load
from ui import data

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
SHOP_KEY, BILLING_KEY = "shop-key", "billing-key"
API_IDS = {SHOP_KEY: 1, BILLING_KEY: 2}  # as Dashboard registers them
HOUR = 3600


@dataclass
class Call:
    """One API call as a test describes it; `payload()` turns it into what an SDK sends."""

    user: str | None
    hours_ago: float = 1
    api: str = SHOP_KEY
    status: int = 200
    load_ms: float = 20.0
    name: str | None = None  # a display name sent with the call (treblle-metadata user-name)
    method: str = "GET"
    url: str = "https://api.example.com/api/items/42"
    user_agent: str | None = None
    ip: str = "81.2.69.142"  # GB
    body: dict | None = None
    extra_headers: dict = field(default_factory=dict)

    def ts(self, now: float) -> int:
        return int(now - self.hours_ago * HOUR)

    def payload(self, now: float) -> dict:
        headers = dict(self.extra_headers)
        user_id = self.user
        if self.name is not None:
            headers["treblle-metadata"] = f'{{"user-id": "{self.user}", "user-name": "{self.name}"}}'
            user_id = None
        stamp = datetime.fromtimestamp(self.ts(now), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        extra = {"user_agent": self.user_agent} if self.user_agent else {}
        return payload(
            user_id=user_id, timestamp=stamp, api_key=self.api, status=self.status, load_time=self.load_ms,
            method=self.method, url=self.url, request_headers=headers, body=self.body, ip=self.ip, **extra,
        )


class Dashboard:
    """A test database with two APIs, and the app run against it."""

    def __init__(self, path: Path | str):
        self.path = path
        self.conn = connect(path)
        add_api(self.conn, "Shop API", SHOP_KEY)
        add_api(self.conn, "Billing API", BILLING_KEY)
        self.now = time.time()
        self.calls: list[Call] = []

    def ingest(self, *calls: Call) -> None:
        load(self.conn, [c.payload(self.now) for c in calls], received_at=self.now)
        self.calls.extend(calls)

    def star(self, *customer_ids: str) -> None:
        """Mark customers as favorites, as the star on a profile does (sign-in off: for everyone)."""
        for customer_id in customer_ids:
            save_favorite(self.conn, SHARED_ANALYST, customer_id, True)

    def app(self, page: str | None = None, **query: str) -> AppTest:
        """The app after its first run, on `page` (e.g. "pages/customer.py") with these query params."""
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update(query)
        at.run()
        if page is not None:
            at.switch_page(page)
            at.query_params.update(query)
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at


@pytest.fixture
def dash(db_path, monkeypatch) -> Dashboard:
    yield from _dashboard(db_path, monkeypatch)


@pytest.fixture
def pg_dash(pg_cluster, monkeypatch) -> Dashboard:
    """A Dashboard on PostgreSQL alone (for what its planner does with the reads)."""
    url = pg_cluster.create_database(template=pg_cluster.template)
    try:
        yield from _dashboard(url, monkeypatch)
    finally:
        pg_cluster.drop_database(url)


def _dashboard(db_path: Path | str, monkeypatch):
    monkeypatch.setenv("FOOTFALL_DB", str(db_path))
    st.cache_data.clear()
    board = Dashboard(db_path)
    yield board
    board.conn.close()
    data.close_connections()
    st.cache_data.clear()


def metric(at: AppTest, label: str):
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; metrics: {[m.label for m in at.metric]}"
    return found[0]


def table(at: AppTest, key: str):
    """The pandas frame a keyed st.dataframe shows."""
    return at.dataframe(key=key).value


def select_row(at: AppTest, key: str, row: int) -> AppTest:
    """Select one row of a keyed st.dataframe, as a click would, and rerun."""
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return at.run()


# What Streamlit's frontend (1.67's StreamlitMarkdown) draws as other than text in a markdown source,
# however the source escapes it: ":material/" becomes an icon before the markdown is parsed, then, in
# the parsed text (backslash escapes undone), icons, its logo, emoji shortcodes (a time's digits are none),
# typographic arrows and bare links are rewritten. tests/browser/test_literal_text.py sees it in Chromium.
_REWRITTEN_SOURCE = re.compile(r":material/|(?<!\\):[a-z][a-z0-9-]*\[")
_REWRITTEN_TEXT = re.compile(r":material_\w+:|:streamlit:|:(?!\d)[\w+-]+:|(?:^|\s)(?:<->|->|<-|--|>=|<=|~=)(?:\s|$)"
                             r"|(?i:https?://|www\.)")


def live_markup(source: str) -> list[str]:
    """The pieces of a markdown source Streamlit would draw as icons, emoji, colours, arrows or links."""
    return _REWRITTEN_SOURCE.findall(source) + _REWRITTEN_TEXT.findall(re.sub(r"\\(.)", r"\1", source))


def markdown_sources(at: AppTest) -> list[str]:
    """Every piece of markdown the run drew, main area and sidebar: text elements, alerts, metric
    labels and values, toggle labels, page links' labels."""
    texts = [e.value for elements in (at.markdown, at.caption, at.title, at.header, at.subheader, at.error, at.info,
                                      at.warning, at.success) for e in elements]
    texts += [text for m in at.metric for text in (m.label, m.value)]
    return texts + [t.label for t in at.toggle] + [link.proto.label for link in at.get("page_link")]
