"""Periods: hour-aligned [since, until) ranges in epoch seconds, UTC.

Hour alignment is what lets every figure come exactly from hourly and daily rollups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

HOUR = 3600
DAY = 86400
# Where an open-ended period's range stops: a midnight far past any request (year 36812).
END_OF_TIME = 2**40 - 2**40 % DAY

PRESETS: dict[str, int | None] = {
    "24h": 24 * HOUR,
    "7d": 7 * DAY,
    "14d": 14 * DAY,
    "30d": 30 * DAY,
    "90d": 90 * DAY,
    "all": None,
}


@dataclass(frozen=True)
class Period:
    """An hour-aligned [since, until) range in epoch seconds; None at an end leaves it open."""

    since: int | None  # None: from the beginning
    until: int | None  # None: up to now and beyond

    @property
    def length(self) -> int | None:
        return None if self.since is None or self.until is None else self.until - self.since

    @property
    def is_all_time(self) -> bool:
        return self.since is None and self.until is None

    @property
    def is_bounded(self) -> bool:
        return self.since is not None and self.until is not None

    def closed(self) -> tuple[int, int]:
        """[since, until) with the open ends closed: from the epoch, up to END_OF_TIME."""
        return (0 if self.since is None else self.since, END_OF_TIME if self.until is None else self.until)

    def touched_days(self) -> tuple[int, int]:
        """[first, last) midnight of the UTC days the period touches, whole or in part."""
        since, until = self.closed()
        return since - since % DAY, -(-until // DAY) * DAY

    def previous(self) -> Period | None:
        """The period of the same length just before this one; None for all time."""
        if self.length is None:
            return None
        return Period(self.since - self.length, self.since)


def floor_hour(ts: float) -> int:
    """The start of the hour `ts` falls in."""
    return int(ts) - int(ts) % HOUR


def ceil_hour(ts: float) -> int:
    """`ts` rounded up to a whole hour."""
    return -floor_hour(-ts)


def hour_period(since: int | None, until: int | None) -> Period:
    """The whole hours covering [since, until): since rounded down, until rounded up."""
    return Period(None if since is None else floor_hour(since), None if until is None else ceil_hour(until))


def preset_period(name: str, now: float) -> Period:
    """A named period ending with the current hour, so the latest requests are in it."""
    if name not in PRESETS:
        raise ValueError(f"unknown period {name!r}; choose one of {', '.join(PRESETS)}")
    length = PRESETS[name]
    if length is None:
        return Period(None, None)
    until = floor_hour(now) + HOUR
    return Period(until - length, until)


def custom_period(first_day: str, last_day: str) -> Period:
    """Whole UTC days from first_day to last_day inclusive (ISO dates)."""
    start = _utc_midnight(first_day)
    end = _utc_midnight(last_day) + DAY
    if end <= start:
        raise ValueError("the period's last day comes before its first day")
    return Period(start, end)


def parse_time(text: str) -> int:
    """An ISO 8601 date or time; one without a zone is UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def split_into_days(since: int, until: int) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
    """[since, until) as whole UTC days plus the hour ranges at either edge.

    Returns (edge hour ranges, whole-day range or None); every range is [start, end)."""
    first_day = -(-since // DAY) * DAY
    last_day = until // DAY * DAY
    if first_day >= last_day:
        return [(since, until)], None
    edges = [(a, b) for a, b in ((since, first_day), (last_day, until)) if b > a]
    return edges, (first_day, last_day)


def _utc_midnight(day: str) -> int:
    moment = datetime.fromisoformat(day.strip()[:10]).replace(tzinfo=timezone.utc)
    return int(moment.timestamp())
