"""After the booking: check-in at the school, the lesson record, and the rating code."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_smorest import abort

from dispatch.accounts.models import User
from dispatch.district.service import district_now, get_district
from dispatch.errors import field_error
from dispatch.extensions import db
from dispatch.orders.models import LessonSession
from dispatch.schools.models import School
from scheduling.geo import distance_km

CHECKIN_EARLY = timedelta(minutes=30)  # a teacher may check in this long before the start
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B: read aloud in a classroom
CODE_LENGTH = 6
CODE_VALID_AFTER_END = timedelta(hours=24)


def own_session(user: User, session_id: int) -> LessonSession:
    """The caller's booked session: their own as a teacher, their school's as an operator; else 404."""
    session = db.session.get(LessonSession, session_id)
    visible = session is not None and (
        (user.role == "teacher" and session.teacher_id == user.teacher_id and user.teacher_id is not None)
        or (user.role == "school_operator" and session.order.school_id == user.school_id)
        or user.role == "district_admin"
    )
    if not visible:
        abort(404, message=f"No session {session_id} of yours.")
    return session


def check_in(user: User, session_id: int, lat: float, lon: float) -> LessonSession:
    session = own_session(user, session_id)
    if user.role != "teacher":
        abort(403, message="Only the booked teacher checks in.")
    if session.status not in ("booked", "held"):
        abort(409, message=f"The session is {session.status}.")
    now = district_now()
    if not session.starts_at - CHECKIN_EARLY <= now <= session.ends_at:
        abort(409, message="Check-in opens 30 minutes before the lesson and closes at its end.")
    school = db.session.get(School, session.order.school_id)
    metres = distance_km((lat, lon), (school.lat, school.lon)) * 1000
    allowed = get_district().checkin_distance_m
    if metres > allowed:
        field_error("lat", f"you are {metres:.0f} m from the school; check-in works within {allowed} m")
    if session.checked_in_at is None:
        session.checked_in_at = now
        session.checkin_distance_m = round(metres)
    session.status = "held"
    session.order.refresh_status()
    db.session.flush()
    return session


def record(user: User, session_id: int, topic: str, present: int, notes: str | None) -> LessonSession:
    session = own_session(user, session_id)
    if user.role != "teacher":
        abort(403, message="The teacher who taught writes the lesson record.")
    if session.status != "held":
        abort(409, message="Check in first: the record is for a lesson that was held.")
    session.topic, session.present, session.notes = topic.strip(), present, (notes or "").strip() or None
    session.recorded_at = district_now()
    db.session.flush()
    return session


def rating_code(user: User, session_id: int) -> tuple[str, datetime]:
    """The session's code (made on first ask) and when it stops working."""
    session = own_session(user, session_id)
    if session.status != "held":
        abort(409, message="A rating code exists for a held lesson (after check-in).")
    if session.rating_code is None:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if db.session.scalar(db.select(LessonSession.id).where(LessonSession.rating_code == code)) is None:
                break
        session.rating_code = code
        db.session.flush()
    return session.rating_code, session.ends_at + CODE_VALID_AFTER_END


FLAGS = ("late", "no_show")


def confirm(user: User, session_id: int) -> LessonSession:
    """The school operator confirms the lesson was held."""
    session = own_session(user, session_id)
    if session.status not in ("booked", "held"):
        abort(409, message=f"The session is {session.status}.")
    if session.starts_at > district_now():
        abort(409, message="A lesson can be confirmed once it has started.")
    session.status = "held"
    session.confirmed_at = district_now()
    session.order.refresh_status()
    db.session.flush()
    return session


def flag(user: User, session_id: int, kind: str) -> LessonSession:
    """The school flags the teacher late or absent; a no-show also ends the session's booking."""
    session = own_session(user, session_id)
    if session.teacher_id is None or session.status not in ("booked", "held", "no_show"):
        abort(409, message="Only a booked lesson can be flagged.")
    if session.starts_at > district_now():
        abort(409, message="A lesson can be flagged once it has started.")
    session.flag = kind
    if kind == "no_show":
        session.status = "no_show"
        session.order.refresh_status()
    db.session.flush()
    return session


def mark_no_shows(now: datetime | None = None) -> tuple[list[LessonSession], list[LessonSession]]:
    """Booked sessions with no check-in by start + the district's grace time become no-shows.

    If the lesson has not ended, a replacement session for the rest of it is opened in the same
    order, marked urgent, and offered at once to the next teachers. Returns (no-shows, replacements).
    The caller commits."""
    now = now or district_now()
    grace = timedelta(minutes=get_district().checkin_grace_min)
    candidates = db.session.scalars(
        db.select(LessonSession).where(
            LessonSession.status == "booked", LessonSession.checked_in_at.is_(None), LessonSession.date <= now.date()
        )
    ).all()
    missed, reopened = [], []
    for session in candidates:
        if session.starts_at + grace > now:
            continue
        session.status = "no_show"
        session.flag = "no_show"
        missed.append(session)
        left = int((session.ends_at - now) / timedelta(minutes=1))
        if left >= 30:  # worth sending someone for the rest of the lesson
            start_min = session.end_min - left
            replacement = LessonSession(
                date=session.date,
                start_min=start_min,
                end_min=session.end_min,
                periods=max(1, round(session.periods * left / (session.end_min - session.start_min))),
                status="open",
            )
            session.order.sessions.append(replacement)
            session.order.urgent = True
            reopened.append(replacement)
        session.order.refresh_status()
    db.session.flush()
    from dispatch.offers.service import send_wave  # offers use bookings, which must not import lessons

    for order in {r.order for r in reopened}:
        send_wave(order)
    return missed, reopened


def lesson_records(school_id: str, first, last, class_name: str | None) -> list[LessonSession]:
    from dispatch.orders.models import Order

    query = (
        db.select(LessonSession)
        .join(Order, LessonSession.order_id == Order.id)
        .where(Order.school_id == school_id, LessonSession.date.between(first, last))
        .where(LessonSession.status.in_(("held", "no_show")))
        .order_by(Order.class_name, LessonSession.date, LessonSession.start_min)
    )
    if class_name:
        query = query.where(Order.class_name == class_name)
    return db.session.scalars(query).all()
