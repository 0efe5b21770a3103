"""Usage for billing: UTC calendar months, what an API bills, quotas and their alerts.

- A month is a UTC calendar month, [its first midnight, the next month's); the current one runs
  to now. Rollups key months by their first midnight in epoch seconds (month_start).
- Billable requests: every request but those an API excludes: by default those answered 5xx (the
  API's own failures); `footfall apis billable API --exclude 5xx,429` sets it per API.
- A quota is a number of billable requests a month, a customer's own or their API's default.
  Quota alerts fire when a customer's billable requests this month reach 80% and 100% of it: once
  per customer, threshold and month; a check that finds both crossed fires only the 100% one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from core.alerts import customer_named, iso_utc, utc_text, webhook_body

EXCLUDABLE = ("5xx", "429")  # what an API may leave out of its billable requests
DEFAULT_EXCLUDED = ("5xx",)
QUOTA_THRESHOLDS = (0.8, 1.0)  # shares of the quota that fire, lowest first
MONTH_PATTERN = re.compile(r"(\d{4})-(\d{1,2})")


def parse_month(text: str) -> int:
    """A month written YYYY-MM, as its first midnight (epoch seconds, UTC); ValueError saying why
    otherwise (2026-13 is no month)."""
    match = MONTH_PATTERN.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expected a month written YYYY-MM, like 2026-12, got {text!r}")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or year < 1970:
        raise ValueError(f"{text.strip()} is not a month: months run from 01 to 12 (from 1970 on)")
    return int(datetime(year, month, 1, tzinfo=timezone.utc).timestamp())


def month_start(ts: float) -> int:
    """The first midnight (UTC) of the month `ts` falls in."""
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    return int(datetime(moment.year, moment.month, 1, tzinfo=timezone.utc).timestamp())


def next_month(start: int) -> int:
    """The first midnight of the month after the one starting at `start`."""
    moment = datetime.fromtimestamp(start, tz=timezone.utc)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return int(datetime(year, month, 1, tzinfo=timezone.utc).timestamp())


def month_text(start: int) -> str:
    """A month as YYYY-MM."""
    return datetime.fromtimestamp(start, tz=timezone.utc).strftime("%Y-%m")


def parse_excluded(text: str) -> tuple[str, ...]:
    """--exclude's value ("5xx,429", "5xx", "none" or "") as the statuses left out of billing;
    ValueError naming what may be excluded otherwise."""
    parts = [part.strip().lower() for part in text.split(",") if part.strip()]
    if parts == ["none"]:
        return ()
    unknown = [part for part in parts if part not in EXCLUDABLE]
    if unknown:
        raise ValueError(f"cannot exclude {', '.join(map(repr, unknown))} from billing: choose from"
                         f" {', '.join(EXCLUDABLE)} (comma-separated), or none")
    return tuple(status for status in EXCLUDABLE if status in parts)


def excluded_text(excluded: tuple[str, ...]) -> str:
    """What an API leaves out of billing, in words."""
    return "every request billed" if not excluded else "every request but " + " and ".join(excluded)


def check_quota(monthly: object) -> int:
    """A monthly quota: a whole number of requests above 0; ValueError otherwise."""
    if isinstance(monthly, bool) or not isinstance(monthly, int) or monthly < 1:
        raise ValueError(f"a monthly quota is a whole number of requests above 0, not {monthly!r}")
    return monthly


def crossed_threshold(used: int, quota: int) -> float | None:
    """The highest quota threshold `used` billable requests reach, None below the lowest."""
    reached = [threshold for threshold in QUOTA_THRESHOLDS if used >= threshold * quota]
    return reached[-1] if reached else None


def threshold_percent(threshold: float) -> str:
    """A quota threshold as "80%" or "100%"."""
    return f"{threshold:.0%}"


@dataclass(frozen=True)
class QuotaFiringMessage:
    """Everything a quota firing's message says (the webhook's body, as core.alerts.FiringMessage's)."""

    firing_id: int
    api: str
    customer_id: str  # the ID shown
    display_name: str
    month: int  # its first midnight
    threshold: float  # 0.8 or 1.0
    used: int  # billable requests when it fired
    quota: int
    fired_at: int

    def line(self) -> str:
        """One readable line: who, which threshold of their quota, used and quota, where, when."""
        who = customer_named(self.customer_id, self.display_name)
        return (f"Footfall alert: {who} reached {threshold_percent(self.threshold)} of their monthly quota on"
                f" {self.api}: {self.used:,} of {self.quota:,} billable requests in {month_text(self.month)},"
                f" {utc_text(self.fired_at)}")

    def body(self) -> dict:
        """The webhook's JSON body, in FiringMessage.body's form (Slack-compatible, names literal)."""
        return webhook_body(self.line(), {
            "quota_firing_id": self.firing_id,
            "kind": "quota",
            "threshold": threshold_percent(self.threshold),
            "api": self.api,
            "customer_id": self.customer_id,
            "display_name": self.display_name,
            "month": month_text(self.month),
            "used": self.used,
            "quota": self.quota,
            "fired_at": iso_utc(self.fired_at),
        })


def recent_months(now: float, count: int) -> list[int]:
    """The first midnights of the `count` months up to the one `now` falls in, newest first."""
    months = [month_start(now)]
    while len(months) < count:
        months.append(month_start(months[-1] - 1))
    return months
