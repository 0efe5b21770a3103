"""The team server: several collectors, each with its own HTTP workers and writer (as on separate
machines), writing into one PostgreSQL database at once. Every acknowledged payload is stored once,
every rollup equals what the raw rows say, and nothing deadlocks."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest
from pyroaring import BitMap

from conftest import start_collector, stop, until
from db.connection import connect
from db.writes.apis import add_api
from factories import API_KEY, payload

CLIENTS_PER_COLLECTOR = 4
POSTS_PER_CLIENT = 30
PAYLOADS_PER_POST = 20
# Few endpoints and hours: the collectors contend for the same rollup rows all along; more
# customers than a batch holds, so that a customer set one writer loses shows.
CUSTOMERS = 60
HOURS = ["2026-11-20 10:15:00", "2026-11-20 11:40:00", "2026-11-21 09:05:00"]
ENDPOINTS = ["/api/items/1", "/api/orders/7", "/api/users/3/invoices"]


@pytest.fixture
def team_db(pg_cluster):
    url = pg_cluster.create_database(template=pg_cluster.template)
    conn = connect(url)
    add_api(conn, "Test API", API_KEY)
    yield conn, url
    conn.close()
    pg_cluster.drop_database(url)


def call(client: int, post: int, n: int) -> dict:
    """One call of a load client: a marker path of its own, a customer, an hour, a status."""
    i = (client * 7 + post * 3 + n) % 997
    customer = None if i % 10 == 0 else f"cus_{(i * 37 + client) % CUSTOMERS}"
    endpoint = ENDPOINTS[(i // 2) % len(ENDPOINTS)]
    return payload(user_id=customer, timestamp=HOURS[(i // 5) % len(HOURS)], status=(200, 201, 404, 500)[i % 4],
                   load_time=5.0 + i % 40, url=f"https://api.example.com{endpoint}?marker={client}-{post}-{n}")


def post_load(url: str, first_client: int, acked: list[str], refused: list[int]) -> None:
    def client(c: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            for p in range(POSTS_PER_CLIENT):
                batch = [call(c, p, n) for n in range(PAYLOADS_PER_POST)]
                reply = http.post("/", content=orjson.dumps(batch), headers={"content-type": "application/json"})
                if reply.status_code == 200:
                    acked.extend(f"{c}-{p}-{n}" for n in range(PAYLOADS_PER_POST))
                else:
                    refused.append(reply.status_code)

    with ThreadPoolExecutor(CLIENTS_PER_COLLECTOR) as pool:
        list(pool.map(client, range(first_client, first_client + CLIENTS_PER_COLLECTOR)))


def test_two_collectors_on_one_database_store_every_acknowledged_payload_once_with_exact_rollups(team_db):
    conn, url = team_db
    collectors = [start_collector(url, workers=2) for _ in range(2)]
    acked: list[str] = []
    refused: list[int] = []
    try:
        loads = [threading.Thread(target=post_load, args=(collector_url, k * CLIENTS_PER_COLLECTOR, acked, refused))
                 for k, (_, collector_url) in enumerate(collectors)]
        for load in loads:
            load.start()
        for load in loads:
            load.join()
    finally:
        for process, _ in collectors:
            stop(process)

    total = 2 * CLIENTS_PER_COLLECTOR * POSTS_PER_CLIENT * PAYLOADS_PER_POST
    assert refused == [] and len(acked) == len(set(acked)) == total
    stored = dict(conn.execute("SELECT query, COUNT(*) FROM requests GROUP BY query"))
    assert stored == {f"marker={m}": 1 for m in acked}
    assert rollup_mismatches(conn) == []


class Said:
    """A collector's stderr lines, read as they come."""

    def __init__(self, process):
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(line.decode().rstrip() for line in process.stderr),
                         daemon=True).start()

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)


def test_one_collector_computes_the_signals_and_checks_the_alerts_for_all_and_another_takes_over_when_it_dies(team_db):
    conn, url = team_db
    often = {"FOOTFALL_SIGNALS_INTERVAL": "1", "FOOTFALL_ALERT_INTERVAL": "0.5"}
    first, _ = start_collector(url, **often)
    second = None
    try:
        said_first = Said(first)
        assert until(lambda: said_first.has("this collector computes the signals")
                     and said_first.has("this collector checks the alerts"))
        second, _ = start_collector(url, **often)
        said_second = Said(second)
        assert until(lambda: said_second.has("another collector computes the signals; this one stands by")
                     and said_second.has("another collector checks the alerts; this one stands by"))
        # Rounds of both (a signals round a second): the leases stay where they are.
        second_up = int(time.time())
        assert until(lambda: computed_since(conn) >= second_up + 2)
        assert not said_second.has("this collector") and not said_first.has("another collector")

        first.kill()  # SIGKILL: its sessions end, and their locks with them
        first.wait()
        died = int(time.time())
        assert until(lambda: said_second.has("this collector computes the signals")
                     and said_second.has("this collector checks the alerts"), 20)
        assert until(lambda: computed_since(conn) >= died, 20)
    finally:
        stop(first)
        if second is not None:
            stop(second)


