"""The customer's own page shows this month's usage and their quota: billable requests of their
quota, the bar, and nothing of another customer."""

from __future__ import annotations

import time

from links_support import (  # noqa: F401 (fixtures)
    SHOP_API, Call, app_env, billing, make_link, open_link, traffic,
)

from core.usage import month_start, month_text
from db.writes.quotas import set_quota


def this_month(traffic, count: int, user: str, status: int = 200) -> list[Call]:
    """Calls at the start of this month (by the traffic's clock): never in the future, never last month."""
    hours = (traffic.now - month_start(traffic.now) - 1) / 3600  # a second in: float rounding stays inside
    return [Call(user, hours_ago=hours, status=status) for _ in range(count)]


def test_the_own_page_shows_this_months_billable_requests_against_the_quota(traffic, app_env, conn, db_path):
    traffic.send(*this_month(traffic, 6, "acme"), *this_month(traffic, 2, "acme", status=502),
                 *this_month(traffic, 9, "globex"))
    set_quota(conn, 1, "acme", 12)
    at = open_link(make_link(conn, db_path, "acme", SHOP_API))
    assert f"**{month_text(month_start(time.time()))}:** 6 of your 12 billable requests · 8 requests in all" in \
        [m.value for m in at.markdown]
    [bar] = at.get("progress")
    assert bar.proto.value == 50 and "50.0% of your quota" in bar.proto.text


def test_without_a_quota_the_own_page_says_so(traffic, app_env, conn, db_path):
    traffic.send(*this_month(traffic, 3, "acme"))
    at = open_link(make_link(conn, db_path, "acme", SHOP_API))
    assert any("3 billable requests (no monthly quota)" in m.value for m in at.markdown)
    assert not at.get("progress")
