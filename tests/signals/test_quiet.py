"""Gone quiet: each customer against their own baseline, on traffic stored through the collector's
ingest path, and through the CLI."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from conftest import footfall
from core.quiet import QuietRule
from db.reads.quiet import customer_quiet, quiet_customers
from signals_support import DAY, HOUR, Sent, daily, store

TODAY = int(time.time()) // DAY * DAY
NOW = TODAY + 12 * HOUR  # the checks' clock; the windows end at TODAY, the last complete day
RECENT = TODAY - 7 * DAY
BASELINE = RECENT - 28 * DAY


def traffic() -> list[Sent]:
    return [
        *daily("steady", 20, BASELINE, TODAY),
        *daily("dropping", 20, BASELINE, RECENT), *daily("dropping", 5, RECENT, TODAY),
        *daily("silent", 20, BASELINE, TODAY - 3 * DAY),
        *daily("tiny", 2, BASELINE, RECENT),  # 14 a week: under the smallest baseline, never judged
        *daily("grew", 20, BASELINE, RECENT), *daily("grew", 40, RECENT, TODAY),
    ]


def expected(calls: list[Sent], user: str) -> dict:
    """The rule worked out by hand from the calls sent."""
    mine = [c.ts for c in calls if c.user == user]
    weeks = [sum(BASELINE + i * 7 * DAY <= ts < BASELINE + (i + 1) * 7 * DAY for ts in mine) for i in range(4)]
    recent = sum(RECENT <= ts < TODAY for ts in mine)
    return {"recent_requests": recent, "baseline_requests": statistics.median(weeks),
            "change": recent / statistics.median(weeks) - 1, "last_active": max(mine)}


@pytest.fixture
def sent(conn, db_path):
    calls = traffic()
    store(db_path, calls)
    return calls


def test_a_customer_whose_week_fell_by_more_than_half_is_flagged_as_dropped_and_steady_ones_are_not(sent, conn):
    flagged = {row["customer_id"]: row for row in quiet_customers(conn, 1, NOW).to_dicts()}
    assert set(flagged) == {"dropping", "silent"}
    dropping = expected(sent, "dropping")
    assert flagged["dropping"]["reason"] == "dropped"
    assert flagged["dropping"]["recent_requests"] == dropping["recent_requests"] == 35
    assert flagged["dropping"]["baseline_requests"] == dropping["baseline_requests"] == 140
    assert flagged["dropping"]["change"] == pytest.approx(dropping["change"]) == pytest.approx(-0.75)
    assert flagged["dropping"]["last_active"] == dropping["last_active"]


def test_a_customer_silent_far_longer_than_their_usual_gap_is_flagged_silent_though_their_week_fell_less(sent, conn):
    silent = quiet_customers(conn, 1, NOW).filter(customer_id="silent").to_dicts()[0]
    by_hand = expected(sent, "silent")
    assert by_hand["change"] > -0.5  # four of seven days: not a drop of half
    assert silent["reason"] == "silent"
    assert silent["last_active"] == by_hand["last_active"]
    assert silent["recent_requests"] == by_hand["recent_requests"]


def test_largest_drops_come_first_and_the_thresholds_can_be_set(sent, conn):
    assert quiet_customers(conn, 1, NOW)["customer_id"].to_list() == ["dropping", "silent"]
    # Judging customers of 10 requests a week, the tiny one has gone too; asking for a 90% drop, the dropping one has not.
    loose = quiet_customers(conn, 1, NOW, QuietRule(min_baseline=10))["customer_id"].to_list()
    assert "tiny" in loose
    strict = quiet_customers(conn, 1, NOW, QuietRule(min_drop=0.9))["customer_id"].to_list()
    assert "dropping" not in strict and "silent" in strict


def test_the_profile_line_is_the_customers_row_or_nothing(sent, conn):
    dropping_id = conn.execute("SELECT id FROM customers WHERE external_id = 'dropping'").fetchone()[0]
    steady_id = conn.execute("SELECT id FROM customers WHERE external_id = 'steady'").fetchone()[0]
    assert customer_quiet(conn, dropping_id, 1, NOW)["change"] == pytest.approx(-0.75)
    assert customer_quiet(conn, steady_id, None, NOW) is None


def test_the_cli_lists_one_row_per_flagged_customer_with_the_documented_columns(sent, db_path):
    out = footfall("quiet", "--api", "Test API", "--format", "json", "--now", str(NOW), db=db_path).stdout
    rows = json.loads(out)
    assert [r["customer_id"] for r in rows] == ["dropping", "silent"]
    assert set(rows[0]) == {"customer_id", "display_name", "recent_requests", "baseline_requests", "change",
                            "last_active", "reason"}
    assert rows[0]["recent_requests"] == 35 and rows[0]["change"] == pytest.approx(-0.75)
    csv_out = footfall("quiet", "--format", "csv", "--min-drop", "0.9", "--now", str(NOW), db=db_path).stdout
    assert csv_out.splitlines()[0] == "customer_id,display_name,recent_requests,baseline_requests,change,last_active,reason"
    assert [line.split(",")[0] for line in csv_out.splitlines()[1:]] == ["silent"]


def test_the_cli_refuses_a_threshold_out_of_range_with_a_clear_error(db_path, conn):
    result = footfall("quiet", "--min-drop", "1.5", db=db_path, check=False)
    assert result.returncode != 0 and "drop" in result.stderr
