"""Cached access to db.dashboard for the pages.

Reads are cached with st.cache_data, keyed on the database file, a cheap data version (the newest
request id plus the dashboard's own edit counter) and the read's arguments: a request the
collector commits shows on the next rerun, and nothing is read twice while nothing changed.
Connections come from a small pool per database file, one connection per script run at a time.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any

import polars as pl
import streamlit as st

from core.charts import request_chart
from core.figures import graph_frame, peak
from db import dashboard
from db.config import settings
from db.connection import connect

_POOL_SIZE = 8
_pools: dict[str, queue.SimpleQueue] = {}
_pools_lock = threading.Lock()
_VERSION_KEY = "_footfall_data_version"


def db_path() -> str:
    return str(settings().db_path.resolve())


@contextlib.contextmanager
def connection(path: str | None = None) -> Iterator[Any]:
    path = path or db_path()
    with _pools_lock:
        pool = _pools.setdefault(path, queue.SimpleQueue())
    try:
        conn = pool.get_nowait()
    except queue.Empty:
        conn = connect(path)
    try:
        yield conn
    finally:
        if pool.qsize() < _POOL_SIZE:
            pool.put(conn)
        else:
            conn.close()


def close_connections() -> None:
    """Close every pooled connection (tests call this between databases)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        while True:
            try:
                pool.get_nowait().close()
            except queue.Empty:
                break


def refresh_version() -> tuple:
    """Read the data version once per script run; every cached read of the run uses it."""
    with connection() as conn:
        version = dashboard.data_version(conn)
    st.session_state[_VERSION_KEY] = version
    return version


def latest_version() -> tuple:
    """The data version now, without remembering it for this run's reads."""
    with connection() as conn:
        return dashboard.data_version(conn)


def version() -> tuple:
    return st.session_state.get(_VERSION_KEY) or refresh_version()


@st.cache_data(show_spinner=False, max_entries=1000, ttl=6 * 3600)
def _cached_read(path: str, data_version: tuple, name: str, args: tuple) -> Any:
    with connection(path) as conn:
        return getattr(dashboard, name)(conn, *args)


def read(name: str, *args: Any) -> Any:
    """db.dashboard.<name>(conn, *args), cached until the data changes."""
    if not hasattr(dashboard, name):
        raise AttributeError(f"db.dashboard has no read {name!r}")
    return _cached_read(db_path(), version(), name, args)


def read_past(scope, name: str, *args: Any) -> Any:
    """db.dashboard.<name>(conn, *args) about the past period `scope`, cached until a request for
    that period arrives (db.dashboard.period_fingerprint), however much else the collector stores."""
    path = db_path()
    with connection(path) as conn:
        fingerprint = dashboard.period_fingerprint(conn, scope)
    return _cached_read(path, ("period", scope, fingerprint), name, args)


@st.cache_data(show_spinner=False, max_entries=200)
def request_chart_spec(wide: pl.DataFrame, bucket_seconds: int, since: int, until: int) -> dict:
    """The request graph's Vega-Lite spec (core.charts.request_chart), built once per graph: Altair
    takes tens of milliseconds to build and check a chart."""
    return request_chart(graph_frame(wide), bucket_seconds, since, until, peak(wide)).to_dict(validate=False)


def write(name: str, *args: Any) -> None:
    """db.dashboard.<name>(conn, *args): an edit that bumps the data version."""
    with connection() as conn:
        getattr(dashboard, name)(conn, *args)
    refresh_version()
