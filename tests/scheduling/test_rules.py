"""The rules of time and place, one family per test."""

from datetime import date

import pytest

from scheduling import Slot, clashes, expand_weekly, parse_hhmm, periods_for, travel_minutes, within_availability


@pytest.mark.parametrize("text, minutes", [("00:00", 0), ("07:30", 450), ("23:59", 1439)])
def test_parse_hhmm(text, minutes):
    assert parse_hhmm(text) == minutes


@pytest.mark.parametrize("text", ["7:30", "24:00", "07:60", "ab:cd", "07-30", "", None, "0730 "])
def test_parse_hhmm_refuses(text):
    with pytest.raises(ValueError):
        parse_hhmm(text)


@pytest.mark.parametrize(
    "level, start, end, periods",
    [("SD", "07:00", "08:10", 2), ("SD", "07:00", "08:45", 3), ("SMP", "07:30", "08:50", 2), ("SMA", "07:00", "08:30", 2),
     ("SMK", "07:00", "07:20", 1)],
)  # fmt: skip
def test_periods_per_level(level, start, end, periods):
    assert periods_for(level, parse_hhmm(start), parse_hhmm(end)) == periods


def test_weekly_pattern_with_holiday():
    days = expand_weekly([0, 3], date(2026, 1, 5), date(2026, 1, 22), holidays=[date(2026, 1, 12)])
    assert days == [date(2026, 1, 5), date(2026, 1, 8), date(2026, 1, 15), date(2026, 1, 19), date(2026, 1, 22)]


def test_availability_window_must_hold_the_whole_session():
    windows = [(0, 420, 750)]
    assert within_availability(windows, 0, 450, 530)
    assert within_availability(windows, 0, 420, 750)
    assert not within_availability(windows, 0, 700, 760)
    assert not within_availability(windows, 1, 450, 530)


def test_travel_minutes_round_up_and_add_buffer():
    assert travel_minutes(10.0, 30.0, 10) == 30
    assert travel_minutes(10.1, 30.0, 10) == 31


def slot(start, end, school="A", lat=-1.49, lon=102.10, day=0):
    return Slot(day, parse_hhmm(start), parse_hhmm(end), school, lat, lon)


def test_overlap_clashes_even_at_the_same_school():
    assert clashes(slot("07:00", "08:00"), slot("07:30", "08:30"), 30, 10)
    assert not clashes(slot("07:00", "08:00"), slot("08:00", "09:00"), 30, 10)  # half-open


def test_other_school_needs_travel_time():
    far = dict(school="B", lat=-1.49, lon=102.189)  # 9.9 km east: 20 min drive + 10 min buffer
    assert clashes(slot("07:00", "08:00"), slot("08:20", "09:00", **far), 30, 10)
    assert not clashes(slot("07:00", "08:00"), slot("08:30", "09:00", **far), 30, 10)
    assert not clashes(slot("07:00", "08:00", day=0), slot("08:00", "09:00", day=1, **far), 30, 10)


def test_week_of_and_at():
    from datetime import datetime

    from scheduling import at, week_of

    assert week_of(date(2026, 1, 8)) == (date(2026, 1, 5), date(2026, 1, 11))  # a Thursday
    assert week_of(date(2026, 1, 5)) == (date(2026, 1, 5), date(2026, 1, 11))
    assert at(date(2026, 1, 5), 450) == datetime(2026, 1, 5, 7, 30)


def test_overlap_groups_are_the_sessions_running_at_each_start():
    from scheduling.rules import overlap_groups

    # One day: 07:00-08:00, 07:30-08:30, 08:00-09:00 (half-open: the first and third do not overlap),
    # and 07:30-07:45 inside both of the first two; another day alone.
    days = [0, 0, 0, 0, 1]
    starts = [420, 450, 480, 450, 420]
    ends = [480, 510, 540, 465, 480]
    assert overlap_groups(days, starts, ends) == [[0, 1, 3], [1, 2]]
    assert overlap_groups([0, 0], [420, 480], [480, 540]) == []  # back to back: no overlap
