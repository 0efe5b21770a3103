"""`footfall alerts add|list|remove|check|firings` on the real command line."""

from __future__ import annotations

import json
import os
import time

import pytest

from alerts_support import HOUR, in_hour, store, webhook  # noqa: F401 (webhook: a fixture)
from conftest import footfall


def add(db_path, *args: str, check: bool = True):
    return footfall("alerts", "add", "--api", "Test API", *args, db=db_path, check=check)


def rules(db_path) -> list[dict]:
    return json.loads(footfall("alerts", "list", "--format", "json", db=db_path).stdout)


def test_a_rule_added_is_listed_and_a_rule_removed_is_gone(conn, db_path):
    store(db_path, in_hour("acme", int(time.time()) // HOUR * HOUR - 5 * HOUR, 3))

    every = add(db_path, "--kind", "spike", "--threshold", "4")
    one = add(db_path, "--customer", "acme", "--kind", "p95")  # the kind's default threshold

    assert every.stdout.strip() == "added rule 1: Traffic spike ≥ 4× hourly baseline · every customer on Test API"
    assert one.stdout.strip() == "added rule 2: Slow responses (p95) ≥ 1,000 ms · acme on Test API"
    assert [(r["rule_id"], r["customer_id"], r["kind"], r["threshold"], r["open_firings"], r["created_by"])
            for r in rules(db_path)] == [(1, None, "spike", 4.0, 0, "cli"), (2, "acme", "p95", 1000.0, 0, "cli")]
    assert footfall("alerts", "remove", "1", db=db_path).stdout.strip() == "removed rule 1 and its firings"
    assert [r["rule_id"] for r in rules(db_path)] == [2]


@pytest.mark.parametrize("args, message", [
    (["--api", "No Such API", "--kind", "spike"], "no API named 'No Such API'; see `footfall apis list`"),
    (["--api", "Test API", "--customer", "nobody", "--kind", "spike"], "no customer with the ID 'nobody'"),
    (["--api", "Test API", "--kind", "latency"], "no alert kind 'latency'; choose one of spike, drop, error_rate, p95"),
    (["--api", "Test API", "--kind", "error_rate", "--threshold", "1.5"],
     "the error_rate threshold must be above 0 and at most 1, not 1.5"),
    (["--api", "Test API", "--kind", "spike", "--threshold", "0.5"],
     "the spike threshold must be above 1 and at most 1000, not 0.5"),
])
def test_a_rule_that_cannot_be_is_refused_with_a_clear_error(conn, db_path, args, message):
    result = footfall("alerts", "add", *args, db=db_path, check=False)
    assert result.returncode == 1 and result.stderr.strip() == f"footfall: {message}"
    assert rules(db_path) == []


def test_removing_an_unknown_rule_is_an_error(conn, db_path):
    result = footfall("alerts", "remove", "7", db=db_path, check=False)
    assert result.returncode == 1 and "no alert rule 7" in result.stderr


def test_check_prints_what_fired_and_was_delivered_and_firings_lists_it(conn, db_path, webhook):
    hour = int(time.time()) // HOUR * HOUR
    # The same traffic in the last complete hour and in this one: whichever of them the checks judge
    # (the clock may turn the hour between two of them), acme had 40% errors in it.
    store(db_path, [*in_hour("acme", hour - HOUR, 25, errors=10), *in_hour("acme", hour, 25, errors=10)])
    add(db_path, "--kind", "error_rate", "--threshold", "0.3")

    first = footfall("alerts", "check", db=db_path, env={**_env(), "FOOTFALL_ALERT_WEBHOOK": webhook.url})
    second = footfall("alerts", "check", db=db_path, env={**_env(), "FOOTFALL_ALERT_WEBHOOK": webhook.url})

    lines = first.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("fired: Footfall alert: Error rate for acme on Test API: 40% errors in the hour")
    assert lines[1] == "delivered: firing 1 (rule 1, acme) to 127.0.0.1:%d" % webhook.port
    assert "not-a-real-secret" not in first.stdout
    assert second.stdout.strip() == "nothing fired or resolved"
    assert [b["footfall"]["value"] for b in webhook.bodies] == [10 / 25]
    [firing] = json.loads(footfall("alerts", "firings", "--format", "json", db=db_path).stdout)
    assert (firing["customer_id"], firing["value"], firing["state"], firing["attempts"]) == ("acme", 0.4, "open", 1)
    assert rules(db_path)[0]["open_firings"] == 1


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_ALERT")}
