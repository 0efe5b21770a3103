"""The benchmark database: synthetic traffic generated with numpy and bulk-loaded into the real
schema, its rollups filled from the raw rows as db/writes/records.py's RecordWriter would have.

The same DataSpec and end always give the same rows (the seed drives every draw, in a fixed order);
cached_database keeps each built database under a name made of the spec and GENERATOR_VERSION.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from core import demo
from core.access import SHARED_ANALYST
from core.ai_agent import ai_agent_of
from core.demo import COUNTRIES, DEMO_APIS
from core.detail_codec import TRAINING_REQUESTS, UNIDENTIFIED, Packer
from core.device import device_of
from core.latency import latency_bucket
from core.periods import DAY, HOUR
from core.threat import NO_AUTHORIZATION, SQL_INJECTION
from db.connection import connect
from db.schema.request_log import LOOKUPS, NO_THREAT_REASONS, REQUEST_LOG_COLUMNS, THREAT_LEVELS, load_us, lookup_key
from db.writes.activity import rebuild_activity
from db.writes.apis import add_api
from db.writes.details import add_dictionary, newest_dictionary
from db.writes.edits import save_favorite
from db.writes.endpoints import rebuild_endpoint_rollups

# Bump when the generated data changes, so cached databases are rebuilt.
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class DataSpec:
    """The size of a benchmark database: requests from customers over days, and the random seed."""

    requests: int
    customers: int
    days: int
    seed: int

    @property
    def file_name(self) -> str:
        """The cached database's name: the spec and GENERATOR_VERSION."""
        return f"dashboard-r{self.requests}-c{self.customers}-d{self.days}-s{self.seed}-g{GENERATOR_VERSION}.db"


def database_bytes(db: Path) -> int:
    """The size of the database on disk, its -wal and -shm files included."""
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if not p.name.endswith(".json"))


def cached_database(directory: Path, spec: DataSpec, *, rebuild: bool = False,
                    max_age: float | None = None) -> tuple[Path, dict]:
    """The database for spec, built unless a finished one is cached (its .json written last)."""
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / spec.file_name
    meta = db.with_name(db.name + ".json")
    if db.exists() and meta.exists() and not rebuild:
        info = json.loads(meta.read_text())
        if max_age is None or time.time() - info["end"] < max_age:
            connect(db).close()  # brings the schema up to date (a newer migration's indexes)
            return db, {**info, "fresh": False}
    print(f"building {db.name} ...", flush=True)
    started = time.perf_counter()
    end = int(time.time())
    scratch = db.with_name(db.name + ".building")
    for path in (db, meta, scratch, *directory.glob(scratch.name + "-*"), *directory.glob(db.name + "-*")):
        path.unlink(missing_ok=True)
    build_database(scratch, spec, end)
    scratch.rename(db)
    info = {"end": end, "built_seconds": round(time.perf_counter() - started, 1)}
    meta.write_text(json.dumps(info))
    return db, {**info, "fresh": True}


# The APIs, their share of the traffic, SDK and median load time; (method, endpoint) pairs with weights.
API_WEIGHTS = [0.4, 0.3, 0.2, 0.1]
API_SDKS = ["django", "express", "laravel", "node"]
API_MEDIAN_MS = [120.0, 35.0, 60.0, 200.0]
API_ENDPOINTS: list[list[tuple[str, str, float]]] = [
    [("GET", "/api/payments", 20), ("POST", "/api/payments", 12), ("GET", "/api/payments/{id}", 25),
     ("POST", "/api/payments/{id}/refunds", 3), ("GET", "/api/invoices", 8), ("GET", "/api/invoices/{id}", 12),
     ("PUT", "/api/customers/{id}/cards", 4), ("DELETE", "/api/customers/{id}/cards", 1), ("GET", "/api/payouts", 5)],
    [("GET", "/v1/products", 25), ("GET", "/v1/products/{id}", 35), ("GET", "/v1/categories", 8),
     ("GET", "/v1/search", 15), ("POST", "/v1/products/{id}/reviews", 3), ("PATCH", "/v1/inventory/{id}", 4),
     ("POST", "/v1/products", 2)],
    [("POST", "/oauth/token", 40), ("GET", "/api/users/{id}", 25), ("POST", "/api/sessions", 15),
     ("DELETE", "/api/sessions/{id}", 5), ("GET", "/api/users/{id}/roles", 10), ("POST", "/api/password/reset", 1)],
    [("POST", "/api/shipments", 20), ("GET", "/api/shipments/{id}", 30), ("GET", "/api/shipments/{id}/tracking", 30),
     ("GET", "/api/rates", 15), ("PUT", "/api/labels/{id}", 5)],
]
STATUSES = [(200, 80.0), (201, 7.0), (204, 3.0), (101, 0.05), (301, 0.4), (304, 1.2), (400, 1.8), (401, 1.2),
            (403, 0.6), (404, 2.2), (409, 0.3), (422, 1.0), (429, 0.5), (500, 0.7), (502, 0.25), (503, 0.35)]
