"""What the reports hold: lesson records for report cards, teaching hours for honorarium, a month's summary."""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date

from dispatch.coverage.names import subject_name
from dispatch.district.models import Kecamatan
from dispatch.exceptions import Invalid
from dispatch.extensions import db
from dispatch.lifecycle import SessionStatus
from dispatch.orders.models import LessonSession, Order
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher
from scheduling import format_hhmm


def month_range(month: str, field: str = "month") -> tuple[date, date]:
    """'2026-01' -> the first and last day of that month."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise Invalid(field, "a month as YYYY-MM", location="query") from None
    return first, date(year, number, calendar.monthrange(year, number)[1])


def lesson_record_rows(school_id: str, first: date, last: date) -> list[dict]:
    """The school's lessons of the range as an e-Rapor operator enters them: class, subject, date,
    periods, teacher, topic and attendance; taught lessons and lessons the teacher missed."""
    rows = db.session.execute(
        db.select(LessonSession, Order, Teacher)
        .join(Order, LessonSession.order_id == Order.id)
        .outerjoin(Teacher, LessonSession.teacher_id == Teacher.id)
        .where(Order.school_id == school_id, LessonSession.date.between(first, last))
        .where(LessonSession.status.in_((SessionStatus.HELD, SessionStatus.NO_SHOW)))
        .order_by(Order.class_name, Order.subject, LessonSession.date, LessonSession.start_min)
    ).all()
    return [
        {
            "class_name": order.class_name,
            "subject": order.subject,
            "subject_name": subject_name(order.subject),
            "date": session.date,
            "start": format_hhmm(session.start_min),
            "end": format_hhmm(session.end_min),
            "periods": session.periods,
            "teacher": teacher.name if teacher else "",
            "nuptk": (teacher.nuptk or "") if teacher else "",
            "held": session.status == SessionStatus.HELD,
            "topic": session.topic or "",
            "present": session.present,
            "notes": session.notes or "",
        }
        for session, order, teacher in rows
    ]


def teaching_hours(first: date, last: date) -> list[dict]:
    """Per teacher: periods (JP) taught in the range, the basis of the honorarium; beside them the
    lessons missed and those still booked ahead, which are not paid."""
    rows = db.session.execute(
        db.select(LessonSession.teacher_id, LessonSession.status, Order.school_id, LessonSession.periods)
        .join(Order, LessonSession.order_id == Order.id)
        .where(LessonSession.teacher_id.is_not(None), LessonSession.date.between(first, last))
        .where(LessonSession.status.in_((SessionStatus.HELD, SessionStatus.NO_SHOW, SessionStatus.BOOKED)))
    ).all()
    per: dict[int, dict] = defaultdict(lambda: {"held_sessions": 0, "held_periods": 0, "no_show_periods": 0,
                                                "booked_periods": 0, "schools": set()})  # fmt: skip
    for teacher_id, status, school_id, periods in rows:
        p = per[teacher_id]
        if status == SessionStatus.HELD:
            p["held_sessions"] += 1
            p["held_periods"] += periods
            p["schools"].add(school_id)
        elif status == SessionStatus.NO_SHOW:
            p["no_show_periods"] += periods
        else:
            p["booked_periods"] += periods
    teachers = {t.id: t for t in db.session.scalars(db.select(Teacher).where(Teacher.id.in_(list(per)))) if per}
    kecamatan = dict(db.session.execute(db.select(Kecamatan.code, Kecamatan.name)).all())
    out = []
    for teacher_id, p in per.items():
        t = teachers[teacher_id]
        out.append({"teacher_id": t.id, "name": t.name, "nuptk": t.nuptk or "",
                    "kecamatan": kecamatan.get(t.kecamatan_code, t.kecamatan_code or ""),
                    **{k: v for k, v in p.items() if k != "schools"}, "schools": len(p["schools"])})  # fmt: skip
    return sorted(out, key=lambda r: (r["name"], r["teacher_id"]))


def school_name(school_id: str) -> str:
    school = db.session.get(School, school_id)
    return school.name if school else school_id
