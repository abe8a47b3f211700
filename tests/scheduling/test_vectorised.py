"""The vectorised rules (the solver's) agree with the scalar rules (the booking path's), pair by pair.

Random cases around Bungo, with distances put right at a radius (within a hair of it either way)
and gaps right at the travel-minutes boundary, where a shortcut that drifted would first show.
"""

from __future__ import annotations

import math

import numpy as np
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.candidates import build_candidates
from matching.instance import parse_instance
from scheduling import Slot, clashes, travel_minutes, vectorised, within_availability
from scheduling.geo import distance_km
from scheduling.rules import clash_minutes, qualified, within_cap, within_reach
from scheduling.tolerances import DISTANCE_EPSILON_KM

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)

SUBJECTS = ("MTK", "IPA", "BIN")
LEVELS = ("SD", "SMP", "SMA")
# Offsets from an exact boundary, in km: on it, within the rules' tolerance either side, right at the
# tolerance (where only the exact geodesic decides), a hair past it.
HAIRS = (0.0, DISTANCE_EPSILON_KM / 2, -DISTANCE_EPSILON_KM / 2, DISTANCE_EPSILON_KM, 2 * DISTANCE_EPSILON_KM, 1e-6)

latitudes = st.floats(-1.9, -1.1)
longitudes = st.floats(101.7, 102.6)
points = st.tuples(latitudes, longitudes)


def at_distance(origin: tuple[float, float], km: float, bearing: float) -> tuple[float, float]:
    """The point `km` (geodesic) from `origin` along `bearing`."""
    p = geodesic(kilometers=max(km, 0.0)).destination(origin, bearing)
    return (p.latitude, p.longitude)


@st.composite
def homes_and_places(draw):
    """Teachers' homes and radii, and places: some random, some right at a teacher's radius."""
    teachers = draw(st.lists(st.tuples(points, st.floats(0.0, 30.0)), min_size=1, max_size=6))
    places = draw(st.lists(points, min_size=0, max_size=5))
    for _ in range(draw(st.integers(1, 6))):
        (home, radius) = draw(st.sampled_from(teachers))
        hair = draw(st.sampled_from(HAIRS))
        places.append(at_distance(home, radius + hair, draw(st.floats(0, 360))))
    return teachers, places


@given(homes_and_places(), st.one_of(st.none(), st.floats(1.0, 30.0)))
@SETTINGS
def test_reach_agrees(case, district_max):
    teachers, places = case
    radius = np.array([r if district_max is None else min(r, district_max) for _, r in teachers])
    p_lat, p_lon = np.array(places).reshape(-1, 2).T
    t_lat, t_lon = np.array([h for h, _ in teachers]).T
    reached, km = vectorised.within_reach(p_lat[:, None], p_lon[:, None], t_lat[None, :], t_lon[None, :], radius)
    for i, place in enumerate(places):
        for t, (home, r) in enumerate(teachers):
            exact = distance_km(home, place)
            assert reached[i, t] == within_reach(exact, r, district_max), (place, home, r, exact)
            if reached[i, t]:
                assert abs(km[i, t] - exact) < 1e-6


@st.composite
def windows_and_times(draw):
    minutes = st.integers(6 * 60, 18 * 60)
    per_teacher = []
    for _ in range(draw(st.integers(1, 6))):
        windows = []
        for _ in range(draw(st.integers(0, 4))):
            day, start = draw(st.integers(0, 6)), draw(minutes)
            windows.append((day, start, start + draw(st.integers(1, 300))))
        per_teacher.append(windows)
    times = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()) and any(per_teacher):
            # Right at a window's edges: the session must lie wholly inside, ends included.
            day, a, b = draw(st.sampled_from([w for ws in per_teacher for w in ws]))
            start = a + draw(st.integers(-1, 1))
            end = b + draw(st.integers(-1, 1))
        else:
            day, start = draw(st.integers(0, 6)), draw(minutes)
            end = start + draw(st.integers(1, 200))
        if end > start:
            times.append((day, start, end))
    return per_teacher, times


@given(windows_and_times())
@SETTINGS
def test_availability_agrees(case):
    per_teacher, times = case
    table = vectorised.Windows.of(per_teacher)
    for day, start, end in times:
        mask = table.available(day, start, end)
        assert mask.tolist() == [within_availability(w, day, start, end) for w in per_teacher]


