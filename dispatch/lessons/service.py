"""After the booking: check-in at the school, the lesson record, and the rating code."""

from __future__ import annotations

import math
import secrets
from datetime import datetime, time, timedelta

from dispatch.accounts.models import User
from dispatch.district.service import district_now, get_district
from dispatch.exceptions import Conflict, Forbidden, Invalid, NotFound
from dispatch.extensions import db
from dispatch.lifecycle import FILLED, TAUGHT_OR_TO_TEACH, Action, Moved, SessionStatus, allowed, move
from dispatch.orders.models import LessonSession, Order
from dispatch.orders.service import sessions_in_lockable_orders
from dispatch.schools.models import School
from scheduling import at
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
        raise NotFound(f"No session {session_id} of yours.")
    return session


def hold_if_started(session: LessonSession, now: datetime) -> list[Moved]:
    """A checked-in lesson is held once it has started, never before."""
    if session.status == SessionStatus.BOOKED and session.checked_in_at is not None and session.starts_at <= now:
        return [move(session, Action.HOLD)]
    return []


def check_in(user: User, session_id: int, lat: float, lon: float) -> tuple[LessonSession, list[Moved]]:
    """The teacher is at the school: from 30 minutes before the start to the end. Held once it has started."""
    session = own_session(user, session_id)
    if user.role != "teacher":
        raise Forbidden("Only the booked teacher checks in.")
    if session.status not in TAUGHT_OR_TO_TEACH:
        raise Conflict(f"The session is {session.status}.")
    now = district_now()
    if not session.starts_at - CHECKIN_EARLY <= now <= session.ends_at:
        raise Conflict("Check-in opens 30 minutes before the lesson and closes at its end.")
    school = db.session.get(School, session.order.school_id)
    metres = distance_km((lat, lon), (school.lat, school.lon)) * 1000
    allowed_m = get_district().checkin_distance_m
    if metres > allowed_m:
        raise Invalid("lat", f"you are {metres:.0f} m from the school; check-in works within {allowed_m} m")
    if session.checked_in_at is None:
        session.checked_in_at = now
        session.checkin_distance_m = round(metres)
    moves = hold_if_started(session, now)
    db.session.flush()
    return session, moves


def record(
    user: User, session_id: int, topic: str, present: int, notes: str | None
) -> tuple[LessonSession, list[Moved]]:
    """The lesson record, once the lesson has started and the teacher is checked in."""
    session = own_session(user, session_id)
    if user.role != "teacher":
        raise Forbidden("The teacher who taught writes the lesson record.")
    now = district_now()
    if session.starts_at > now:
        raise Conflict("The record is written once the lesson has started.")
    moves = hold_if_started(session, now)
    if session.status != SessionStatus.HELD:
        raise Conflict("Check in first: the record is for a lesson that was held.")
    session.topic, session.present, session.notes = topic.strip(), present, (notes or "").strip() or None
    session.recorded_at = now
    db.session.flush()
    return session, moves


def rating_code(user: User, session_id: int) -> tuple[str, datetime]:
    """The session's code (made on first ask) and when it stops working."""
    session = own_session(user, session_id)
    if session.status != SessionStatus.HELD:
        raise Conflict("A rating code exists for a held lesson (after check-in, once it has started).")
    if session.rating_code is None:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if db.session.scalar(db.select(LessonSession.id).where(LessonSession.rating_code == code)) is None:
                break
        session.rating_code = code
    db.session.flush()
    return session.rating_code, session.ends_at + CODE_VALID_AFTER_END


FLAGS = ("late", "no_show")


def confirm(user: User, session_id: int) -> tuple[LessonSession, list[Moved]]:
    """The school operator confirms the lesson was held (once it has started)."""
    session = own_session(user, session_id)
    if session.status not in TAUGHT_OR_TO_TEACH:
        raise Conflict(f"The session is {session.status}.")
    now = district_now()
    if session.starts_at > now:
        raise Conflict("A lesson can be confirmed once it has started.")
    moves = [move(session, Action.HOLD)] if session.status == SessionStatus.BOOKED else []
    session.confirmed_at = now
    db.session.flush()
    return session, moves


