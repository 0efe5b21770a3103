"""Usage for billing, on both backends: each request counts in its UTC calendar month, exactly, across
the month's edges; billable requests leave out what the API excludes; per endpoint too; the
migration fills the monthly rollups from what is stored; quotas are a customer's own or the API's
default; erase and delete-API take usage, quotas and firings with them."""

from dataclasses import dataclass

import pytest

from core.usage import parse_month
from db.operations.erase import delete_api, erase_customer
from db.operations.quota_checks import check_quotas
from db.reads.usage import endpoint_usage, monthly_usage
from db.schema import postgres as pg_schema, sqlite as sqlite_schema
from db.writes.apis import api_id_by_name
from db.writes.quotas import quota_list, remove_quota, set_billing_excludes, set_quota
from factories import payload
from loading import load

NOVEMBER, DECEMBER = parse_month("2026-11"), parse_month("2026-12")


@dataclass(frozen=True)
class Call:
    customer: str
    at: str  # UTC
    status: int
    path: str = "/api/orders"


# The last hour of November and the first of December, every kind of answer, two customers, two endpoints.
EDGE_CALLS = [
    Call("acme", "2026-11-30 23:00:00", 200), Call("acme", "2026-11-30 23:59:59", 500),
    Call("acme", "2026-11-30 23:30:00", 429, "/api/invoices"), Call("globex", "2026-11-30 23:59:59", 404),
    Call("acme", "2026-12-01 00:00:00", 200), Call("acme", "2026-12-01 00:00:01", 503, "/api/invoices"),
    Call("acme", "2026-12-01 00:59:59", 429), Call("globex", "2026-12-01 00:10:00", 201),
    Call("globex", "2026-12-01 00:20:00", 500), Call("globex", "2026-11-01 00:00:00", 200),
    Call("initech", "2026-10-31 23:59:59", 200),  # October's: in neither month
]


def send(conn, calls):
    load(conn, [payload(user_id=c.customer, timestamp=c.at, status=c.status, url=f"https://api.example.com{c.path}")
                for c in calls])


def expected(calls, month: str, excluded=("5xx",)) -> dict[str, tuple[int, int, int]]:
    """(requests, billable_requests, errors) per customer, counted from the calls sent."""
    counts: dict[str, list[int]] = {}
    for c in calls:
        if not c.at.startswith(month):
            continue
        left_out = ("5xx" in excluded and c.status >= 500) or ("429" in excluded and c.status == 429)
        row = counts.setdefault(c.customer, [0, 0, 0])
        row[0] += 1
        row[1] += not left_out
        row[2] += c.status >= 400
    return {customer: tuple(row) for customer, row in counts.items()}


def figures(usage) -> dict[str, tuple[int, int, int]]:
    return {r["customer_id"]: (r["requests"], r["billable_requests"], r["errors"]) for r in usage.iter_rows(named=True)}


def test_each_request_counts_in_its_utc_month_across_the_edge(conn):
    send(conn, EDGE_CALLS)
    api_id = api_id_by_name(conn, "Test API")
    assert figures(monthly_usage(conn, api_id, NOVEMBER)) == expected(EDGE_CALLS, "2026-11")
    assert figures(monthly_usage(conn, api_id, DECEMBER)) == expected(EDGE_CALLS, "2026-12")
    # And as a count over the raw requests says.
    raw = dict(conn.execute("SELECT c.external_id, COUNT(*) FROM requests r JOIN customers c ON c.id = r.customer_id"
                            " WHERE r.ts >= ? AND r.ts < ? GROUP BY c.external_id", (DECEMBER, parse_month("2027-01"))))
    assert {customer: row[0] for customer, row in figures(monthly_usage(conn, None, DECEMBER)).items()} == raw


def test_billable_requests_leave_out_what_the_api_excludes(conn):
    send(conn, EDGE_CALLS)
    api_id = api_id_by_name(conn, "Test API")
    set_billing_excludes(conn, api_id, ("5xx", "429"))
    assert figures(monthly_usage(conn, api_id, DECEMBER)) == expected(EDGE_CALLS, "2026-12", ("5xx", "429"))
    set_billing_excludes(conn, api_id, ())
    assert figures(monthly_usage(conn, api_id, DECEMBER)) == expected(EDGE_CALLS, "2026-12", ())


def test_usage_by_endpoint_splits_each_customers_month(conn):
    send(conn, EDGE_CALLS)
    usage = endpoint_usage(conn, api_id_by_name(conn, "Test API"), DECEMBER)
    got = {(r["customer_id"], r["endpoint"]): (r["requests"], r["billable_requests"], r["errors"])
           for r in usage.iter_rows(named=True)}
    want = {(customer, path): row for path in ("/api/orders", "/api/invoices")
            for customer, row in expected([c for c in EDGE_CALLS if c.path == path], "2026-12").items()}
    assert got == want


def test_the_migration_fills_the_monthly_rollups_as_the_writer_keeps_them(conn, backend):
    send(conn, EDGE_CALLS)
    api_id = api_id_by_name(conn, "Test API")
    written = [monthly_usage(conn, api_id, NOVEMBER), endpoint_usage(conn, api_id, DECEMBER)]
    conn.execute("DELETE FROM customer_monthly")
    conn.execute("DELETE FROM endpoint_monthly")
    if backend == "sqlite":
        sqlite_schema._fill_usage(conn)
    else:
        conn.raw.execute(pg_schema.USAGE_FILL)
    assert monthly_usage(conn, api_id, NOVEMBER).equals(written[0])
    assert endpoint_usage(conn, api_id, DECEMBER).equals(written[1])