subsets = st.frozensets(st.sampled_from(SUBJECTS), max_size=3)
level_sets = st.frozensets(st.sampled_from(LEVELS), max_size=3)


@given(
    st.lists(st.tuples(subsets, level_sets), min_size=1, max_size=6), st.sampled_from(SUBJECTS), st.sampled_from(LEVELS)
)
@SETTINGS
def test_qualification_agrees(teachers, subject, level):
    quals = [frozenset((s, lv) for s in subjects for lv in levels) for subjects, levels in teachers]
    mask = vectorised.qualified(quals, subject, level)
    assert mask.tolist() == [qualified(subjects, levels, subject, level) for subjects, levels in teachers]


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 6), st.integers(0, 40)), min_size=1, max_size=20))
@SETTINGS
def test_cap_agrees(rows):
    load, extra, cap = np.array(rows).T
    assert vectorised.within_cap(load, extra, cap).tolist() == [within_cap(*row) for row in rows]


@st.composite
def places_at_minute_boundaries(draw):
    """Places, some exactly a whole number of minutes' drive apart (give or take a hair)."""
    speed = draw(st.sampled_from([20.0, 30.0, 45.0, 37.5]))
    places = draw(st.lists(points, min_size=1, max_size=4))
    for _ in range(draw(st.integers(1, 5))):
        origin = draw(st.sampled_from(places))
        whole = draw(st.integers(0, 60)) * speed / 60
        places.append(at_distance(origin, whole + draw(st.sampled_from(HAIRS)), draw(st.floats(0, 360))))
    return speed, places


@given(places_at_minute_boundaries(), st.integers(0, 20))
@SETTINGS
def test_travel_minutes_agree(case, buffer):
    speed, places = case
    lat, lon = np.array(places).T
    minutes, km, complete = vectorised.travel_matrix(lat, lon, speed, buffer, max_km=1000.0)
    assert complete
    for a, p in enumerate(places):
        assert minutes[a, a] == 0
        for b, q in enumerate(places):
            if a != b:
                assert minutes[a, b] == travel_minutes(distance_km(p, q), speed, buffer), (p, q)


@given(places_at_minute_boundaries(), st.integers(0, 20), st.data())
@SETTINGS
def test_clash_with_travel_agrees(case, buffer, data):
    """Two sessions at a time, one day or two, one school or two, with gaps at and around the drive."""
    speed, places = case
    lat, lon = np.array(places).T
    travel, _km, _ = vectorised.travel_matrix(lat, lon, speed, buffer, max_km=1000.0)
    rows = []
    for _ in range(12):
        a_place, b_place = data.draw(st.integers(0, len(places) - 1)), data.draw(st.integers(0, len(places) - 1))
        a_start = data.draw(st.integers(7 * 60, 12 * 60))
        a_end = a_start + data.draw(st.integers(1, 120))
        need = 0 if a_place == b_place else travel_minutes(distance_km(places[a_place], places[b_place]), speed, buffer)
        gap = data.draw(st.sampled_from([need - 1, need, need + 1, -30, 0, data.draw(st.integers(-200, 200))]))
        b_start = a_end + gap
        b_end = b_start + data.draw(st.integers(1, 120))
        if data.draw(st.booleans()):  # b first, a after
            a_start, a_end, b_start, b_end = b_start, b_end, a_start, a_end
        days = (0, data.draw(st.sampled_from([0, 0, 1])))
        rows.append((days[0], a_start, a_end, a_place, days[1], b_start, b_end, b_place))
    columns = [np.array(c) for c in zip(*rows, strict=True)]
    vector = vectorised.clashes(*columns, travel=travel)
    for row, got in zip(rows, vector.tolist(), strict=True):
        a_day, a_start, a_end, a_place, b_day, b_start, b_end, b_place = row
        a = Slot(a_day, a_start, a_end, f"S{a_place}", *places[a_place])
        b = Slot(b_day, b_start, b_end, f"S{b_place}", *places[b_place])
        assert got == clashes(a, b, speed, buffer), row
        if a_day == b_day:
            need = travel[a_place, b_place] if a_place != b_place else 0
            assert vectorised.clash_minutes(a_start, a_end, b_start, b_end, need) == clash_minutes(
                a_start, a_end, b_start, b_end, need
            )


