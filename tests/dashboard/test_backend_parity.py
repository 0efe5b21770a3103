"""One figure on either engine. A SQLite database is seeded once (demo traffic on four APIs, the
signals, analysts' favorites, names, descriptions and widget choices, alert rules and their firings,
customer links), copied into PostgreSQL with `footfall copy`, and every read model of db/reads is
asked the same questions of both, over a grid: every API and all of them, times the periods a page
offers (presets, all time, the previous 30 days, a custom period with edge hours), times a few
customers, endpoints and links, plus the variants of sorting, paging, searching and filtering.
Every answer must be the same, figure for figure. This is what lets the page and command-line tests
run on SQLite alone."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import itertools
import math
import pkgutil
import time
from contextlib import closing

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import db.reads
from conftest import footfall
from core.access import SHARED_ANALYST
from core.keys import key_hash
from core.links import SharedLink, expires_at
from core.periods import DAY, HOUR, Period, floor_hour, preset_period
from core.quiet import QuietRule
from core.scope import Scope
from core.usage import month_start
from db.connection import connect
from db.operations.prune import prune
from db.reads.history import HISTORY_SORTS, HistoryFilter
from db.reads.customers import CUSTOMER_SORTS
from db.reads.usage import USAGE_SORTS
from db.reads.quiet import quiet_customers
from db.writes.apis import add_api
from db.writes.edits import add_alert_rule, save_description, save_display_name, save_favorite, save_widget_choices
from db.writes.links import create_link, signing_key
from db.writes.quotas import set_billing_excludes, set_quota
from factories import payload
from loading import load

ANALYST = "ana@example.com"
BURST_KEY = "burst-api-key"
LOOSE = QuietRule(min_drop=0.2, silence_factor=1.5, min_baseline=1)  # the demo's small customers judged too
NOT_A_CUSTOMER = "nobody-has-this-id"
# Not compared, and why: each says what differs by design.
NOT_COMPARED = {
    "freshness.data_version": "a cache key made of what each engine counts (the newest request id on SQLite,"
                              " the batches committed on PostgreSQL): its figures differ by design",
}
# Rows in no order of their own, compared as sets, and why their order is no figure.
UNORDERED = {
    "history.request_bodies": "the own page joins them to its latest requests by id",
    "standing.peers": "the set a customer is ranked among (core/standing.py)",
}


def read_models() -> dict[str, object]:
    """Every public function of db/reads that reads a database (its first parameter a connection)."""
    found = {}
    for module in pkgutil.iter_modules(db.reads.__path__):
        loaded = importlib.import_module(f"db.reads.{module.name}")
        for name, function in inspect.getmembers(loaded, inspect.isfunction):
            parameters = list(inspect.signature(function).parameters)
            if function.__module__ == loaded.__name__ and not name.startswith("_") and parameters[:1] == ["conn"]:
                found[f"{module.name}.{name}"] = function
    return found


@pytest.fixture(scope="module")
def engines(tmp_path_factory, pg_cluster):
    """The seeded SQLite file and its copy in PostgreSQL: (connection, connection, now, grid)."""
    db = tmp_path_factory.mktemp("parity") / "footfall.db"
    footfall("demo", "--requests", "4000", "--seed", "11", db=db)
    now = int(time.time())
    with closing(connect(db)) as conn:
        grid = questions(conn, now)
        edit(conn, db, grid, now)
    footfall("signals", db=db)
    footfall("alerts", "check", db=db)
    target = pg_cluster.create_database()
    footfall("copy", "--to", target, db=db)
    sqlite_conn, pg_conn = connect(db), connect(target)
    yield sqlite_conn, pg_conn, grid
    sqlite_conn.close()
    pg_conn.close()
    pg_cluster.drop_database(target)


def edit(conn, db, grid: dict[str, list], now: int) -> None:
    """What analysts do to the data: favorites, names, descriptions, widget choices, rules, links; and
