"""`footfall apis identify` and `footfall customers map`: an API's identity rules set, shown and
cleared; API keys mapped to customers from a CSV file (only keyed hashes kept, rerunnable, a later
row winning, a bad file refused whole with its line numbers); --merge moving what the keys'
fingerprints counted so that every figure reads as if the keys had been mapped first; and what
erasing, deleting an API, backing up and copying do with them."""

from __future__ import annotations

import time
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from conftest import footfall
from core.periods import DAY, HOUR, Period
from core.scope import Scope
from db.connection import connect, is_postgres
from db.reads import customers, endpoints, history, home, profile
from db.writes.apis import add_api
from db.writes.identity import carry_identity_key, identity_secret
from factories import keyed, payload
from loading import load
from stored_bytes import stored_bytes

SHOP, BILLING = "shop-key", "billing-key"
NOW = time.time()


@pytest.fixture
def shop(db_path):
    """A database with two APIs; Shop API finds its customers' keys in the header x-client."""
    with closing(connect(db_path)) as conn:
        add_api(conn, "Shop API", SHOP)
        add_api(conn, "Billing API", BILLING)
    footfall("apis", "identify", "Shop API", "--by", "key:x-client", db=db_path)
    return db_path


def keys_file(tmp_path, text: str, name: str = "keys.csv"):
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