def computed_since(conn) -> int:
    """When the oldest of the kept signals was computed (0: none kept)."""
    return conn.execute("SELECT COALESCE(MIN(computed_at), 0) FROM signal_snapshots").fetchone()[0]


def rollup_mismatches(conn) -> list[str]:
    """Every rollup against a GROUP BY over the raw rows; the names of those that differ."""
    checks = {
        "api_hourly": (
            "SELECT api_id, hour, requests, identified, errors FROM api_hourly",
            "SELECT api_id, ts - ts % 3600, COUNT(*), COUNT(customer_id), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END)"
            " FROM requests GROUP BY 1, 2"),
        "customer_hourly": (
            "SELECT api_id, customer_id, hour, requests, s2xx, s4xx, s5xx FROM customer_hourly",
            "SELECT api_id, customer_id, ts - ts % 3600, COUNT(*), SUM(CASE WHEN status < 300 THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN status / 100 = 4 THEN 1 ELSE 0 END), SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END)"
            " FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3"),
        "customer_daily": (
            "SELECT api_id, day, customer_id, requests, errors FROM customer_daily",
            "SELECT api_id, ts - ts % 86400, customer_id, COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END)"
            " FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3"),
        "customer_latency_daily": (
            "SELECT api_id, customer_id, day, SUM(requests) FROM customer_latency_daily GROUP BY 1, 2, 3",
            "SELECT api_id, customer_id, ts - ts % 86400, COUNT(*) FROM requests WHERE customer_id IS NOT NULL"
            " GROUP BY 1, 2, 3"),
        "customers": (
            "SELECT id, requests, first_seen, last_seen FROM customers",
            "SELECT customer_id, COUNT(*), MIN(ts), MAX(ts) FROM requests WHERE customer_id IS NOT NULL GROUP BY 1"),
        "api_customers": (
            "SELECT api_id, customer_id, requests, first_seen, last_seen FROM api_customers",
            "SELECT api_id, customer_id, COUNT(*), MIN(ts), MAX(ts) FROM requests WHERE customer_id IS NOT NULL"
            " GROUP BY 1, 2"),
        "endpoint_hourly": (
            "SELECT e.api_id, e.method, e.name, h.hour, h.customer_id, h.requests, h.errors"
            " FROM endpoint_hourly h JOIN endpoints e ON e.id = h.endpoint_id",
            "SELECT api_id, method, endpoint, ts - ts % 3600, customer_id, COUNT(*),"
            " SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) FROM requests WHERE customer_id IS NOT NULL"
            " GROUP BY 1, 2, 3, 4, 5"),
        "endpoint_totals": (
            "SELECT e.api_id, e.method, e.name, t.hour, t.requests, t.errors"
            " FROM endpoint_totals t JOIN endpoints e ON e.id = t.endpoint_id",
            "SELECT api_id, method, endpoint, ts - ts % 3600, COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END)"
            " FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3, 4"),
        "customer_endpoints": (
            "SELECT c.customer_id, e.api_id, e.method, e.name, c.requests, c.errors, c.first_call, c.last_call"
            " FROM customer_endpoints c JOIN endpoints e ON e.id = c.endpoint_id",
            "SELECT customer_id, api_id, method, endpoint, COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END),"
            " MIN(ts), MAX(ts) FROM requests WHERE customer_id IS NOT NULL GROUP BY 1, 2, 3, 4"),
    }
    differ = [name for name, (rollup, raw) in checks.items()
              if sorted(conn.execute(rollup).fetchall()) != sorted(conn.execute(raw).fetchall())]
    sets = {
        "active_daily": ("SELECT api_id, day, customers FROM active_daily",
                         "SELECT api_id, ts - ts % 86400, customer_id FROM requests WHERE customer_id IS NOT NULL"),
        "active_hourly": ("SELECT api_id, hour, customers FROM active_hourly",
                          "SELECT api_id, ts - ts % 3600, customer_id FROM requests WHERE customer_id IS NOT NULL"),
        "endpoint_callers_hourly": (
            "SELECT endpoint_id, hour, customers FROM endpoint_callers_hourly",
            "SELECT e.id, r.ts - r.ts % 3600, r.customer_id FROM requests r JOIN endpoints e"
            " ON e.api_id = r.api_id AND e.method = r.method AND e.name = r.endpoint WHERE r.customer_id IS NOT NULL"),
    }
    for name, (stored_sql, raw_sql) in sets.items():
        stored = {(a, b): set(BitMap.deserialize(blob)) for a, b, blob in conn.execute(stored_sql)}
        expected: dict[tuple, set] = {}
        for a, b, cid in conn.execute(raw_sql):
            expected.setdefault((a, b), set()).add(cid)
        if stored != expected:
            differ.append(name)
    return differ
