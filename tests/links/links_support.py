"""Helpers for the customer link tests: two APIs on a real SQLite file, traffic loaded through the
collector's ingest path (tests/loading.py; kept in the test to count from), links made through
db.writes.links with the key the dashboard uses, and the real app under AppTest with everything it
rendered as text."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest
import streamlit as st
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from core.links import expires_at, token_link_id
from core.periods import DAY, HOUR, floor_hour
from db.writes.apis import add_api
from db.writes.links import create_link, customer_db_id, signing_key
from factories import API_KEY, payload
from loading import load
from ui import data

APP = str(ROOT / "streamlit_app.py")
BILLING_KEY = "billing-key"
SHOP_API, BILLING_API = "Test API", "Billing API"  # the conftest's API, and a second one


@dataclass(frozen=True)
class Call:
    """One API call as the test sends it; hours_ago places it before the test's clock."""

    user: str | None
    name: str | None = None  # a display name sent along (treblle-metadata user-name)
    hours_ago: float = 1.0
    api_key: str = API_KEY
    method: str = "GET"
    path: str = "/api/items/42"
    status: int = 200
    load_ms: float = 20.0
    body: dict = field(default_factory=dict)

    def ts(self, now: float) -> int:
        return int(now - self.hours_ago * HOUR)

    def payload(self, now: float) -> dict:
        stamp = datetime.fromtimestamp(self.ts(now), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        headers, user_id = {}, self.user
        if self.name is not None:
            headers["treblle-metadata"] = json.dumps({"user-id": self.user, "user-name": self.name})
            user_id = None
        return payload(user_id=user_id, timestamp=stamp, method=self.method, url=f"https://api.example.com{self.path}",
                       status=self.status, load_time=self.load_ms, api_key=self.api_key, request_headers=headers,
                       body=self.body or None)

    def endpoint(self) -> str:
        """How Footfall names the call's endpoint (numbers become {id})."""
        return f"{self.method} " + "/".join("{id}" if p.isdigit() else p for p in self.path.split("/"))


class Traffic:
    """Calls stored through the collector's ingest path, and the clock they were placed by."""

    def __init__(self, db: Path | str):
        self.db = db
        self.now = time.time()
        self.calls: list[Call] = []

    def send(self, *calls: Call) -> None:
        assert load(self.db, [c.payload(self.now) for c in calls]) == len(calls)
        self.calls.extend(calls)

    def since(self, preset_days: float) -> int:
        """Where a preset period of that many days starts (it ends with the current hour)."""
        return floor_hour(self.now) + HOUR - int(preset_days * DAY)

    def of(self, user: str, api_key: str | None = None, days: float = 30) -> list[Call]:
        """The user's calls in the preset period of `days` days, to one API or (None) every API."""
        start = self.since(days)
        return [c for c in self.calls if c.user == user and (api_key is None or c.api_key == api_key)
                and c.ts(self.now) >= start]


@pytest.fixture
def billing(conn) -> str:
    """A second API beside the conftest's, registered before the collector starts."""
    add_api(conn, BILLING_API, BILLING_KEY)
    return BILLING_KEY


@pytest.fixture
def traffic(conn, billing, db_path: Path) -> Traffic:
    return Traffic(db_path)


@pytest.fixture
def app_env(db_path: Path, monkeypatch):
    """The app reads this test's database, with no cached reads from another test."""
    monkeypatch.setenv("FOOTFALL_DB", str(db_path))
    monkeypatch.delenv("FOOTFALL_LINK_SECRET", raising=False)
    st.cache_data.clear()
    data.close_connections()
    yield
    data.close_connections()
    st.cache_data.clear()


def api_id(conn, name: str) -> int:
    return conn.execute("SELECT id FROM apis WHERE name = ?", (name,)).fetchone()[0]


def make_link(conn, db_path: Path, customer: str, api: str | None = None, *, days: int = 7, bodies: bool = False,
              now: float | None = None, key: bytes | None = None) -> str:
    """A link's token, made as the dashboard and the CLI make them (the key beside the database)."""
    made_at = time.time() if now is None else now
    return create_link(conn, customer_db_id(conn, customer), key or signing_key(db_path), api_id=None if api is None
                       else api_id(conn, api), expires_at=expires_at(days, made_at), show_bodies=bodies, now=made_at)


def link_id(token: str, db_path: Path) -> int:
    """The id of the link a token names (its signed payload)."""
    found = token_link_id(token, signing_key(db_path))
    assert found is not None
    return found


def open_link(token: str | None, **more_query: str) -> AppTest:
    """The app as a browser opening `<dashboard>/?link=<token>` (plus any other query)."""
    at = AppTest.from_file(APP, default_timeout=60)
    if token is not None:
        at.query_params["link"] = token
    at.query_params.update(more_query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def rendered_text(at: AppTest) -> str:
    """Everything the run sent to the browser, as text: every element's message (titles, captions,
    metrics with their help, labels, code) and the rows of every table and chart."""
    parts = []
    for root in (at.main, at.sidebar):
        for node in _nodes(root):
            proto = getattr(node, "proto", None)
            if proto is not None:
                parts.append(str(proto))
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    for chart in at.get("vega_lite_chart"):
        parts += [dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data).to_string() for d in chart.proto.datasets]
    return "\n".join(parts)


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; metrics: {[m.label for m in at.metric]}"
    return found[0]


def table_with(at: AppTest, column: str):
    """The one table on the page with this column, as pandas."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]
