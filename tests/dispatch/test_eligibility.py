"""The booking path and the solver read one eligibility rule: planned offers never fail at acceptance.

A small district is generated with its edges sharpened: schools right at a teacher's reach (their
radius, or the district's maximum when smaller), schools a whole number of minutes' drive apart, and
sessions whose gaps are exactly that drive, a minute less or a minute more. Then:

- the booking path's atomic re-check (`bookings.service.rule_violation`, with the school's blocked
  list that `book` checks beside it) accepts exactly the pairs the solver's candidates hold;
- for every teacher and two sessions they could each take, the solver's `Plan.fits` and the booking
  check with the first one booked agree: clashes with travel time and the weekly cap read the same;
- a plan made on those candidates, offered through the workflow, is accepted offer by offer.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import pytest
from geopy.distance import geodesic

from dispatch import workflow
from dispatch.bookings.service import rule_violation
from dispatch.district.service import get_district
from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession
from dispatch.planning import build_week_instance
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher
from matching.candidates import build_candidates
from matching.greedy import scarcity_first
from matching.instance import parse_instance
from matching.state import Plan
from matching.validate import check
from scheduling import travel_minutes
from scheduling.geo import distance_km
from scheduling.tolerances import DISTANCE_EPSILON_KM
from tests import factories as f
from tests.factories import next_weekday

SUBJECTS = ("MTK", "IPA")
HAIRS = (0.0, DISTANCE_EPSILON_KM / 2, -DISTANCE_EPSILON_KM / 2, 2 * DISTANCE_EPSILON_KM, 1e-6, -1e-6)


def at_distance(origin: tuple[float, float], km: float, rng: random.Random) -> tuple[float, float]:
    p = geodesic(kilometers=max(km, 0.0)).destination(origin, rng.uniform(0, 360))
    return (p.latitude, p.longitude)


def generate_district(seed: int):
    """Teachers, schools and next week's open orders; returns the Monday."""
    rng = random.Random(seed)
    district = get_district()
    speed, buffer = district.road_speed_kmh, district.travel_buffer_min
    centre = (-1.49 + rng.uniform(-0.05, 0.05), 102.12 + rng.uniform(-0.05, 0.05))
    teachers = []
    for i in range(10):
        home = at_distance(centre, rng.uniform(0, 12), rng)
        teachers.append(
            f.teacher(
                name=f"Guru {i}",
                lat=home[0],
                lon=home[1],
                # Some beyond the district's maximum, which then caps their reach.
                radius_km=rng.choice([5.0, 8.0, 12.5, 20.0, district.max_radius_km + 5]),
                subjects=rng.sample(SUBJECTS, rng.randint(1, 2)),
                levels=["SMP"],
                max_periods=rng.choice([2, 3, 4, 6, 24]),
                availability=[
                    {"day": d, "start": rng.choice(["07:00", "07:30"]), "end": rng.choice(["11:00", "13:00"])}
                    for d in range(5)
                    if rng.random() < 0.8
                ],
            )
        )
    places = [at_distance(centre, rng.uniform(0, 10), rng) for _ in range(3)]
    for teacher in rng.sample(teachers, 4):  # right at a teacher's reach
        reach = min(teacher.radius_km, district.max_radius_km)
        places.append(at_distance((teacher.lat, teacher.lon), reach + rng.choice(HAIRS), rng))
    for origin in list(places[:3]):  # a whole number of minutes' drive from another school
        minutes = rng.randint(4, 20)
        places.append(at_distance(origin, minutes * speed / 60 + rng.choice(HAIRS), rng))
    schools = [f.school(lat=lat, lon=lon) for lat, lon in places]
    schools[0].blocked.append(teachers[0])
    monday = next_weekday(0)
    for _ in range(14):
        school = rng.choice(schools)
        sessions = []
        for day in rng.sample(range(5), rng.randint(1, 3)):
            if rng.random() < 0.5:  # at a window's edge: starting at 07:00 or 07:30, a minute either way
                start = rng.choice([7 * 60, 7 * 60 + 30]) + rng.choice([-1, 0, 1])
            else:  # or ending at 11:00 or 13:00, a minute either way
                start = rng.choice([11 * 60, 13 * 60]) + rng.choice([-1, 0, 1]) - 80
            sessions.append(
                LessonSession(
                    date=monday + timedelta(days=day), start_min=start, end_min=start + 80, periods=2, status="open"
                )
            )
        f.order(school, sessions=sessions, subject=rng.choice(SUBJECTS), level="SMP")
    # Sessions after another school's, with gaps at the drive between them: minus one, exact, plus one.
    for i in range(10):
        a, b = rng.sample(schools, 2)
        drive = drive_minutes(a, b, speed, buffer)
        day = monday + timedelta(days=rng.randrange(5))
        start = 7 * 60 + rng.choice([0, 20])
        f.order(a, sessions=[LessonSession(date=day, start_min=start, end_min=start + 80, periods=2, status="open")],
                subject=SUBJECTS[i % 2], level="SMP")  # fmt: skip
        later = start + 80 + drive + rng.choice([-1, 0, 1])
        f.order(b, sessions=[LessonSession(date=day, start_min=later, end_min=later + 80, periods=2, status="open")],
                subject=SUBJECTS[i % 2], level="SMP")  # fmt: skip
    db.session.commit()
    return monday


