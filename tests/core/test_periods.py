"""Periods are hour-aligned, so figures come exactly from rollups."""

import pytest

from core.periods import DAY, HOUR, Period, custom_period, parse_time, preset_period, split_into_days

NOW = parse_time("2026-11-20T12:34:56Z")


def test_last_30_days_ends_with_the_current_hour():
    period = preset_period("30d", NOW)
    assert period.until == parse_time("2026-11-20T13:00:00Z")
    assert period.length == 30 * DAY


def test_previous_period_has_the_same_length_just_before():
    period = preset_period("7d", NOW)
    assert period.previous() == Period(period.since - 7 * DAY, period.since)


def test_all_time_has_no_bounds_and_no_previous_period():
    assert preset_period("all", NOW) == Period(None, None)
    assert Period(None, None).previous() is None


def test_custom_period_covers_whole_days_inclusive():
    period = custom_period("2026-11-01", "2026-11-02")
    assert (period.since, period.until) == (parse_time("2026-11-01"), parse_time("2026-11-03"))


def test_custom_period_backwards_is_refused():
    with pytest.raises(ValueError):
        custom_period("2026-11-05", "2026-11-01")


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown period"):
        preset_period("3w", NOW)


def test_split_gives_whole_days_and_edge_hours():
    since, until = parse_time("2026-11-01T20:00Z"), parse_time("2026-11-04T03:00Z")
    edges, days = split_into_days(since, until)
    assert days == (parse_time("2026-11-02"), parse_time("2026-11-04"))
    assert edges == [(since, parse_time("2026-11-02")), (parse_time("2026-11-04"), until)]


def test_split_within_one_day_is_all_hours():
    since = parse_time("2026-11-01T02:00Z")
    assert split_into_days(since, since + 5 * HOUR) == ([(since, since + 5 * HOUR)], None)