def flag(user: User, session_id: int, kind: str) -> tuple[LessonSession, list[Moved]]:
    """The school flags the teacher late or absent; a no-show also ends the session's booking."""
    session = own_session(user, session_id)
    if session.teacher_id is None or session.status not in FILLED:
        raise Conflict("Only a booked lesson can be flagged.")
    if session.starts_at > district_now():
        raise Conflict("A lesson can be flagged once it has started.")
    session.flag = kind
    moves = [move(session, Action.NO_SHOW)] if kind == "no_show" and allowed(session, Action.NO_SHOW) else []
    db.session.flush()
    return session, moves


def due_holds(now: datetime, limit: int) -> list[Moved]:
    """Checked-in lessons that have started since: held now (at most `limit`, the clock's batch)."""
    started = db.session.scalars(
        db.select(LessonSession)
        .where(
            LessonSession.status == SessionStatus.BOOKED,
            LessonSession.checked_in_at.is_not(None),
            LessonSession.started_by(now),
        )
        .order_by(LessonSession.id)
        .limit(limit)
    ).all()
    moves = [m for session in started for m in hold_if_started(session, now)]
    db.session.flush()
    return moves


def due_no_shows(now: datetime, limit: int) -> list[Moved]:
    """Booked lessons with no check-in by their start + the district's grace time are no-shows (at most
    `limit`, the clock's batch)."""
    grace = timedelta(minutes=get_district().checkin_grace_min)
    booked = sessions_in_lockable_orders(
        [
            LessonSession.status == SessionStatus.BOOKED,
            LessonSession.checked_in_at.is_(None),
            LessonSession.started_by(now - grace),
        ],
        [LessonSession.id],
        limit,
    )
    moves = []
    for session in booked:
        if session.starts_at + grace <= now:
            session.flag = "no_show"
            moves.append(move(session, Action.NO_SHOW))
    db.session.flush()
    return moves


# After a no-show, the rest of the lesson is worth another teacher if, starting this long from now
# (time for someone near to come), this much of it remains.
REPLACEMENT_LEAD = timedelta(minutes=15)
REPLACEMENT_MIN_LENGTH = timedelta(minutes=30)


def reopen_rest(session: LessonSession, now: datetime) -> LessonSession | None:
    """After a no-show: the rest of the lesson as a new open, urgent session of the same order, if worth it."""
    start = now + REPLACEMENT_LEAD
    minutes_since_midnight = math.ceil((start - datetime.combine(start.date(), time())) / timedelta(minutes=1))
    start_min = max(session.start_min, minutes_since_midnight)
    if start.date() != session.date or session.ends_at - at(session.date, start_min) < REPLACEMENT_MIN_LENGTH:
        return None
    replacement = LessonSession(
        date=session.date,
        start_min=start_min,
        end_min=session.end_min,
        periods=max(1, round(session.periods * (session.end_min - start_min) / (session.end_min - session.start_min))),
        status=SessionStatus.OPEN,
    )
    session.order.sessions.append(replacement)
    session.order.urgent = True
    session.order.refresh_status()
    db.session.flush()
    return replacement


def lesson_records(school_id: str, first, last, class_name: str | None) -> list[LessonSession]:
    query = (
        db.select(LessonSession)
        .join(Order, LessonSession.order_id == Order.id)
        .where(Order.school_id == school_id, LessonSession.date.between(first, last))
        .where(LessonSession.status.in_((SessionStatus.HELD, SessionStatus.NO_SHOW)))
        .order_by(Order.class_name, LessonSession.date, LessonSession.start_min)
    )
    if class_name:
        query = query.where(Order.class_name == class_name)
    return db.session.scalars(query).all()
