"""API keys: shown once, stored hashed, listed by their first characters, rotated and removed; demo
APIs only in a database without APIs, with random keys. Through the real command line, and the real
collector (one for the module, on a database of its own) for what keys it takes."""

from types import SimpleNamespace

import httpx
import orjson
import pytest

from conftest import footfall, start_collector, stop
from core.keys import new_key
from db.writes.apis import add_api
from factories import payload
from loading import load
from stored_bytes import stored_bytes as raw_bytes  # the files, and on PostgreSQL its write-ahead log too


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """The real collector on a SQLite file of the module's; each test registers APIs of its own."""
    db = tmp_path_factory.mktemp("apis") / "footfall.db"
    footfall("apis", "add", "Module API", db=db)  # the file, migrated, before the collector opens it
    process, url = start_collector(db)
    yield SimpleNamespace(db=db, url=url)
    stop(process)


def post(url: str, key: str, user: str = "probe") -> int:
    return httpx.post(url + "/", content=orjson.dumps(payload(api_key=key, user_id=user)),
                      headers={"content-type": "application/json"}, timeout=10).status_code


def accepted_within(url: str, key: str, status: int, seconds: float = 5, user: str = "probe") -> bool:
    """Whether the collector answers `status` for this key within a few seconds: its workers re-read
    the keys every KEYS_FRESH_SECONDS (2 s), and on a miss at most once a second."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if post(url, key, user) == status:
            return True
        time.sleep(0.25)
    return False


@pytest.mark.both_backends  # what is stored
def test_a_new_key_is_printed_once_and_only_its_hash_and_prefix_are_stored(db_path):
    added = footfall("apis", "add", "Shop API", db=db_path)
    key = added.stdout.strip()
    assert len(key) >= 32 and "cannot show it again" in added.stderr
    listed = footfall("apis", "list", db=db_path).stdout
    assert "Shop API" in listed and key[:6] in listed and key not in listed
    assert key.encode() not in raw_bytes(db_path)


def test_a_rotated_key_stops_working_and_the_new_one_works(running):
    db, url = running.db, running.url
    old = footfall("apis", "add", "Rotated API", db=db).stdout.strip()
    assert accepted_within(url, old, 200)
    new = footfall("apis", "rotate", "Rotated API", db=db).stdout.strip()
    assert new != old
    assert accepted_within(url, old, 401) and post(url, new) == 200
    assert old.encode() not in raw_bytes(db) and new.encode() not in raw_bytes(db)


def test_a_removed_api_takes_no_traffic_and_keeps_its_data(running):
    db, url = running.db, running.url
    key = footfall("apis", "add", "Removed API", db=db).stdout.strip()
    assert accepted_within(url, key, 200, user="acme")
    assert "its data stays" in footfall("apis", "remove", "Removed API", db=db).stdout
    assert accepted_within(url, key, 401)
    assert "removed" in footfall("apis", "list", db=db).stdout
    customers = orjson.loads(footfall("customers", "--format", "json", db=db).stdout)
    assert {c["customer_id"]: c["requests"] for c in customers}["acme"] == 1


def test_an_unknown_api_cannot_be_rotated_or_removed(db_path):
    for command in (["rotate", "Nope"], ["remove", "Nope"]):
        refused = footfall("apis", *command, db=db_path, check=False)
        assert refused.returncode == 1 and "no API named 'Nope'" in refused.stderr


def test_demo_data_goes_only_into_a_database_without_apis_and_with_random_keys(db_path, tmp_path):
    footfall("demo", "--requests", "300", db=db_path)
    listed = footfall("apis", "list", db=db_path).stdout
    assert "Payments API" in listed and b"demo-payments-key" not in raw_bytes(db_path)
    refused = footfall("demo", "--requests", "10", db=db_path, check=False)
    assert refused.returncode == 1 and "demo data goes only into a database without any" in refused.stderr

    real = tmp_path / "real.db"
    footfall("apis", "add", "Payments API", db=real)  # a real API named like a demo one
    assert footfall("demo", "--requests", "10", db=real, check=False).returncode == 1
    assert footfall("customers", db=real).returncode == 0


@pytest.mark.parametrize("name", ["Shop API", "Orders"])
def test_the_customers_command_finds_an_api_by_name(db_path, name):
    footfall("apis", "add", name, db=db_path)
    assert footfall("customers", "--api", name, db=db_path).returncode == 0


@pytest.mark.both_backends  # what is deleted
def test_removing_an_api_with_its_data_deletes_its_customers_and_figures_and_keeps_the_others(db_path, tmp_path):
    shop = footfall("apis", "add", "Shop API", db=db_path).stdout.strip()
    billing = footfall("apis", "add", "Billing API", db=db_path).stdout.strip()
    file = tmp_path / "calls.jsonl"
    file.write_bytes(b"".join(orjson.dumps(payload(api_key=key, user_id=user)) + b"\n" for key, user in
                              [(shop, "only-shop"), (shop, "both"), (billing, "both"), (billing, "only-billing")]))
    footfall("import", str(file), db=db_path)
    said, done = footfall("apis", "remove", "Shop API", "--delete-data", db=db_path).stdout.splitlines()
    assert said == ("to delete: API 'Shop API' with 2 raw requests (2 counted in the figures) from 1 day,"
                    " of 2 customers (1 of them called no other API and go with it)")
    assert done == "removed 'Shop API' and deleted its 2 raw requests, their figures and 1 customer who called no other API"
    assert "Shop API" not in footfall("apis", "list", db=db_path).stdout
    customers = orjson.loads(footfall("customers", "--format", "json", db=db_path).stdout)
    assert {c["customer_id"]: c["requests"] for c in customers} == {"both": 1, "only-billing": 1}


def test_new_keys_never_start_with_a_dash_which_the_command_line_would_take_for_an_option():
    keys = [new_key() for _ in range(5000)]  # one in 64 started with '-': about 78 of these
    assert [key for key in keys if key.startswith("-")] == []
    assert len(set(keys)) == len(keys) and {len(key) for key in keys} == {32}


DASH_KEY = "-eDmnrpvBU8cZ1qT5wXyA0bLkJ3sH7gN"  # issued before keys stopped starting with '-'


@pytest.mark.parametrize("form", ["--api KEY", "--api=KEY"])
def test_a_key_or_id_starting_with_a_dash_is_taken_as_the_options_value(conn, db_path, form):
    add_api(conn, "Dash API", DASH_KEY)
    load(conn, [payload(api_key=DASH_KEY, user_id="-dash-customer"), payload(user_id="someone-else")])
    api = ["--api", DASH_KEY] if form == "--api KEY" else [f"--api={DASH_KEY}"]
    customers = orjson.loads(footfall("customers", *api, "--format", "json", db=db_path).stdout)
    assert [c["customer_id"] for c in customers] == ["-dash-customer"]
    history = orjson.loads(footfall("requests", "--customer", "-dash-customer", *api, "--format", "json", db=db_path).stdout)
    assert len(history) == 1
    added = footfall("alerts", "add", *api, "--customer", "-dash-customer", "--kind", "spike", db=db_path)
    assert added.stdout.endswith("· -dash-customer on Dash API\n")
    assert footfall("apis", "add", "Imported API", "--api-key", "-a-treblle-project-id", db=db_path).stdout == \
        "-a-treblle-project-id\n"
    assert footfall("customers", "--api", "--format", "json", db=db_path, check=False).returncode == 2  # a value forgotten