def test_a_customers_own_quota_wins_over_the_apis_default(conn):
    send(conn, EDGE_CALLS)
    api_id = api_id_by_name(conn, "Test API")
    set_quota(conn, api_id, None, 4)
    set_quota(conn, api_id, "acme", 2)
    quotas = {r["customer_id"]: r["quota"] for r in monthly_usage(conn, api_id, DECEMBER).iter_rows(named=True)}
    assert quotas == {"acme": 2, "globex": 4}
    assert [q["customer_id"] for q in quota_list(conn, api_id)] == [None, "acme"]
    assert remove_quota(conn, api_id, "acme")
    assert monthly_usage(conn, api_id, DECEMBER)["quota"].to_list() == [4, 4]
    with pytest.raises(ValueError, match="no customer"):
        set_quota(conn, api_id, "nobody", 10)


def test_quota_firings_fire_once_per_customer_threshold_and_month(conn):
    api_id = api_id_by_name(conn, "Test API")
    set_quota(conn, api_id, None, 10)
    now = parse_month("2026-12") + 3600
    calls = [Call("acme", "2026-12-01 00:00:00", 200)] * 8
    send(conn, calls)
    assert [(m.customer_id, m.threshold, m.used) for m in check_quotas(conn, now)] == [("acme", 0.8, 8)]
    assert check_quotas(conn, now) == []
    send(conn, [Call("acme", "2026-12-01 00:30:00", 200)] * 2 + [Call("globex", "2026-12-01 00:30:00", 200)] * 12)
    fired = sorted((m.customer_id, m.threshold, m.used) for m in check_quotas(conn, now))
    assert fired == [("acme", 1.0, 10), ("globex", 1.0, 12)]  # globex crossed both: only 100%
    assert check_quotas(conn, now) == []
    assert check_quotas(conn, parse_month("2027-01") + 60) == []  # a new month starts from nothing


def test_erase_and_delete_api_take_usage_quotas_and_firings(conn):
    api_id = api_id_by_name(conn, "Test API")
    send(conn, EDGE_CALLS)
    set_quota(conn, api_id, None, 1)
    set_quota(conn, api_id, "acme", 1)
    check_quotas(conn, DECEMBER + 7200)
    assert customer_ids(conn) == {"acme", "globex", "initech"}
    erase_customer(conn, "acme")
    assert customer_ids(conn) == {"globex", "initech"}
    for table in ("quotas", "quota_firings", "customer_monthly"):
        assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE customer_id NOT IN (SELECT id FROM customers)"
                            ).fetchone()[0] == 0, table
    delete_api(conn, api_id)
    for table in ("customer_monthly", "endpoint_monthly", "quotas", "quota_firings"):
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table


def customer_ids(conn) -> set[str]:
    """Every customer ID with a trace in usage, quotas or quota firings."""
    return {cid for (cid,) in conn.execute(
        "SELECT c.external_id FROM customers c WHERE c.id IN (SELECT customer_id FROM customer_monthly"
        " UNION SELECT customer_id FROM endpoint_monthly UNION SELECT customer_id FROM quotas"
        " UNION SELECT customer_id FROM quota_firings)")}


@pytest.mark.sqlite_only
def test_a_database_from_before_usage_gets_its_months_filled_at_its_first_start(tmp_path):
    import sqlite3

    from db.connection import connect

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)  # as Footfall left it at schema version 9, with its rows written then
    for script in sqlite_schema.MIGRATIONS[:9]:
        script(old) if callable(script) else sqlite_schema._run(old, script)
    old.execute("PRAGMA user_version = 9")
    old.execute("INSERT INTO apis (id, name, key_hash, key_prefix, created_at) VALUES (1, 'Shop', 'h', 'p', 0)")
    old.execute("INSERT INTO customers (id, external_id, first_seen, last_seen, requests) VALUES (7, 'acme', 0, 0, 5)")
    # November's last hour: 3 requests, 1 of them 5xx (the hourly rollup); December's first: 2, a 429 among them,
    # of which only the 429 is still stored raw.
    for hour, requests, s4xx, s5xx in ((DECEMBER - 3600, 3, 0, 1), (DECEMBER, 2, 1, 0)):
        old.execute("INSERT INTO customer_hourly VALUES (1, 7, ?, ?, ?, 0, ?, ?, 0)",
                    (hour, requests, requests - s4xx - s5xx, s4xx, s5xx))
    old.execute("INSERT INTO requests (api_id, customer_id, ts, method, status, path, endpoint, load_time_ms,"
                " threat_level, device) VALUES (1, 7, ?, 'GET', 429, '/', '/', 1, 'low', 'desktop')", (DECEMBER + 60,))
    old.commit()
    old.close()
    conn = connect(path)
    assert figures(monthly_usage(conn, 1, NOVEMBER)) == {"acme": (3, 2, 1)}
    set_billing_excludes(conn, 1, ("5xx", "429"))
    assert figures(monthly_usage(conn, 1, DECEMBER)) == {"acme": (2, 1, 1)}
    conn.close()
