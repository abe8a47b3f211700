"""The week as a matching instance: what the planner sees of the database."""

from dispatch.extensions import db
from dispatch.planning import build_week_instance
from dispatch.ratings.models import Rating
from matching.candidates import build_candidates
from matching.instance import parse_instance
from matching.planner import Planner
from matching.validate import check
from tests import factories as f
from tests.factories import next_weekday


def test_week_instance_carries_ratings_areas_lists_and_bookings(world):
    monday = next_weekday(0)
    booked = world.order_b.sessions[0]
    booked.status, booked.teacher_id = "booked", world.teacher_2.id
    world.school_a.blocked.append(world.teacher_2)
    world.school_a.favourites.append(world.teacher_1)
    f.teacher(name="Paused", status="paused")
    db.session.add(
        Rating(
            session_id=booked.id,
            teacher_id=world.teacher_1.id,
            school_id=world.school_a.npsn,
            stars=5,
            tags=[],
            device_hash="x",
        )
    )
    db.session.commit()

    data = build_week_instance(monday)
    inst = parse_instance(data)  # the format's own reader accepts it
    assert {t["id"] for t in data["teachers"]} == {
        str(world.teacher_1.id),
        str(world.teacher_2.id),
    }  # no paused teacher
    rated = next(t for t in data["teachers"] if t["id"] == str(world.teacher_1.id))
    assert 1 <= rated["rating"] <= 5
    assert data["fixed"] == [{"session": str(booked.id), "teacher": str(world.teacher_2.id)}]
    school_a = data["schools"][[s["id"] for s in data["schools"]].index(world.school_a.npsn)]
    assert school_a["blocked"] == [str(world.teacher_2.id)] and school_a["favourites"] == [str(world.teacher_1.id)]
    assert school_a["area"] == "" or school_a["area"].startswith("15.08")
    # The planner keeps the booking and never gives school A's session to its blocked teacher.
    result = Planner(inst, build_candidates(inst), workers=1).solve(1.0)
    problems, _scores = check(inst, result.assignment)
    assert problems == []
    names = {inst.session_ids[s]: inst.teacher_ids[t] for s, t in result.assignment.items()}
    assert names[str(booked.id)] == str(world.teacher_2.id)
    assert names.get(str(world.order_a.sessions[0].id)) == str(world.teacher_1.id)


def test_other_weeks_and_dead_kecamatan_are_left_out(world):
    from dispatch.district.models import Kecamatan

    assert build_week_instance(next_weekday(0, weeks_ahead=3))["sessions"] == []
    world.school_a.kecamatan_code = "15.08.03"
    db.session.get(Kecamatan, "15.08.03").live = False
    db.session.commit()
    data = build_week_instance(next_weekday(0))
    assert world.school_a.npsn not in {s["id"] for s in data["schools"]}
    assert {s["school"] for s in data["sessions"]} == {world.school_b.npsn}