CLIENT_ERRORS = [400, 404, 422]
CITIES = {"US": "New York", "GB": "London", "DE": "Berlin", "FR": "Paris", "IN": "Mumbai", "JP": "Tokyo",
          "BR": "São Paulo", "CA": "Toronto", "AU": "Sydney", "NL": "Amsterdam"}
# The demo's user agents, each group with its weight.
IDENTIFIED_UAS = [(demo.SERVER_CLIENT_UAS, 45), (demo.DESKTOP_UAS, 25), (demo.MOBILE_UAS, 14), (demo.TABLET_UAS, 3),
                  (demo.DEV_TOOL_UAS, 8), (demo.ASSISTANT_UAS, 2.5), (("",), 2.5)]
UNIDENTIFIED_UAS = [(demo.AI_AGENT_UAS, 12), (demo.SCANNER_UAS, 3), (demo.DESKTOP_UAS, 35), (demo.MOBILE_UAS, 25),
                    (demo.SERVER_CLIENT_UAS, 20), (demo.DEV_TOOL_UAS, 5)]
UNIDENTIFIED_SHARE = 0.10
BURST_SHARE = 0.02  # identified requests packed into a few hours of the biggest customers: visible peaks
ZIPF_EXPONENT = 1.05
FAVORITE_RANKS = (1, 2, 5, 12, 40, 150, 600, 2500, 9000)  # by all-time size; as many as there are customers
CHUNK = 200_000
COUNTRY_NAMES = list(COUNTRIES)
PROFILE_COLUMNS = ("device", "os", "browser", "ai_agent", "user_agent")  # what enrichment makes of a user agent


def _weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


COUNTRY_WEIGHTS = _weights([COUNTRIES[c][1] for c in COUNTRY_NAMES])


def _user_agent_table(groups) -> tuple[np.ndarray, list[tuple]]:
    """Each user agent once with its weight and what the real enrichment makes of it."""
    agents, weights = [], []
    for uas, weight in groups:
        for ua in uas:
            agents.append(ua)
            weights.append(weight / len(uas))
    profiles = []
    for ua in agents:
        device = device_of(ua or None)
        profiles.append((device.kind, device.os, device.browser, ai_agent_of(ua or None), ua or None))
    return _weights(weights), profiles


