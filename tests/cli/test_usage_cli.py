"""`footfall usage`, `footfall quotas` and `footfall apis billable` through the real command line:
a month's rows with the issue's fields, a month that is none refused, quotas set, listed and removed."""

import csv
import io

import orjson

from conftest import footfall
from factories import API_KEY, payload
from loading import load

FIELDS = ["customer_id", "display_name", "requests", "billable_requests", "errors", "quota", "quota_used"]


def sent(db, calls):
    footfall("apis", "add", "Shop", "--api-key", API_KEY, db=db)
    load(db, [payload(user_id=user, timestamp=at, status=status) for user, at, status in calls])


CALLS = [("acme", "2026-11-30 23:59:59", 200), ("acme", "2026-12-01 00:00:00", 200),
         ("acme", "2026-12-01 00:10:00", 500), ("acme", "2026-12-01 00:20:00", 429),
         ("globex", "2026-12-01 00:30:00", 404)]


def test_usage_gives_each_customers_month_with_the_issues_fields(tmp_path):
    db = tmp_path / "footfall.db"
    sent(db, CALLS)
    footfall("quotas", "set", "--api", "Shop", "--customer", "acme", "--monthly", "4", db=db)
    rows = orjson.loads(footfall("usage", "--month", "2026-12", "--api", "Shop", "--format", "json", db=db).stdout)
    assert [list(row) for row in rows] == [FIELDS, FIELDS]
    assert [(r["customer_id"], r["requests"], r["billable_requests"], r["errors"], r["quota"], r["quota_used"])
            for r in rows] == [("acme", 3, 2, 2, 4, 0.5), ("globex", 1, 1, 1, None, None)]


def test_apis_billable_sets_what_usage_leaves_out(tmp_path):
    db = tmp_path / "footfall.db"
    sent(db, CALLS)
    assert "every request but 5xx and 429" in footfall("apis", "billable", "Shop", "--exclude", "5xx,429", db=db).stdout
    table = csv.DictReader(io.StringIO(footfall("usage", "--month", "2026-12", "--api", "Shop", "--format", "csv",
                                                db=db).stdout))
    assert {r["customer_id"]: r["billable_requests"] for r in table} == {"acme": "1", "globex": "1"}
    refused = footfall("apis", "billable", "Shop", "--exclude", "4xx", db=db, check=False)
    assert refused.returncode == 1 and "choose from 5xx, 429" in refused.stderr


def test_a_month_that_does_not_exist_is_refused_with_a_message_that_says_so(tmp_path):
    db = tmp_path / "footfall.db"
    sent(db, CALLS)
    refused = footfall("usage", "--month", "2026-13", db=db, check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "footfall: --month: 2026-13 is not a month: months run from 01 to 12 (from 1970 on)"


def test_usage_by_endpoint_and_every_api(tmp_path):
    db = tmp_path / "footfall.db"
    sent(db, CALLS)
    by_endpoint = orjson.loads(footfall("usage", "--month", "2026-12", "--by", "endpoint", "--format", "json",
                                        db=db).stdout)
    assert {(r["api"], r["customer_id"], r["method"], r["requests"]) for r in by_endpoint} == {
        ("Shop", "acme", "GET", 3), ("Shop", "globex", "GET", 1)}


def test_quotas_are_set_listed_and_removed(tmp_path):
    db = tmp_path / "footfall.db"
    sent(db, CALLS)
    footfall("quotas", "set", "--api", "Shop", "--monthly", "1000", db=db)
    footfall("quotas", "set", "--api", "Shop", "--customer", "acme", "--monthly", "50", db=db)
    listed = orjson.loads(footfall("quotas", "list", "--api", "Shop", "--format", "json", db=db).stdout)
    assert [(q["customer_id"], q["monthly"]) for q in listed] == [(None, 1000), ("acme", 50)]
    assert footfall("quotas", "remove", "--api", "Shop", "--customer", "acme", db=db).stdout.strip() == \
        "removed the quota of 'acme' on 'Shop'"
    again = footfall("quotas", "remove", "--api", "Shop", "--customer", "acme", db=db, check=False)
    assert again.returncode == 1
    assert again.stderr.strip() == "footfall: no quota of 'acme' on 'Shop' to remove; see `footfall quotas list`"
    unknown = footfall("quotas", "set", "--api", "Shop", "--customer", "nobody", "--monthly", "5", db=db, check=False)
    assert unknown.returncode == 1 and "no customer with the ID 'nobody'" in unknown.stderr
