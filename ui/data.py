"""The pages' access to the database: cached reads and the dashboard's edits.

`read(fn, *args)` runs a read-model function, a public function of a module of db/reads/ (that
folder is the list of read models), as fn(conn, *args), cached with st.cache_data under the
function, its arguments, the database file and a cheap data version (the newest request id plus
the dashboard's own edit counter): a request the collector commits shows on the next rerun, and
nothing is read twice while nothing changed. Reads run on read-only connections, from a small pool
per database (db/backends/read_pools.py), one connection per script run at a time.

`write(fn, *args)` runs an edit of db.writes.edits on a connection of its own; only those can be written
through it, and none of them can be read through the cache.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import streamlit as st

from core.charts import request_chart
from core.figures import graph_frame, peak
from core.scope import Scope
from db.backends.read_pools import ServerPool, SqlitePool, read_pool
from db.connection import connect, database
from db.reads import freshness
from db.writes import edits
from services.settings import settings

READ_MODELS = "db.reads"  # the package whose modules are the read models, each and every one
_POOL_SIZE = 8
_pools: dict[str, SqlitePool | ServerPool] = {}
_pools_lock = threading.Lock()
_VERSION_KEY = "_footfall_data_version"


def db_path() -> str:
    """The database the dashboard reads (FOOTFALL_DB): a file as an absolute path, a PostgreSQL
    URL as it is."""
    return str(database(settings().db_path))


@contextlib.contextmanager
def connection(path: str | None = None) -> Iterator[Any]:
    """A read-only connection from the pool of the database (created and migrated first, the
    first time the database is asked for)."""
    path = path or db_path()
    with _pools_lock:
        pool = _pools.get(path)
        if pool is None:
            connect(path).close()  # the schema, before the first read-only connection
            pool = _pools[path] = read_pool(path, _POOL_SIZE)
    with pool.connection() as conn:
        yield conn


def close_connections() -> None:
    """Close every pooled connection (tests call this between databases)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def refresh_version() -> tuple:
    """Read the data version once per script run; every cached read of the run uses it."""
    with connection() as conn:
        version = freshness.data_version(conn)
    st.session_state[_VERSION_KEY] = version
    return version


def latest_version() -> tuple:
    """The data version now, without remembering it for this run's reads."""
    with connection() as conn:
        return freshness.data_version(conn)


def version() -> tuple:
    """This run's data version (read once per run, by refresh_version)."""
    return st.session_state.get(_VERSION_KEY) or refresh_version()


def _name(fn: Callable, allowed: Callable[[str], bool], what: str) -> str:
    """fn's module and name, once fn is known to be a public function of a module whose name is
    allowed."""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    name = getattr(fn, "__name__", "")
    if module is None or not allowed(module.__name__) or name.startswith("_") or getattr(module, name, None) is not fn:
        raise TypeError(f"{getattr(fn, '__qualname__', fn)!r} is not {what}")
    return f"{module.__name__}.{name}"


def read_model_name(fn: Callable) -> str:
    """fn's module and name, once fn is known to be a read-model function: a public function of a
    module of db/reads/. TypeError for anything else (a figure builder, an edit, the writer)."""
    return _name(fn, lambda module: module.startswith(READ_MODELS + "."),
                 f"a read-model function (a public function of a module of {READ_MODELS})")


@st.cache_data(show_spinner=False, max_entries=1000, ttl=6 * 3600)
def _cached_read(path: str, data_version: tuple, name: str, args: tuple, _fn: Callable) -> Any:
    """fn's result, keyed by its name (not the function object: _fn is left out of the key)."""
    with connection(path) as conn:
        return _fn(conn, *args)


def read(fn: Callable, *args: Any) -> Any:
    """fn(conn, *args) for a read-model function fn, cached until the data changes."""
    return _cached_read(db_path(), version(), read_model_name(fn), args, fn)


def read_past(scope: Scope, fn: Callable, *args: Any) -> Any:
    """fn(conn, *args) about the past period `scope`, cached until a request for that period
    arrives (db.reads.freshness.period_fingerprint), however much else the collector stores."""
    name = read_model_name(fn)
    path = db_path()
    with connection(path) as conn:
        fingerprint = freshness.period_fingerprint(conn, scope)
    return _cached_read(path, ("period", scope, fingerprint), name, args, fn)


@st.cache_data(show_spinner=False, max_entries=200)
def request_chart_spec(wide: pl.DataFrame, bucket_seconds: int, since: int, until: int) -> dict:
    """The request graph's Vega-Lite spec (core.charts.request_chart), built once per graph: Altair
    takes tens of milliseconds to build and check a chart."""
    return request_chart(graph_frame(wide), bucket_seconds, since, until, peak(wide)).to_dict(validate=False)


def write(fn: Callable, *args: Any) -> Any:
    """fn(conn, *args) for an edit fn of db.writes.edits, which bumps the data version; returns what
    fn returns (a new customer link's token)."""
    _name(fn, lambda module: module == edits.__name__, f"an edit of {edits.__name__}")
    conn = connect(db_path())
    try:
        result = fn(conn, *args)
    finally:
        conn.close()
    refresh_version()
    return result