def drive_minutes(a: School, b: School, speed: float, buffer: int) -> int:
    return travel_minutes(distance_km((a.lat, a.lon), (b.lat, b.lon)), speed, buffer)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_booking_check_accepts_exactly_the_solvers_pairs(app, seed):
    monday = generate_district(seed)
    inst = parse_instance(build_week_instance(monday))
    cand = build_candidates(inst)
    pairs = set(zip(cand.pair_session.tolist(), cand.pair_teacher.tolist(), strict=True))
    accepted = 0
    for s, session_id in enumerate(inst.session_ids):
        session = db.session.get(LessonSession, int(session_id))
        school = db.session.get(School, session.order.school_id)
        blocked = {t.id for t in school.blocked}
        for t, teacher_id in enumerate(inst.teacher_ids):
            teacher = db.session.get(Teacher, int(teacher_id))
            booking_says = rule_violation(teacher, session, school, []) is None and teacher.id not in blocked
            assert booking_says == ((s, t) in pairs), (
                session_id,
                teacher_id,
                rule_violation(teacher, session, school, []),
            )
            accepted += booking_says
    assert 0 < accepted < inst.n_sessions * inst.n_teachers  # the case decides something both ways


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clash_with_travel_and_cap_read_the_same_with_a_booking(app, seed):
    monday = generate_district(seed)
    inst = parse_instance(build_week_instance(monday))
    cand = build_candidates(inst)
    refused = allowed = 0
    for t, teacher_id in enumerate(inst.teacher_ids):
        teacher = db.session.get(Teacher, int(teacher_id))
        mine = cand.pair_session[cand.by_teacher[t]].tolist()
        rows = {s: db.session.get(LessonSession, int(inst.session_ids[s])) for s in mine}
        schools = {s: db.session.get(School, rows[s].order.school_id) for s in mine}
        for first in mine:
            plan = Plan(inst, cand)
            plan.assign(first, t)
            for second in mine:
                if second == first:
                    continue
                booking_says = rule_violation(teacher, rows[second], schools[second], [(rows[first], schools[first])])
                assert plan.fits(second, t) == (booking_says is None), (teacher_id, first, second, booking_says)
                refused += booking_says is not None
                allowed += booking_says is None
    assert refused and allowed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_plan_on_the_solvers_pairs_is_accepted_offer_by_offer(app, seed):
    monday = generate_district(seed)
    inst = parse_instance(build_week_instance(monday))
    cand = build_candidates(inst)
    plan = scarcity_first(inst, cand)
    assert check(inst, plan.assignment())[0] == []
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for s, t in plan.assignment().items():
        session = db.session.get(LessonSession, int(inst.session_ids[s]))
        groups[(session.order_id, int(inst.teacher_ids[t]))].append(session.id)
    assert len(groups) > 3
    workflow.offer_plan(dict(groups))
    db.session.commit()
    for (order_id, teacher_id), session_ids in sorted(groups.items()):
        offer = db.session.scalars(
            db.select(Offer).where(Offer.order_id == order_id, Offer.teacher_id == teacher_id, Offer.status == "open")
        ).one()
        assert sorted(offer.session_ids) == sorted(session_ids)
        workflow.accept_offer(teacher_id, offer.id)  # raises BookingRefused (409) if the two rules drifted
        db.session.commit()
    booked = db.session.scalars(db.select(LessonSession).where(LessonSession.status == "booked")).all()
    assert {(s.id, s.teacher_id) for s in booked} == {
        (int(inst.session_ids[s]), int(inst.teacher_ids[t])) for s, t in plan.assignment().items()
    }