what an operator does: a prune."""
    busiest, middle, smallest = grid["customer_id"][:3]
    for customer in (busiest, smallest):
        save_favorite(conn, ANALYST, customer, True)
    save_favorite(conn, SHARED_ANALYST, middle, True)
    save_display_name(conn, middle, "Globex (EU)")
    save_description(conn, busiest, "Renews in March", editor=ANALYST)
    save_widget_choices(conn, ANALYST, {"top_customer": False, "gone_quiet": False})
    api = grid["api_id"][1]
    add_alert_rule(conn, api, None, "spike", 1.5, created_by=ANALYST)
    add_alert_rule(conn, api, None, "error_rate", 0.05, created_by=ANALYST)
    add_alert_rule(conn, api, busiest, "p95", 1.0, created_by=ANALYST)
    # A burst of errors in the last complete hour, on an API of its own, for the rules to fire on.
    add_api(conn, "Burst API", BURST_KEY)
    [(burst,)] = conn.execute("SELECT id FROM apis WHERE name = 'Burst API'").fetchall()
    load(conn, [payload(user_id="burst", api_key=BURST_KEY, status=500 if i % 3 == 0 else 200,
                        timestamp=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(floor_hour(now) - HOUR + 60 * i)))
                for i in range(40)])
    add_alert_rule(conn, burst, None, "error_rate", 0.2, created_by=ANALYST)
    # Quotas (an API's default, a customer's own) for the usage reads and the quota firings; 429s unbilled.
    set_quota(conn, api, None, 5)
    set_quota(conn, api, busiest, 1000)
    set_billing_excludes(conn, api, ("5xx", "429"))
    # The raw requests of the first ten days pruned, the cutoff within an hour: the history counts what is left.
    prune(conn, floor_hour(now) - 20 * DAY + 1800, pause=0)
    key = signing_key(db)
    for cid, api_id, bodies in ((grid["cid"][0], None, True), (grid["cid"][1], api, False)):
        token = create_link(conn, cid, key, api_id=api_id, expires_at=expires_at(7, now), show_bodies=bodies, now=now)
        grid["token_hash"].insert(0, key_hash(token))


def questions(conn, now: int) -> dict[str, list]:
    """What each parameter of a read model is asked with: the first value of each is the one the
    variants of the others go with."""
    apis = [None, *(i for (i,) in conn.execute("SELECT id FROM apis ORDER BY id"))]
    hour = floor_hour(now)
    periods = [preset_period(name, now) for name in ("30d", "24h", "7d", "90d", "all")]
    periods += [preset_period("30d", now).previous(), Period(hour - 9 * DAY - 5 * HOUR, hour - 2 * DAY - 7 * HOUR)]
    ranked = conn.execute("SELECT id, external_id FROM customers ORDER BY requests DESC, id").fetchall()
    quiet = quiet_customers(conn, None, now, LOOSE)["customer_id"].to_list()
    assert quiet, "the demo traffic has no customer gone quiet"
    picked = [ranked[0], next(row for row in ranked if row[1] == quiet[0]), ranked[-1]]  # the busiest, a quiet one
    cids = [cid for cid, _ in picked]
    endpoints = conn.execute("SELECT e.id, e.method, e.name FROM endpoints e JOIN endpoint_totals t"
                             " ON t.endpoint_id = e.id GROUP BY e.id, e.method, e.name"
                             " ORDER BY SUM(t.requests) DESC, e.id").fetchall()
    endpoints = [endpoints[0], endpoints[len(endpoints) // 2], endpoints[-1]]
    requests = conn.execute("SELECT id, ts FROM requests WHERE customer_id = ? ORDER BY ts DESC LIMIT 3",
                            (cids[0],)).fetchall()
    buckets = [HOUR, DAY]
    return {
        # The grid: every combination of these a read model takes.
        "scope": [Scope(api, period) for api in apis for period in periods],
        "period": periods,
        "api_id": apis,
        "cid": cids,
        "customer_id": [external for _, external in picked] + [NOT_A_CUSTOMER],
        "endpoint_id": [endpoint_id for endpoint_id, _, _ in endpoints],
        "link": [SharedLink(0, cid, api, bodies, now + DAY) for cid in cids[:2] for api, bodies in
                 ((None, True), (apis[1], False), (apis[2], True))],
        "analyst": [SHARED_ANALYST, ANALYST],
        "now": [now],
        "month": [month_start(now), month_start(month_start(now) - 1)],
        "bucket_seconds": buckets,
        "token_hash": [key_hash("not a token anyone was given")],  # and each link's, once made
        "request_id": [request_id for request_id, _ in requests] + [0],
        "text": [f"{method} {name}" for _, method, name in endpoints] + [endpoints[0][2].upper(), "GET /nope"],
        "ids": [[request_id for request_id, _ in requests]],
        "times": [[ts for _, ts in requests]],
        "limit": [10],
        # Variants: each asked once more, with the first values of the grid.
        "sort": [None, *CUSTOMER_SORTS, *HISTORY_SORTS, *USAGE_SORTS],
        "descending": [None, False],
        "search": [None, "a", "Z"],
        "page": [None, 2],
        "page_size": [None, 7],
        "offset": [None, 5],
        "filters": [None, HistoryFilter(methods=("GET",)), HistoryFilter(statuses=("4xx", "500")),
                    HistoryFilter(min_load_ms=20.0, search="api")],
        "rule": [LOOSE, QuietRule(), QuietRule(min_baseline=5)],
        "customers": [None, cids],
        "max_age": [None],
        "webhook_set": [None, False],
    }


GRID = {"scope", "period", "api_id", "cid", "customer_id", "endpoint_id", "link", "analyst", "now", "bucket_seconds",
        "token_hash", "request_id", "text", "ids", "times", "month"}


def calls(function, grid: dict[str, list]):
    """Every keyword arguments the function is asked with: each combination of its grid parameters
    (and of those it requires), with the first value of its others (None: the function's default);
    then each other value of those, on the first combination."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    unknown = [p.name for p in parameters if p.name not in grid]
    assert not unknown, f"{function.__name__}: add a question for {unknown} to the grid"
    crossed = [p.name for p in parameters if p.name in GRID or p.default is p.empty]
    others = {p.name: grid[p.name][0] for p in parameters if p.name not in crossed and grid[p.name][0] is not None}
    combinations = [{**dict(zip(crossed, values)), **others}
                    for values in itertools.product(*(grid[name] for name in crossed))]
    yield from combinations
    for p in parameters:
        if p.name not in crossed:
            for value in grid[p.name][1:]:
                yield {**combinations[0], p.name: value}


def test_every_read_model_gives_the_same_figures_on_postgresql_as_on_sqlite(engines):
    sqlite_conn, pg_conn, grid = engines
    asked = 0
    for name, function in read_models().items():
        if name in NOT_COMPARED:
            continue
        for kwargs in calls(function, grid):
            try:
                on_sqlite = function(sqlite_conn, **kwargs)
            except ValueError as refused:  # a sort key this read does not take: PostgreSQL must refuse it too
                with pytest.raises(ValueError, match=str(refused)):
                    function(pg_conn, **kwargs)
                continue
            same(on_sqlite, function(pg_conn, **kwargs), f"{name}({kwargs})", ordered=name not in UNORDERED)
            asked += 1
    assert asked > 2000


def test_the_seed_gives_every_read_model_something_to_show(engines):
    """Figures that are all empty would agree on either engine and show nothing."""
    sqlite_conn, _, grid = engines

    def shows_something(answer) -> bool:
        return not answer.is_empty() if isinstance(answer, pl.DataFrame) else answer not in (None, 0, [], {})

    empty = [name for name, function in read_models().items() if name not in NOT_COMPARED and not any(
        shows_something(function(sqlite_conn, **kwargs)) for kwargs in calls(function, grid))]
    assert empty == [], empty


def same(on_sqlite, on_postgres, where: str, ordered: bool = True) -> None:
    """The two answers agree, figure for figure (floats to 1e-9: sums may add up in another order)."""
    if isinstance(on_sqlite, pl.DataFrame):
        assert isinstance(on_postgres, pl.DataFrame), where
        try:
            assert_frame_equal(on_sqlite, on_postgres, check_row_order=ordered, check_dtypes=False, rel_tol=1e-9,
                               abs_tol=1e-9)
        except AssertionError as differ:
            raise AssertionError(f"{where}: {differ}") from None
    elif dataclasses.is_dataclass(on_sqlite) and not isinstance(on_sqlite, type):
        assert type(on_postgres) is type(on_sqlite), where
        for field in dataclasses.fields(on_sqlite):
            same(getattr(on_sqlite, field.name), getattr(on_postgres, field.name), f"{where}.{field.name}")
    elif isinstance(on_sqlite, dict):
        assert isinstance(on_postgres, dict) and list(on_sqlite) == list(on_postgres), (where, on_sqlite, on_postgres)
        for key, value in on_sqlite.items():
            same(value, on_postgres[key], f"{where}[{key!r}]")
    elif isinstance(on_sqlite, (list, tuple)):
        assert isinstance(on_postgres, (list, tuple)) and len(on_sqlite) == len(on_postgres), (where, on_sqlite,
                                                                                                on_postgres)
        for index, (left, right) in enumerate(zip(on_sqlite, on_postgres)):
            same(left, right, f"{where}[{index}]")
    elif isinstance(on_sqlite, float) or isinstance(on_postgres, float):
        assert on_sqlite is not None and on_postgres is not None, (where, on_sqlite, on_postgres)
        assert math.isclose(on_sqlite, on_postgres, rel_tol=1e-9, abs_tol=1e-9), (where, on_sqlite, on_postgres)
    else:
        assert on_sqlite == on_postgres, (where, on_sqlite, on_postgres)
