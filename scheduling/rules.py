"""Periods, weekly patterns, and the eligibility rules in their scalar form.

The rules of the matching format (FORMAT.md): a teacher teaches the session's
subject and level (`qualified`), lives within reach of the school (`within_reach`),
is available for the whole session (`within_availability`), has no clash
(`clashes`: two sessions of one teacher on one day must not overlap, and when
their schools differ the later one starts at least ceil(km / speed * 60) + buffer
minutes after the earlier one ends) and stays within the weekly cap (`within_cap`).
The booking path calls these one pair at a time; `scheduling.vectorised` is the
same rules over whole arrays for the solver, tested to agree with these.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduling.geo import distance_km
from scheduling.tolerances import DISTANCE_EPSILON_KM

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


def qualified(subjects: Iterable[str], levels: Iterable[str], subject: str, level: str) -> bool:
    """The teacher teaches `subject` at `level` (any subject of theirs at any level of theirs)."""
    return subject in subjects and level in levels


def within_reach(km: float, radius_km: float, district_max_km: float | None = None) -> bool:
    """The school, `km` away (geodesic), is within the teacher's own radius and the district's maximum."""
    reach = radius_km if district_max_km is None else min(radius_km, district_max_km)
    return km <= reach + DISTANCE_EPSILON_KM


def within_cap(load_periods: int, extra_periods: int, cap: int) -> bool:
    """`extra_periods` more on top of the week's `load_periods` stay within the weekly cap."""
    return load_periods + extra_periods <= cap


def within_availability(windows: Sequence[tuple[int, int, int]], day: int, start_min: int, end_min: int) -> bool:
    """True when [start, end) lies wholly inside one (day, start, end) window."""
    return any(d == day and a <= start_min and end_min <= b for d, a, b in windows)


def travel_minutes(km: float, speed_kmh: float, buffer_min: int) -> int:
    """Minutes a teacher needs between two different schools `km` apart."""
    return math.ceil(km / speed_kmh * 60) + buffer_min


def clash_minutes(a_start: int, a_end: int, b_start: int, b_end: int, travel_min: int) -> bool:
    """Rule 5 for two sessions on one day, with `travel_min` the minutes needed between their
    schools (0 for one school): they overlap, or the gap between them is shorter than the drive."""
    if a_start < b_end and b_start < a_end:
        return True
    gap = b_start - a_end if a_end <= b_start else a_start - b_end
    return gap < travel_min


def overlap_groups(days: Sequence[int], starts: Sequence[int], ends: Sequence[int]) -> list[list[int]]:
    """The overlap half of rule 5 as groups: per day, at each interval's start, the indices of the
    intervals running then (half-open [start, end)), leaving out a group held in the previous one.
    Every group pairwise overlaps, so one teacher takes at most one of it (the solver's cliques)."""
    per_day: dict[int, list[int]] = {}
    for i, day in enumerate(days):
        per_day.setdefault(int(day), []).append(i)
    groups: list[list[int]] = []
    for members in per_day.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: (starts[i], ends[i]))
        last: set[int] = set()
        for i in members:
            point = starts[i]
            active = {j for j in members if starts[j] <= point < ends[j]}
            if len(active) > 1 and not active <= last:
                groups.append(sorted(active))
            last = active
    return groups


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
    if a.start_min < b.end_min and b.start_min < a.end_min:
        return True  # an overlap clashes even at one school, and needs no distance
    if a.school == b.school:
        return False
    if km is None:
        km = distance_km((a.lat, a.lon), (b.lat, b.lon))
    return clash_minutes(a.start_min, a.end_min, b.start_min, b.end_min, travel_minutes(km, speed_kmh, buffer_min))