def calls(api_key: str = SHOP, *, key: str | None = None, user: str | None = None, hours_ago: float = 1,
          path: str = "/v1/orders/1", status: int = 200, load_ms: float = 20.0) -> dict:
    stamp = datetime.fromtimestamp(NOW - hours_ago * HOUR, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return payload(api_key=api_key, user_id=user, timestamp=stamp, url=f"https://api.example.com{path}",
                   status=status, load_time=load_ms, request_headers={"x-client": key} if key else {})


def counted(db_path, api_key: str = SHOP) -> dict:
    with closing(connect(db_path)) as conn:
        return dict(conn.execute(
            "SELECT c.external_id, COUNT(*) FROM requests r JOIN apis a ON a.id = r.api_id"
            " LEFT JOIN customers c ON c.id = r.customer_id WHERE a.name = ? GROUP BY c.external_id",
            ("Shop API" if api_key == SHOP else "Billing API",)).fetchall())


# --- apis identify ---------------------------------------------------------------------------------


def test_rules_are_set_in_order_shown_by_apis_list_and_cleared(shop):
    footfall("apis", "identify", "Shop API", "--by", "header:X-Customer-Id", "--by", "jwt:sub", "--by",
             "key:query:api_key", db=shop)
    rules = "customers by header:x-customer-id, then jwt:sub, then key:query:api_key"
    assert footfall("apis", "identify", "Shop API", db=shop).stdout.strip() == f"Shop API: {rules}"
    listed = footfall("apis", "list", db=shop).stdout.splitlines()
    assert [line.endswith(rules) for line in listed] == [False, True]  # Billing API, Shop API

    footfall("apis", "identify", "Shop API", "--clear", db=shop)
    assert footfall("apis", "identify", "Shop API", db=shop).stdout.strip() == "Shop API: no identity rules"
    assert "customers by" not in footfall("apis", "list", db=shop).stdout


def test_a_rule_footfall_does_not_read_is_refused_and_the_rules_stay_as_they_were(shop):
    refused = footfall("apis", "identify", "Shop API", "--by", "header:x-team", "--by", "cookie:sid", db=shop,
                       check=False)
    assert refused.returncode == 1 and "'cookie:sid' is not a rule: write header:NAME" in refused.stderr
    assert footfall("apis", "identify", "Shop API", db=shop).stdout.strip() == "Shop API: customers by key:x-client"


def test_rules_for_an_unknown_api_are_refused(shop):
    refused = footfall("apis", "identify", "Nope", "--by", "header:x-team", db=shop, check=False)
    assert refused.returncode == 1 and "no API named 'Nope'" in refused.stderr


# --- customers map ------------------------------------------------------------------------------------


@pytest.mark.both_backends
def test_mapped_keys_count_under_their_customers_and_only_keyed_hashes_of_them_are_stored(shop, tmp_path):
    footfall("customers", "map", "Shop API", keys_file(tmp_path, "key,customer_id,name\nckA-7f3a9c2e,acme,Acme Corp\n"
                                                                 "ckB-1d8e5b70,acme,\nckC-60aa4f19,beta,Beta Ltd\n"),
             db=shop)
    sent = ["ckA-7f3a9c2e"] * 3 + ["ckB-1d8e5b70"] * 2 + ["ckC-60aa4f19"] + ["ckD-93b1c0de"] * 2
    load(shop, [calls(key=key) for key in sent])

    assert counted(shop) == {"acme": 5, "beta": 1, keyed(identity_secret(shop), "ckD-93b1c0de"): 2}  # as sent
    raw = stored_bytes(shop)
    assert b"Acme Corp" in raw and [key for key in set(sent) if key.encode() in raw] == []


def test_a_later_row_for_a_key_wins_and_running_it_again_replaces_earlier_mappings(shop, tmp_path):
    first = footfall("customers", "map", "Shop API", keys_file(tmp_path, "ck-1,acme,\nck-2,beta,\nck-1,gamma,\n"),
                     db=shop)
    assert first.stdout.splitlines()[0] == "Shop API: 2 keys mapped to 2 customers (2 new, 0 changed, 0 as before)"
    again = footfall("customers", "map", "Shop API", keys_file(tmp_path, "ck-2,beta,\nck-1,delta,Delta\n"), db=shop)
    assert again.stdout.splitlines()[0] == "Shop API: 2 keys mapped to 2 customers (0 new, 1 changed, 1 as before)"
    load(shop, [calls(key="ck-1"), calls(key="ck-2")])
    assert counted(shop) == {"delta": 1, "beta": 1}


def test_a_file_with_bad_rows_is_refused_naming_their_lines_and_nothing_of_it_is_mapped(shop, tmp_path):
    footfall("customers", "map", "Shop API", keys_file(tmp_path, "ck-1,acme,\n"), db=shop)
    refused = footfall("customers", "map", "Shop API",
                       keys_file(tmp_path, "key,customer_id,name\nck-1,beta,\nck-2,gamma,\nck-secret-3,,\nck-4\n", "bad.csv"),
                       db=shop, check=False)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[1:] == ["  line 4: no customer_id in the second column",
                                               "  line 5: 1 columns; write key,customer_id,name (name may be empty)"]
    assert "ck-secret-3" not in refused.stderr
    load(shop, [calls(key="ck-1"), calls(key="ck-2")])
    assert counted(shop) == {"acme": 1, keyed(identity_secret(shop), "ck-2"): 1}  # ck-1 as mapped before


def test_a_file_that_is_not_utf8_or_not_there_is_refused(shop, tmp_path):
    (tmp_path / "latin1.csv").write_bytes("ck-1,caf\xe9,\n".encode("latin-1"))
    refused = footfall("customers", "map", "Shop API", str(tmp_path / "latin1.csv"), db=shop, check=False)
    assert refused.returncode == 1 and "is not UTF-8 text" in refused.stderr
    missing = footfall("customers", "map", "Shop API", str(tmp_path / "none.csv"), db=shop, check=False)
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_calls_made_before_a_mapping_stay_under_the_fingerprint_and_the_command_says_how_to_move_them(shop, tmp_path):
    load(shop, [calls(key="ck-1")] * 3)
    mapped = footfall("customers", "map", "Shop API", keys_file(tmp_path, "ck-1,acme,\n"), db=shop)
    assert "3 calls made before were counted under 1 of these keys' fingerprints" in mapped.stdout
    load(shop, [calls(key="ck-1")])
    assert counted(shop) == {keyed(identity_secret(shop), "ck-1"): 3, "acme": 1}


def test_mapping_keys_for_an_api_without_a_key_rule_says_so(shop, tmp_path):
    mapped = footfall("customers", "map", "Billing API", keys_file(tmp_path, "ck-1,acme,\n"), db=shop)
    assert "note: Billing API has no key rule yet" in mapped.stdout


# --- --merge -------------------------------------------------------------------------------------------

MAPPING = "key,customer_id,name\nck-acme-1,acme,Acme Corp\nck-acme-2,acme,Acme Corp\nck-beta,beta,\n"


def traffic() -> list[dict]:
    """Calls over three days: keys mapped later (two to one customer, one to a customer that calls
    on its own too), a key never mapped, one called on another API with a key rule too, explicit IDs."""
    sent = []
    for i in range(60):
        hours = 0.5 + i * 1.2
        path, status, load_ms = f"/v1/{('orders', 'items', 'users')[i % 3]}/{i}", 500 if i % 7 == 0 else 200, 5 + i
        sent.append(calls(key=("ck-acme-1", "ck-acme-2", "ck-beta", "ck-other")[i % 4], hours_ago=hours, path=path,
                          status=status, load_ms=load_ms))
        if i % 5 == 0:
            sent.append(calls(user="acme", hours_ago=hours + 0.1, path=path))  # acme's own ID, on Shop API
            sent.append(calls(BILLING, key="ck-acme-1", hours_ago=hours, path=path))  # no mapping there
            sent.append(calls(BILLING, user="zed", hours_ago=hours, path=path))
    return sent


def figures(db_path) -> dict:
    """What the pages show, for every API and each, over all time, the last day and a custom period
    with edge hours: customer lists, home figures, profiles, endpoints and their callers, history
    (database ids left out: the two databases number their rows differently)."""
    shown: dict = {}
    with closing(connect(db_path)) as conn:
        people = sorted(customers.customer_list(conn, Scope(None, Period(None, None)))["customer_id"])
        api_ids = [None, *(i for (i,) in conn.execute("SELECT id FROM apis ORDER BY name"))]
        for api_id in api_ids:
            for period in (Period(None, None), Period(int(NOW) - DAY, int(NOW) + HOUR),
                           Period(int(NOW - 40 * HOUR) // HOUR * HOUR + 1800, int(NOW - 3 * HOUR))):
                scope = Scope(api_id, period)
                key = (api_id, period)
                shown[key, "customers"] = customers.customer_list(conn, scope).drop("cid", strict=False)
                figures_now = home.home_figures(conn, scope)
                shown[key, "home"] = figures_now.current
                shown[key, "home top"], shown[key, "home newest"] = figures_now.top, figures_now.newest
                listed = endpoints.endpoint_list(conn, scope)
                shown[key, "endpoints"] = listed.drop("endpoint_id")
                for eid, name in zip(listed["endpoint_id"], listed["endpoint"]):
                    shown[key, "callers", name] = sorted(
                        conn.execute("SELECT external_id FROM customers WHERE id = ?", (cid,)).fetchone()[0]
                        for cid in endpoints.endpoint_counts(conn, eid, scope)["cid"])
                for person in people:
                    found = profile.customer_profile(conn, person, scope)
                    shown[key, "profile", person] = found and {**vars(found), "id": None}
                    shown[key, "history", person] = history.customer_requests(conn, person, scope, 500).drop(
                        "customer_id", strict=False)
                    if found:
                        shown[key, "own endpoints", person] = endpoints.customer_endpoints(conn, found.id, scope).drop(
                            "endpoint_id", strict=False)
    return shown


def same_identity_key(db_path, other, other_conn) -> None:
    """Give `other` the identity key of `db_path`, as a copy or a restored backup has it."""
    if is_postgres(other):
        carry_identity_key(identity_secret(db_path), other_conn)
    else:
        Path(f"{other}.identity-key").write_bytes(identity_secret(db_path))


@pytest.mark.both_backends
def test_merge_moves_what_the_fingerprints_counted_so_every_figure_reads_as_if_mapped_first(shop, new_db, tmp_path):
    mapped_first = new_db("mapped-first.db")
    with closing(connect(mapped_first)) as conn:
        add_api(conn, "Shop API", SHOP)
        add_api(conn, "Billing API", BILLING)
        same_identity_key(shop, mapped_first, conn)  # so that a key never mapped has one fingerprint in both
    footfall("apis", "identify", "Shop API", "--by", "key:x-client", db=mapped_first)
    for db in (mapped_first, shop):
        footfall("apis", "identify", "Billing API", "--by", "key:x-client", db=db)
    footfall("customers", "map", "Shop API", keys_file(tmp_path, MAPPING), db=mapped_first)
    load(mapped_first, traffic())

    load(shop, traffic())  # the same calls before the mapping: under fingerprints
    before = counted(shop)
    merged = footfall("customers", "map", "Shop API", keys_file(tmp_path, MAPPING), "--merge", db=shop)

    fingerprint = keyed(identity_secret(shop), "ck-acme-1")
    moved = sum(before[keyed(identity_secret(shop), key)] for key in ("ck-acme-1", "ck-acme-2", "ck-beta"))
    assert f"moved {moved} calls counted under 3 keys' fingerprints to their customers" in merged.stdout
    assert counted(shop) == counted(mapped_first)
    assert fingerprint in counted(shop, BILLING)  # the same key on an API without the mapping stays
    expected, got = figures(mapped_first), figures(shop)
    assert got.keys() == expected.keys()
    for key in expected:
        if isinstance(expected[key], pl.DataFrame):
            assert got[key].equals(expected[key]), key
        else:
            assert got[key] == expected[key], key


@pytest.mark.both_backends
def test_a_fingerprint_left_with_no_call_goes_and_its_stars_go_to_the_customer(shop, tmp_path):
    from db.writes.edits import save_favorite

    load(shop, [calls(key="ck-1")] * 2)
    fingerprint = keyed(identity_secret(shop), "ck-1")
    with closing(connect(shop)) as conn:
        save_favorite(conn, "ana@example.com", fingerprint, True)
    footfall("customers", "map", "Shop API", keys_file(tmp_path, "ck-1,acme,\n"), "--merge", db=shop)
    with closing(connect(shop)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM customers WHERE external_id = ?", (fingerprint,)).fetchone()[0] == 0
        assert conn.execute("SELECT c.external_id FROM favorites f JOIN customers c ON c.id = f.customer_id"
                            " WHERE f.analyst = 'ana@example.com'").fetchall() == [("acme",)]
    assert counted(shop) == {"acme": 2}


# --- With the rest of the lifecycle --------------------------------------------------------------------


@pytest.mark.both_backends
def test_erasing_a_customer_removes_the_keys_mapped_to_them_and_deleting_an_api_its_rules(shop, tmp_path):
    footfall("customers", "map", "Shop API", keys_file(tmp_path, "ck-1,acme,Acme Corp\nck-2,beta,\n"), db=shop)
    load(shop, [calls(key="ck-1"), calls(key="ck-2")])
    footfall("erase", "--customer", "acme", db=shop)
    with closing(connect(shop)) as conn:
        assert conn.execute("SELECT external_id FROM customer_keys").fetchall() == [("beta",)]
    footfall("apis", "remove", "Shop API", "--delete-data", db=shop)
    with closing(connect(shop)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM customer_keys").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM identity_rules").fetchone()[0] == 0


def test_import_applies_the_rules(shop, tmp_path):
    from factories import jsonl

    footfall("customers", "map", "Shop API", keys_file(tmp_path, "ck-1,acme,\n"), db=shop)
    (tmp_path / "calls.jsonl").write_bytes(jsonl([calls(key="ck-1"), calls(key="ck-9"), calls()]))
    footfall("import", str(tmp_path / "calls.jsonl"), db=shop)
    assert counted(shop) == {"acme": 1, keyed(identity_secret(shop), "ck-9"): 1, None: 1}


def test_a_backup_carries_the_identity_key_beside_it(shop, tmp_path):
    footfall("customers", "map", "Shop API", keys_file(tmp_path, "ck-1,acme,\n"), db=shop)
    report = footfall("backup", str(tmp_path / "copy.db"), db=shop)
    assert f"and the key API keys are hashed with (identity rules), to {tmp_path / 'copy.db'}.identity-key" \
        in report.stdout
    load(tmp_path / "copy.db", [calls(key="ck-1"), calls(key="ck-2")])
    assert counted(tmp_path / "copy.db") == {"acme": 1, keyed(identity_secret(shop), "ck-2"): 1}


def test_a_copy_to_postgresql_keeps_mapped_keys_and_fingerprints_matching(shop, tmp_path, pg_cluster):
    footfall("customers", "map", "Shop API", keys_file(tmp_path, "ck-1,acme,\n"), db=shop)
    load(shop, [calls(key="ck-2")])
    target = pg_cluster.create_database()
    try:
        footfall("copy", "--to", target, db=shop)
        load(target, [calls(key="ck-1"), calls(key="ck-2")])
        assert counted(target) == {"acme": 1, keyed(identity_secret(shop), "ck-2"): 2}
        assert identity_secret(target) == identity_secret(shop)
    finally:
        pg_cluster.drop_database(target)
