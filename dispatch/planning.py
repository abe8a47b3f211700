"""The district's week as a matching instance (FORMAT.md), built from the database.

`range_instance` is the one builder the weekly plan and the what-if share, so both
see the same sessions, bookings and teachers for the same dates.

Teachers carry their corrected rating (ratings/score.py) so the planner prefers
better-rated teachers; schools carry their kecamatan as the fairness "area", and
their favourite and blocked teachers; booked sessions come as fixed assignments
so they count toward every teacher's clashes and weekly cap.
"""

from __future__ import annotations

from datetime import date, timedelta

from dispatch.bookings.service import reach_km
from dispatch.district.models import Kecamatan
from dispatch.district.service import get_district
from dispatch.extensions import db
from dispatch.lifecycle import TAUGHT_OR_TO_TEACH, UNFILLED
from dispatch.orders.models import LessonSession, Order
from dispatch.ratings.service import scores
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher
from scheduling import format_hhmm, week_of

URGENT_WEIGHT = 2.0


def build_week_instance(day: date) -> dict:
    """The week (Monday to Sunday) containing `day`: open sessions to plan, booked ones fixed."""
    monday, sunday = week_of(day)
    district = get_district()
    live = {k.code for k in db.session.scalars(db.select(Kecamatan).where(Kecamatan.live.is_(True)))}
    schools = [
        s
        for s in db.session.scalars(db.select(School).order_by(School.npsn))
        if s.kecamatan_code is None or s.kecamatan_code in live
    ]
    school_ids = {s.npsn for s in schools}
    fitted, _mean = scores()
    teachers = db.session.scalars(db.select(Teacher).where(Teacher.status == "live").order_by(Teacher.id)).all()
    teacher_ids = {t.id for t in teachers}
    rows = db.session.execute(
        db.select(LessonSession, Order)
        .join(Order, LessonSession.order_id == Order.id)
        .where(LessonSession.date.between(monday, sunday))
        .where(LessonSession.status.in_((*UNFILLED, *TAUGHT_OR_TO_TEACH)))
        .order_by(LessonSession.id)
    ).all()
    sessions, fixed = [], []
    for session, order in rows:
        if order.school_id not in school_ids:
            continue
        booked = session.status in TAUGHT_OR_TO_TEACH  # held ones count toward clashes and caps too
        if booked and session.teacher_id not in teacher_ids:
            continue  # a paused teacher's booking stays; it does not enter the plan
        sessions.append(
            {
                "id": str(session.id),
                "order": str(order.id),
                "school": order.school_id,
                "subject": order.subject,
                "level": order.level,
                "day": session.date.weekday(),
                "start": format_hhmm(session.start_min),
                "end": format_hhmm(session.end_min),
                "periods": session.periods,
                "weight": URGENT_WEIGHT if order.urgent else 1.0,
            }
        )
        if booked:
            fixed.append({"session": str(session.id), "teacher": str(session.teacher_id)})
    return {
        "format": "guru-online/matching-instance@1",
        "name": f"{district.name} {monday.isoformat()}",
        "travel": {"speed_kmh": district.road_speed_kmh, "buffer_min": district.travel_buffer_min},
        "schools": [
            {
                "id": s.npsn,
                "lat": s.lat,
                "lon": s.lon,
                "area": s.kecamatan_code or "",
                "favourites": [str(t.id) for t in s.favourites],
                "blocked": [str(t.id) for t in s.blocked],
            }
            for s in schools
        ],
        "teachers": [
            {
                "id": str(t.id),
                "lat": t.lat,
                "lon": t.lon,
                "radius_km": reach_km(t),
                "subjects": t.subjects,
                "levels": t.levels,
                "max_periods": t.max_periods,
                "availability": t.availability,
                **({"rating": round(fitted[t.id].score, 3)} if t.id in fitted else {}),
            }
            for t in teachers
        ],
        "sessions": sessions,
        "fixed": fixed,
    }


def mondays(first: date, last: date) -> list[date]:
    """The Monday of every week that the range first..last touches."""
    monday = week_of(first)[0]
    out = []
    while monday <= last:
        out.append(monday)
        monday += timedelta(days=7)
    return out


def in_range_session_ids(data: dict, monday: date, first: date, last: date) -> set[str]:
    """The ids of the instance's sessions dated within first..last."""
    return {s["id"] for s in data["sessions"] if first <= monday + timedelta(days=s["day"]) <= last}


def range_instance(monday: date, first: date, last: date) -> tuple[dict, set[str]]:
    """The week of `monday` cut to first..last: its sessions in the range (open ones to plan, booked
    ones fixed), plus the week's other bookings, which still count toward each teacher's clashes and
    weekly cap. Returns the instance and the ids of the sessions in the range (what coverage counts)."""
    data = build_week_instance(monday)
    in_range = in_range_session_ids(data, monday, first, last)
    fixed = {f["session"] for f in data["fixed"]}
    data["sessions"] = [s for s in data["sessions"] if s["id"] in in_range or s["id"] in fixed]
    return data, in_range