@st.composite
def districts(draw):
    """A small instance in the matching format: teachers, schools (some right at a radius), sessions."""
    teachers, places = draw(homes_and_places())
    minutes = st.integers(7 * 60, 13 * 60)
    teacher_rows = []
    for i, (home, radius) in enumerate(teachers):
        windows = []
        for _ in range(draw(st.integers(0, 3))):
            day, start = draw(st.integers(0, 5)), draw(minutes)
            windows.append({"day": day, "start": _hhmm(start), "end": _hhmm(start + draw(st.integers(30, 300)))})
        teacher_rows.append(
            {
                "id": f"T{i}",
                "lat": home[0],
                "lon": home[1],
                "radius_km": radius,
                "subjects": sorted(draw(subsets)),
                "levels": sorted(draw(level_sets)) or ["SD"],
                "max_periods": draw(st.integers(0, 30)),
                "availability": windows,
            }
        )
    schools = [{"id": f"S{i}", "lat": lat, "lon": lon} for i, (lat, lon) in enumerate(places)]
    blocked_at = draw(st.integers(-1, len(schools) - 1))
    if blocked_at >= 0 and teacher_rows:
        schools[blocked_at]["blocked"] = [draw(st.sampled_from(teacher_rows))["id"]]
    sessions = []
    for i in range(draw(st.integers(1, 15))):
        start = draw(minutes)
        sessions.append(
            {
                "id": f"X{i}",
                "order": f"O{i % 4}",
                "school": draw(st.sampled_from(schools))["id"],
                "subject": draw(st.sampled_from(SUBJECTS)),
                "level": draw(st.sampled_from(LEVELS)),
                "day": draw(st.integers(0, 5)),
                "start": _hhmm(start),
                "end": _hhmm(start + draw(st.integers(30, 120))),
            }
        )
    speed = draw(st.sampled_from([20.0, 30.0, 45.0]))
    return {
        "format": "guru-online/matching-instance@1",
        "travel": {"speed_kmh": speed, "buffer_min": draw(st.integers(0, 15))},
        "schools": schools,
        "teachers": teacher_rows,
        "sessions": sessions,
    }


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@given(districts())
@SETTINGS
def test_the_solver_pairs_are_exactly_the_scalar_rules(data):
    """build_candidates holds a (session, teacher) pair iff the scalar rules accept it (and the school
    does not block the teacher); its travel matrix is the scalar drive for every two schools one
    teacher reaches."""
    inst = parse_instance(data)
    cand = build_candidates(inst)
    assert cand.complete
    pairs = set(zip(cand.pair_session.tolist(), cand.pair_teacher.tolist(), strict=True))
    schools = {s["id"]: s for s in data["schools"]}
    for s, session in enumerate(data["sessions"]):
        school = schools[session["school"]]
        start, end = (int(x[:2]) * 60 + int(x[3:]) for x in (session["start"], session["end"]))
        for t, teacher in enumerate(data["teachers"]):
            windows = [(w["day"], *(int(x[:2]) * 60 + int(x[3:]) for x in (w["start"], w["end"]))) for w in teacher["availability"]]  # fmt: skip
            km = distance_km((teacher["lat"], teacher["lon"]), (school["lat"], school["lon"]))
            allowed = (
                qualified(teacher["subjects"], teacher["levels"], session["subject"], session["level"])
                and within_reach(km, teacher["radius_km"])
                and within_availability(windows, session["day"], start, end)
                and teacher["id"] not in school.get("blocked", [])
            )
            assert ((s, t) in pairs) == allowed, (session, teacher, km)
            if allowed:
                pair = next(p for p in cand.by_session[s] if cand.pair_teacher[p] == t)
                assert math.isclose(cand.pair_km[pair], km, abs_tol=1e-6)
    reach_sets = [
        {i for i, sc in enumerate(data["schools"]) if within_reach(distance_km((t["lat"], t["lon"]), (sc["lat"], sc["lon"])), t["radius_km"])}
        for t in data["teachers"]
    ]  # fmt: skip
    for reachable in reach_sets:
        for a in reachable:
            for b in reachable - {a}:
                point = (data["schools"][a]["lat"], data["schools"][a]["lon"])
                other = (data["schools"][b]["lat"], data["schools"][b]["lon"])
                assert cand.travel_min[a, b] == travel_minutes(
                    distance_km(point, other), inst.speed_kmh, inst.buffer_min
                )
