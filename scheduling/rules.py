"""Periods, weekly patterns, availability, travel time and the clash rule.

The clash rule is the one of the matching format (FORMAT.md, rule 5): two
sessions of one teacher on one day must not overlap, and when their schools
differ the later one starts at least ceil(km / speed * 60) + buffer minutes
after the earlier one ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

LEVELS = ("SD", "SMP", "SMA", "SMK")

# One lesson period (jam pelajaran) in minutes, per level.
PERIOD_MINUTES = {"SD": 35, "SMP": 40, "SMA": 45, "SMK": 45}


def parse_hhmm(text: str) -> int:
    """'07:30' -> 450 minutes after midnight. Raises ValueError on anything else."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise ValueError("time must be HH:MM")
    hours, minutes = text[:2], text[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError("time must be HH:MM")
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        raise ValueError("time must be between 00:00 and 23:59")
    return h * 60 + m


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def at(day: date, minutes: int) -> datetime:
    """The local datetime `minutes` after midnight of `day`."""
    return datetime.combine(day, datetime.min.time()) + timedelta(minutes=minutes)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week holding `day` (weekly caps count per such week)."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def periods_for(level: str, start_min: int, end_min: int) -> int:
    """Lesson periods a session of this length counts as (at least one)."""
    length = end_min - start_min
    return max(1, round(length / PERIOD_MINUTES[level]))


def expand_weekly(weekdays: Iterable[int], first: date, last: date, holidays: Iterable[date] = ()) -> list[date]:
    """Every date from `first` to `last` (inclusive) on one of `weekdays` (0 = Monday), minus holidays."""
    wanted = set(weekdays)
    skip = set(holidays)
    days = []
    current = first
    while current <= last:
        if current.weekday() in wanted and current not in skip:
            days.append(current)
        current += timedelta(days=1)
    return days


def within_availability(windows: Sequence[tuple[int, int, int]], day: int, start_min: int, end_min: int) -> bool:
    """True when [start, end) lies wholly inside one (day, start, end) window."""
    return any(d == day and a <= start_min and end_min <= b for d, a, b in windows)


def travel_minutes(km: float, speed_kmh: float, buffer_min: int) -> int:
    """Minutes a teacher needs between two different schools `km` apart."""
    return math.ceil(km / speed_kmh * 60) + buffer_min


@dataclass(frozen=True)
class Slot:
    """One session as the clash rule sees it: a day, a half-open interval, a place."""

    day: date | int
    start_min: int
    end_min: int
    school: str
    lat: float
    lon: float


def clashes(a: Slot, b: Slot, speed_kmh: float, buffer_min: int, km: float | None = None) -> bool:
    """FORMAT.md rule 5. `km` is the distance between the schools, computed if not given."""
    if a.day != b.day:
        return False
    first, second = sorted((a, b), key=lambda s: (s.start_min, s.end_min))
    if second.start_min < first.end_min:
        return True
    if first.school == second.school:
        return False
    if km is None:
        from scheduling.geo import distance_km

        km = distance_km((first.lat, first.lon), (second.lat, second.lon))
    return second.start_min - first.end_min < travel_minutes(km, speed_kmh, buffer_min)