def _pick(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    return rng.choice(len(weights), size=n, p=weights)


def _rhythm_ts(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, offset_hours: np.ndarray) -> np.ndarray:
    """Times in [lo, hi): busier in office hours of the caller's zone and on weekdays."""
    t = lo + (rng.random(lo.size) * (hi - lo)).astype(np.int64)
    local_hour = rng.choice(24, size=lo.size, p=_weights([2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 11, 10, 9,
                                                          7, 6, 5, 4, 3, 3, 2]))
    moved = t - t % DAY + ((local_hour - offset_hours) % 24) * HOUR + rng.integers(0, HOUR, lo.size)
    t = np.where((moved >= lo) & (moved < hi), moved, t)
    weekend = ((t // DAY + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    earlier = t - 2 * DAY
    quieter = weekend & (rng.random(lo.size) < 0.5) & (earlier >= lo)
    return np.where(quieter, earlier, t)


# --- Generating: every step draws from the one generator, in this order -------------------------


def build_database(path: Path, spec: DataSpec, end: int) -> None:
    """Generate the raw requests (numpy, deterministic per seed) and load them with bulk SQL; then
    fill the rollups from them. Customer ids follow first appearance, request ids time, as ingest."""
    rng = np.random.default_rng(spec.seed)
    start = end - spec.days * DAY
    customers = _customers(rng, spec.customers, start, end)
    traffic = _who_made_each_request(rng, customers, spec.requests, start, end)
    external = _external_ids(rng, spec.customers)
    names = _display_names(rng, spec.customers)
    requests = _the_rest_of_each_request(rng, traffic, customers.buggy)
    _load(path, traffic, requests, external, names, customers.size_rank)


@dataclass(frozen=True)
class _Customers:
    """One entry per customer (by index): its size, its window of activity, its APIs, its home."""

    size_rank: np.ndarray  # 1: the biggest
    weight: np.ndarray  # its share of the identified traffic, Zipf-like by size_rank
    join: np.ndarray
    leave: np.ndarray
    primary: np.ndarray  # API index
    second: np.ndarray  # API index, -1: none
    third: np.ndarray  # API index, -1: none
    home_country: np.ndarray  # index into COUNTRY_NAMES
    tz_offset: np.ndarray  # hours
    buggy: np.ndarray  # integrations with many client errors


def _customers(rng: np.random.Generator, n_cust: int, start: int, end: int) -> _Customers:
    """Zipf-like sizes, a window of activity (some join late, some leave), 1-3 APIs."""
    size_rank = rng.permutation(n_cust) + 1
    late = rng.random(n_cust) < 0.4
    join = np.where(late, start + (rng.random(n_cust) * (end - start) * 0.97).astype(np.int64), start)
    leaves = rng.random(n_cust) < 0.15
    leave = np.where(leaves, join + (rng.random(n_cust) * (end - join)).astype(np.int64), end)
    leave = np.maximum(leave, np.minimum(join + 6 * HOUR, end))
    primary = _pick(rng, n_cust, _weights(API_WEIGHTS))
    step = rng.integers(1, 4, n_cust)
    second = np.where(rng.random(n_cust) < 0.25, (primary + step) % 4, -1)
    third = np.where((second >= 0) & (rng.random(n_cust) < 0.2), (primary + step % 3 + 1) % 4, -1)
    home_country = _pick(rng, n_cust, COUNTRY_WEIGHTS)
    return _Customers(
        size_rank=size_rank, weight=size_rank.astype(float) ** -ZIPF_EXPONENT, join=join, leave=leave,
        primary=primary, second=second, third=third, home_country=home_country,
        tz_offset=np.array([round(COUNTRIES[c][0]) for c in COUNTRY_NAMES])[home_country],
        buggy=rng.random(n_cust) < 0.05,
    )


@dataclass(frozen=True)
class _Traffic:
    """Who made each request, in ingest order (by time): one entry per request."""

    identified: np.ndarray  # bool
    customer: np.ndarray  # customer index, -1: unidentified
    api: np.ndarray  # API index
    ts: np.ndarray
    country: np.ndarray  # index into COUNTRY_NAMES
    cid_of: np.ndarray  # per customer index: its customers.id, in order of its first request

    @property
    def customer_ids(self) -> np.ndarray:
        """The requests' customer_id column: customers.id, None when unidentified."""
        column = np.where(self.identified, self.cid_of[np.maximum(self.customer, 0)], 0).astype(object)
        column[~self.identified] = None
        return column


def _who_made_each_request(rng: np.random.Generator, customers: _Customers, n_req: int, start: int,
                           end: int) -> _Traffic:
    """Everyone once, then by size; ~10% unidentified; bursts for the biggest."""
    n_unidentified = round(n_req * UNIDENTIFIED_SHARE)
    n_identified = n_req - n_unidentified
    cust, api, ts = _identified_requests(rng, customers, n_identified)
    u_api = _pick(rng, n_unidentified, _weights(API_WEIGHTS))
    u_ts = _rhythm_ts(rng, np.full(n_unidentified, start), np.full(n_unidentified, end),
                      rng.integers(-8, 10, n_unidentified))
    u_country = _pick(rng, n_unidentified, COUNTRY_WEIGHTS)
    # Drawn after the unidentified requests, which keeps the seed's sequence of draws.
    country = np.where(rng.random(n_identified) < 0.9, customers.home_country[cust],
                       _pick(rng, n_identified, COUNTRY_WEIGHTS))

    identified = np.concatenate([np.ones(n_identified, dtype=bool), np.zeros(n_unidentified, dtype=bool)])
    cust_all = np.concatenate([cust, np.full(n_unidentified, -1)])
    api_all = np.concatenate([api, u_api])
    ts_all = np.concatenate([ts, u_ts])
    country_all = np.concatenate([country, u_country])
    order = np.argsort(ts_all, kind="stable")  # ingest order: request ids follow time
    identified, cust_all, api_all, ts_all, country_all = (
        a[order] for a in (identified, cust_all, api_all, ts_all, country_all))

    # Customer ids in order of first request, as RecordWriter hands them out.
    n_cust = customers.size_rank.size
    first_position = np.full(n_cust, n_req)
    np.minimum.at(first_position, cust_all[identified], np.nonzero(identified)[0])
    cid_of = np.empty(n_cust, dtype=np.int64)
    cid_of[np.argsort(first_position, kind="stable")] = np.arange(1, n_cust + 1)
    return _Traffic(identified, cust_all, api_all, ts_all, country_all, cid_of)


def _identified_requests(rng: np.random.Generator, customers: _Customers,
                         n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The identified requests' customer index, API index and time, in no particular order."""
    n_cust = customers.size_rank.size
    cust = np.concatenate([np.arange(n_cust), _pick(rng, n - n_cust, _weights(customers.weight))])
    burst = np.zeros(n, dtype=bool)
    burst[n_cust:] = rng.random(n - n_cust) < BURST_SHARE
    biggest = np.argsort(customers.size_rank)[: min(30, n_cust)]
    cust[burst] = rng.choice(biggest, size=int(burst.sum()))
    lo, hi = customers.join[cust], customers.leave[cust]
    ts = _rhythm_ts(rng, lo, hi, customers.tz_offset[cust])
    burst_hour = lo + (rng.random(n) * (hi - lo - HOUR)).astype(np.int64)
    burst_hour -= burst_hour % (4 * DAY)  # a few burst hours per customer
    burst_hour = np.clip(burst_hour + 14 * HOUR, lo, np.maximum(lo, hi - HOUR))
    ts = np.where(burst, burst_hour + rng.integers(0, HOUR, n), ts)
    draw = rng.random(n)
    second, third = customers.second[cust], customers.third[cust]
    api = np.where((second >= 0) & (draw > 0.75), second, customers.primary[cust])
    api = np.where((third >= 0) & (draw > 0.92), third, api)
    return cust, api, ts


def _external_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Customer IDs as services send them: mostly opaque ids, some e-mails, some numbers."""
    kind = rng.random(n)
    token = rng.integers(0, 16**12, n)
    return [f"usr_{t:012x}" if k < 0.7 else f"dev{i}@client{t % 9973}.example.com" if k < 0.85 else str(100000 + i)
            for i, (k, t) in enumerate(zip(kind.tolist(), token.tolist()))]


def _display_names(rng: np.random.Generator, n: int) -> list[str | None]:
    first = ["Blue", "North", "Silver", "Bright", "Iron", "Red", "Green", "Swift", "Clear", "Golden", "Quantum",
             "Pacific", "Atlas", "Summit", "Harbor", "Cedar", "Maple", "Falcon", "Nova", "Vertex"]
    second = ["Labs", "Logistics", "Health", "Retail", "Foods", "Systems", "Analytics", "Commerce", "Travel", "Media"]
    a, b, named = rng.integers(0, len(first), n), rng.integers(0, len(second), n), rng.random(n) < 0.85
    return [f"{first[x]} {second[y]} {i}" if keep else None
            for i, (x, y, keep) in enumerate(zip(a.tolist(), b.tolist(), named.tolist()))]


@dataclass(frozen=True)
class _Requests:
    """The rest of each request (in ingest order). Paths and IPs are put together chunk by chunk
    while loading (path_id, ip_prefix, octet), which keeps millions of strings out of memory."""

    method: np.ndarray
    endpoint: np.ndarray
    status: np.ndarray
    load_ms: np.ndarray
    size: np.ndarray
    threat_level: np.ndarray
    threat_reasons: np.ndarray
    query: np.ndarray
    profile: np.ndarray  # index into profiles
    profiles: dict[str, np.ndarray]  # PROFILE_COLUMNS: each user agent's device, os, browser, ...
    ip_prefix: np.ndarray
    octet: np.ndarray
    path_id: np.ndarray


def _the_rest_of_each_request(rng: np.random.Generator, traffic: _Traffic, buggy: np.ndarray) -> _Requests:
    """Endpoint, status, load time, size, threats, user agent and IP, by API and customer."""
    n_req = traffic.ts.size
    method, endpoint = _endpoints(rng, traffic.api)
    status_codes = np.array([s for s, _ in STATUSES])
    status = status_codes[_pick(rng, n_req, _weights([w for _, w in STATUSES]))]
    client_error = traffic.identified & buggy[np.maximum(traffic.customer, 0)] & (rng.random(n_req) < 0.15)
    status = np.where(client_error, rng.choice(CLIENT_ERRORS, n_req), status)
    load = np.exp(rng.normal(0, 0.6, n_req)) * np.array(API_MEDIAN_MS)[traffic.api]
    load = np.where(rng.random(n_req) < 0.01, load * rng.uniform(5, 30, n_req), load)
    load = np.round(np.where(status >= 500, load * 3, load), 3)
    size = np.exp(rng.normal(7.5, 1.2, n_req)).astype(np.int64).astype(object)
    size[rng.random(n_req) < 0.03] = None
    attack = rng.random(n_req) < 0.012
    no_auth = ~attack & (status < 400) & (rng.random(n_req) < 0.015)
    threat = np.where(attack, 2, np.where(no_auth, 1, 0))
    query = np.array(["", "page=2&limit=50", "id=1' OR '1'='1"], dtype=object)[
        np.where(attack, 2, (rng.random(n_req) < 0.15).astype(int))]
    profile, profiles = _user_agents(rng, traffic.identified)
    return _Requests(
        method=method, endpoint=endpoint, status=status, load_ms=load, size=size,
        threat_level=np.array(["low", "medium", "high"], dtype=object)[threat],
        threat_reasons=np.array(["[]", json.dumps([NO_AUTHORIZATION]), json.dumps([f"{SQL_INJECTION} in query"])],
                                dtype=object)[threat],
        query=query, profile=profile, profiles=profiles, ip_prefix=_ip_prefixes(rng, traffic.country),
        octet=rng.integers(1, 255, n_req), path_id=rng.integers(1, 200_000, n_req),
    )


def _endpoints(rng: np.random.Generator, api: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each request's method and endpoint, from its API's table."""
    method = np.empty(api.size, dtype=object)
    endpoint = np.empty(api.size, dtype=object)
    for a, table in enumerate(API_ENDPOINTS):
        rows = np.nonzero(api == a)[0]
        pick = _pick(rng, rows.size, _weights([w for *_, w in table]))
        method[rows] = np.array([m for m, _, _ in table], dtype=object)[pick]
        endpoint[rows] = np.array([e for _, e, _ in table], dtype=object)[pick]
    return method, endpoint


def _user_agents(rng: np.random.Generator, identified: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each request's user agent (an index into the profiles) and every user agent's profile."""
    identified_w, identified_profiles = _user_agent_table(IDENTIFIED_UAS)
    unidentified_w, unidentified_profiles = _user_agent_table(UNIDENTIFIED_UAS)
    n_req = identified.size
    profile = np.where(identified, _pick(rng, n_req, identified_w),
                       len(identified_profiles) + _pick(rng, n_req, unidentified_w))
    columns = zip(*(identified_profiles + unidentified_profiles))
    return profile, {name: np.array(values, dtype=object) for name, values in zip(PROFILE_COLUMNS, columns)}


def _ip_prefixes(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Each request's IP address up to its last octet, from its country's prefixes."""
    ip_prefix = np.empty(country.size, dtype=object)
    for c, name in enumerate(COUNTRY_NAMES):
        options = np.array(COUNTRIES[name][2], dtype=object)
        rows = np.nonzero(country == c)[0]
        ip_prefix[rows] = options[rng.integers(0, len(options), rows.size)]
    return ip_prefix


# --- Loading --------------------------------------------------------------------------------------


def _load(path: Path, traffic: _Traffic, requests: _Requests, external: list[str], names: list[str | None],
          size_rank: np.ndarray) -> None:
    """The requests and their details into a new database at path, then every rollup from them,
    then the favorites (customers of FAVORITE_RANKS)."""
    conn = connect(path)
    try:
        for name, key in DEMO_APIS:
            add_api(conn, name, key)
        conn.execute("PRAGMA journal_mode = OFF")  # a failed build is thrown away whole
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1048576")
        _insert_requests(conn, traffic, requests)
        fill_request_details(conn)
        conn.execute("CREATE TEMP TABLE customer_names (id INTEGER PRIMARY KEY, external_id TEXT, name TEXT)")
        conn.executemany("INSERT INTO customer_names VALUES (?, ?, ?)",
                         zip(traffic.cid_of.tolist(), external, names))
        fill_rollups(conn)
        for rank in FAVORITE_RANKS:
            if rank <= size_rank.size:
                save_favorite(conn, SHARED_ANALYST, external[int(np.argmax(size_rank == rank))], True)
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def _insert_requests(conn, traffic: _Traffic, requests: _Requests) -> None:
    """The raw rows in chunks, ids 1, 2, ... in ingest order, in request_log's layout (db/schema/request_log.py:
    the strings in the lookup tables, numbered here as they first appear). The request_log table's indexes
    are dropped first and made again once every row is in, with the schema's own statements."""
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'request_log' AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    api_ids = np.arange(1, 5)  # DEMO_APIS, as add_api numbered them
    sdk_of = np.array(API_SDKS, dtype=object)
    country_codes = np.array(COUNTRY_NAMES, dtype=object)
    city_of = np.array([CITIES.get(c) for c in COUNTRY_NAMES], dtype=object)
    customer_ids = traffic.customer_ids
    profiles = requests.profiles
    lookups: dict[str, dict[tuple, int]] = {table: {} for table in LOOKUPS}
    n_req = traffic.ts.size
    conn.execute("BEGIN")
    for lo_row in range(0, n_req, CHUNK):
        s = slice(lo_row, min(lo_row + CHUNK, n_req))
        endpoints = requests.endpoint[s].tolist()
        paths = [e.replace("{id}", str(n)) for e, n in zip(endpoints, requests.path_id[s].tolist())]
        ips = [f"{p}.{o}" for p, o in zip(requests.ip_prefix[s].tolist(), requests.octet[s].tolist())]
        profile = requests.profile[s]
        api, country = traffic.api[s], traffic.country[s]
        values = {
            "routes": list(zip(requests.method[s].tolist(), endpoints)),
            "agents": list(zip(profiles["user_agent"][profile].tolist(), profiles["device"][profile].tolist(),
                               profiles["os"][profile].tolist(), profiles["browser"][profile].tolist(),
                               profiles["ai_agent"][profile].tolist(), sdk_of[api].tolist())),
            "places": list(zip(ips, country_codes[country].tolist(), city_of[country].tolist())),
        }
        ids = {table: _lookup_ids(conn, table, lookups[table], rows) for table, rows in values.items()}
        conn.executemany(
            f"INSERT INTO request_log ({', '.join(REQUEST_LOG_COLUMNS)})"
            f" VALUES ({', '.join('?' * len(REQUEST_LOG_COLUMNS))})",
            zip(range(s.start + 1, s.stop + 1), traffic.ts[s].tolist(), requests.size[s].tolist(),
                api_ids[api].tolist(), customer_ids[s].tolist(), ids["routes"], ids["agents"], ids["places"],
                [load_us(ms) for ms in requests.load_ms[s].tolist()], requests.status[s].tolist(),
                [THREAT_LEVELS.index(level) for level in requests.threat_level[s].tolist()],
                [None if p == e else p for p, e in zip(paths, endpoints)], requests.query[s].tolist(),
                [None if r == NO_THREAT_REASONS else r for r in requests.threat_reasons[s].tolist()]),
        )
    conn.execute("COMMIT")
    for _, sql in indexes:
        conn.execute(sql)


def _lookup_ids(conn, table: str, known: dict[tuple, int], rows: list[tuple]) -> list[int]:
    """Each row's id in the lookup table, adding the values seen for the first time (ids in order)."""
    new = []
    for row in rows:
        if row not in known:
            known[row] = len(known) + 1
            new.append((known[row], lookup_key(row), *row))
    if new:
        conn.executemany(f"INSERT INTO {table} (id, key, {', '.join(LOOKUPS[table])})"
                         f" VALUES ({', '.join('?' * (2 + len(LOOKUPS[table])))})", new)
    return [known[row] for row in rows]


def fill_request_details(conn) -> None:
    """Small masked headers and bodies, so the request detail view has something to show, packed as
    the writer packs them (db/writes/details.py): each API's dictionary trained on its newest details."""
    def texts(method: str, status: int, user_agent: str | None, ip: str | None) -> tuple[str, ...]:
        return (orjson.dumps({"user-agent": user_agent, "authorization": "*****", "x-forwarded-for": ip}).decode(),
                '{"amount":1200,"currency":"EUR"}' if method in ("POST", "PUT", "PATCH") else "{}",
                '{"content-type":"application/json"}',
                '{"error":"request failed"}' if status >= 400 else '{"ok":true}',
                '[{"message":"Internal Server Error","file":"app.py","line":42,"source":"onError","type":"E_ERROR"}]'
                if status >= 500 else "[]")

    packers = {}
    for (api_id,) in conn.execute("SELECT id FROM apis ORDER BY id").fetchall():
        newest = conn.execute("SELECT customer_id, method, status, user_agent, ip FROM requests WHERE api_id = ?"
                              " ORDER BY ts DESC LIMIT ?", (api_id, TRAINING_REQUESTS)).fetchall()
        dictionary_id = add_dictionary(conn, api_id, [(UNIDENTIFIED if row[0] is None else row[0], texts(*row[1:]))
                                                      for row in newest])
        if dictionary_id is not None:
            packers[api_id] = (dictionary_id, Packer(newest_dictionary(conn, api_id)[1]))
    conn.execute("BEGIN")
    plain = (None, Packer(None))
    cursor = conn.execute("SELECT id, api_id, method, status, user_agent, ip FROM requests ORDER BY id")
    insert = conn.cursor()
    while rows := cursor.fetchmany(50_000):
        packed = []
        for request_id, api_id, *columns in rows:
            dictionary_id, packer = packers.get(api_id, plain)
            packed.append((request_id, dictionary_id, packer.pack(texts(*columns))))
        insert.executemany("INSERT INTO request_details (request_id, dictionary_id, details) VALUES (?, ?, ?)",
                           packed)
    conn.execute("COMMIT")


def fill_rollups(conn) -> None:
    """Every rollup from the raw rows, as RecordWriter keeps them (db/writes/records.py): hour and day are
    ts - ts % 3600 / 86400; errors are status >= 400; a status class is min(max(status // 100, 2), 5)
    (so 1xx counts as 2xx, 6xx+ as 5xx); latency buckets are core.latency.latency_bucket itself;
    unidentified requests count only in api_hourly; the active-customer sets are db.writes.activity's
    own rebuild from customer_daily and customer_hourly. Customers come from the temp table
    customer_names (id, external_id, name)."""
    conn.create_function("latency_bucket", 1, latency_bucket, deterministic=True)
    conn.execute("BEGIN")
    conn.execute("""
        INSERT INTO customers (id, external_id, name_from_traffic, first_seen, last_seen, requests)
        SELECT n.id, n.external_id, n.name, r.first_seen, r.last_seen, r.requests
        FROM (SELECT customer_id, MIN(ts) AS first_seen, MAX(ts) AS last_seen, COUNT(*) AS requests FROM requests
              WHERE customer_id IS NOT NULL GROUP BY customer_id) AS r
        JOIN temp.customer_names n ON n.id = r.customer_id ORDER BY n.id""")
    conn.execute("""
        INSERT INTO api_hourly (api_id, hour, requests, identified, errors, load_ms_sum)
        SELECT api_id, ts - ts % 3600, COUNT(*), COUNT(customer_id), SUM(status >= 400), SUM(load_time_ms)
        FROM requests GROUP BY 1, 2 ORDER BY 1, 2""")
    conn.execute("""
        INSERT INTO customer_hourly (api_id, customer_id, hour, requests, s2xx, s3xx, s4xx, s5xx, load_ms_sum)
        SELECT api_id, customer_id, ts - ts % 3600, COUNT(*), SUM(status < 300), SUM(status >= 300 AND status < 400),
               SUM(status >= 400 AND status < 500), SUM(status >= 500), SUM(load_time_ms)
        FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    conn.execute("""
        INSERT INTO customer_daily (api_id, day, customer_id, requests, errors, load_ms_sum)
        SELECT api_id, ts - ts % 86400, customer_id, COUNT(*), SUM(status >= 400), SUM(load_time_ms)
        FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    conn.execute("""
        INSERT INTO customer_latency_daily (api_id, customer_id, day, bucket, requests)
        SELECT api_id, customer_id, ts - ts % 86400, latency_bucket(load_time_ms), COUNT(*)
        FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""")
    conn.execute("""
        INSERT INTO api_customers (api_id, customer_id, first_seen, last_seen, requests)
        SELECT api_id, customer_id, MIN(ts), MAX(ts), COUNT(*)
        FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2""")
    rebuild_activity(conn)
    rebuild_endpoint_rollups(conn)
    fill_usage_rollups(conn)
    conn.execute("COMMIT")


MONTH_OF_TS = "CAST(strftime('%s', ts, 'unixepoch', 'start of month') AS INTEGER)"  # core.usage.month_start


def fill_usage_rollups(conn) -> None:
    """customer_monthly and endpoint_monthly from the raw rows, as db/writes/usage.py keeps them:
    the UTC calendar month of ts, errors status >= 400, then 5xx and 429 apart."""
    counts = "COUNT(*), SUM(status >= 400), SUM(status >= 500), SUM(status = 429)"
    conn.execute(f"""
        INSERT INTO customer_monthly (api_id, month, customer_id, requests, errors, s5xx, s429)
        SELECT api_id, {MONTH_OF_TS}, customer_id, {counts}
        FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    conn.execute(f"""
        INSERT INTO endpoint_monthly (endpoint_id, month, customer_id, requests, errors, s5xx, s429)
        SELECT e.id, {MONTH_OF_TS}, r.customer_id, {counts}
        FROM (SELECT api_id, method, endpoint, ts, customer_id, status FROM requests WHERE customer_id IS NOT NULL) r
        JOIN endpoints e ON e.api_id = r.api_id AND e.method = r.method AND e.name = r.endpoint
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
