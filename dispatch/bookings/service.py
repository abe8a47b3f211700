"""The one place where a booking is made.

Every way a teacher gets lessons (accepting an offer, claiming an open order, the
weekly plan's offers) ends here, and here every rule is checked again inside the
transaction that writes the booking:

- the session is still open (a compare-and-set UPDATE: of two teachers racing for
  one session, exactly one row changes);
- the teacher is live, qualified, within reach (their radius and the district's),
  available then, not blocked by the school, free of clashes with travel time, and
  under the weekly cap; these read the teacher's other bookings, so bookings by one
  teacher are serialised by writing the teacher's row first (a row lock on
  PostgreSQL, the database write lock on SQLite) before anything is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import update
from sqlalchemy.orm import contains_eager, selectinload

from dispatch.bookings.models import Withdrawal
from dispatch.district.service import NOT_LIVE, district_now, get_district, kecamatan_live
from dispatch.exceptions import Conflict, NotFound
from dispatch.extensions import db
from dispatch.lifecycle import (
    FILLED,
    TAUGHT_OR_TO_TEACH,
    UNFILLED,
    Action,
    Moved,
    SessionStatus,
    move,
    order_status,
    sources,
    target,
)
from dispatch.orders.models import LessonSession, Order
from dispatch.orders.service import lock_order
from dispatch.schools.models import School, school_blocked
from dispatch.teachers.models import Teacher
from scheduling import Slot, clashes, week_of, within_availability
from scheduling.geo import box_degrees, distance_km
from scheduling.rules import qualified, within_cap, within_reach


class BookingRefused(Conflict):
    """The booking would break a rule or lost a race; the message says which (an HTTP 409)."""


def reach_km(teacher: Teacher) -> float:
    """How far the teacher may be sent: their own radius, capped by the district's maximum."""
    return min(teacher.radius_km, get_district().max_radius_km)


def open_future_sessions(order: Order) -> list[LessonSession]:
    """The order's sessions that still need a teacher and have not started."""
    now = district_now()
    return [s for s in order.sessions if s.status in UNFILLED and s.starts_at > now]


def rule_violation(
    teacher: Teacher, session: LessonSession, school: School, booked: list[tuple[LessonSession, School]]
) -> str | None:
    """Why `teacher` may not teach `session` given their `booked` sessions, or None. Pure reads, no writes."""
    district = get_district()
    order = session.order
    if teacher.status != "live":
        return "the teacher is paused"
    if not kecamatan_live(school.kecamatan_code):
        return NOT_LIVE
    if not qualified(teacher.subjects, teacher.levels, order.subject, order.level):
        return f"the teacher does not teach {order.subject} at {order.level}"
    km = distance_km((teacher.lat, teacher.lon), (school.lat, school.lon))
    if not within_reach(km, teacher.radius_km, district.max_radius_km):
        return f"the school is {km:.1f} km away, beyond the teacher's reach of {reach_km(teacher):g} km"
    if not within_availability(teacher.windows(), session.date.weekday(), session.start_min, session.end_min):
        return "the session lies outside the teacher's availability"
    new = Slot(session.date, session.start_min, session.end_min, school.npsn, school.lat, school.lon)
    for other, other_school in booked:
        if other.date != session.date:
            continue
        slot = Slot(other.date, other.start_min, other.end_min, other_school.npsn, other_school.lat, other_school.lon)
        if clashes(new, slot, district.road_speed_kmh, district.travel_buffer_min):
            return f"clashes with booked session {other.id} ({other.date} {other.start_min // 60:02d}:{other.start_min % 60:02d}), travel time included"
    monday, sunday = week_of(session.date)
    load = sum(o.periods for o, _ in booked if monday <= o.date <= sunday)
    if not within_cap(load, session.periods, teacher.max_periods):
        return f"the weekly cap of {teacher.max_periods} periods would be exceeded ({load} booked that week)"
    return None


def _booked_sessions(teacher_id: int, days: Iterable[date]) -> list[tuple[LessonSession, School]]:
    weeks = {week_of(d) for d in days}
    if not weeks:
        return []
    first, last = min(w[0] for w in weeks), max(w[1] for w in weeks)
    rows = db.session.execute(
        db.select(LessonSession, School)
        .join(Order, LessonSession.order_id == Order.id)
        .join(School, Order.school_id == School.npsn)
        .where(LessonSession.teacher_id == teacher_id, LessonSession.status.in_(TAUGHT_OR_TO_TEACH))
        .where(LessonSession.date.between(first, last))
    ).all()
    return [(s, school) for s, school in rows]


def book(teacher_id: int, session_ids: list[int]) -> tuple[list[LessonSession], list[Moved]]:
    """Book all the given sessions for the teacher, or none (BookingRefused): the sessions and the moves.

    The caller (the workflow) settles the follow-ups and commits."""
    if not session_ids:
        raise BookingRefused("no sessions to book")
    # 1. Serialise this teacher's bookings: write their row before reading anything that decides.
    locked = db.session.execute(update(Teacher).where(Teacher.id == teacher_id).values(status=Teacher.status))
    if locked.rowcount != 1:
        raise BookingRefused(f"no teacher {teacher_id}")
    teacher = db.session.get(Teacher, teacher_id, populate_existing=True)
    # Lock the sessions in id order (PostgreSQL; SQLite holds its write lock already): two teachers
    # racing for overlapping sessions queue up here instead of deadlocking.
    sessions = db.session.scalars(
        db.select(LessonSession)
        .where(LessonSession.id.in_(session_ids))
        .order_by(LessonSession.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if len(sessions) != len(set(session_ids)):
        raise BookingRefused("unknown session")
    now = district_now()
    booked = _booked_sessions(teacher_id, [s.date for s in sessions])
    bookable = sources("session", Action.BOOK)
    before = {s.id: s.status for s in sessions}
    for session in sorted(sessions, key=lambda s: (s.date, s.start_min)):
        order = session.order
        school = db.session.get(School, order.school_id)
        if session.status not in bookable:
            raise BookingRefused(f"session {session.id} is already {session.status}")
        if session.starts_at <= now:
            raise BookingRefused(f"session {session.id} has already started")
        if db.session.scalar(
            db.select(school_blocked.c.teacher_id).where(
                school_blocked.c.school_id == school.npsn, school_blocked.c.teacher_id == teacher_id
            )
        ):
            raise BookingRefused("the school does not take this teacher")
        reason = rule_violation(teacher, session, school, booked)
        if reason:
            raise BookingRefused(f"session {session.id}: {reason}")
        booked.append((session, school))
    # 2. Compare-and-set: the life cycle's BOOK move, as one UPDATE that changes only sessions still
    # bookable; fewer rows changed means someone was faster.
    booked_status = target("session", Action.BOOK)
    changed = db.session.execute(
        update(LessonSession)
        .where(LessonSession.id.in_([s.id for s in sessions]), LessonSession.status.in_(bookable))
        .values(status=booked_status, teacher_id=teacher_id)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != len(sessions):
        raise BookingRefused("another teacher booked it first")
    for session in sessions:
        db.session.refresh(session)
    for order in {s.order for s in sessions}:
        db.session.refresh(order)
        order.status = str(order_status([s.status for s in order.sessions], order.status))
    db.session.flush()
    moves = [Moved("session", s.id, Action.BOOK, before[s.id], booked_status, s.order_id, teacher_id) for s in sessions]
    return sessions, moves


def claimable(
    teacher: Teacher,
    order: Order,
    booked: list[tuple[LessonSession, School]] | None = None,
    blocked_by: set[str] | None = None,
) -> list[LessonSession]:
    """The order's open future sessions that the teacher could book now (no writes).

    A caller looking at many orders for one teacher passes what is the same for all of them: the
    teacher's `booked` sessions (any that cover the order's weeks) and the schools that block the
    teacher (`blocked_by`)."""
    school = order.school
    future = open_future_sessions(order)
    if not future:
        return []
    blocked = school.npsn in blocked_by if blocked_by is not None else teacher.id in {t.id for t in school.blocked}
    if blocked:
        return []
    booked = list(booked) if booked is not None else _booked_sessions(teacher.id, [s.date for s in future])
    chosen = []
    for session in sorted(future, key=lambda s: (s.date, s.start_min)):
        if rule_violation(teacher, session, school, booked) is None:
            chosen.append(session)
            booked.append((session, school))
    return chosen


def open_orders_for(teacher: Teacher, limit: int = 200) -> list[tuple[Order, list[LessonSession]]]:
    """Orders with sessions the teacher could take: subject, level, reach, availability, no clash, cap."""
    box_lat, box_lon = box_degrees(teacher.lat, reach_km(teacher))  # a cheap box before the exact distance
    query = (
        db.select(Order)
        .join(School, Order.school_id == School.npsn)
        .where(Order.status.in_(("open", "partly_booked")))
        .where(Order.subject.in_(teacher.subjects), Order.level.in_(teacher.levels))
        .where(
            School.lat.between(teacher.lat - box_lat, teacher.lat + box_lat),
            School.lon.between(teacher.lon - box_lon, teacher.lon + box_lon),
        )
        .order_by(Order.urgent.desc(), Order.id)
        # Every order's sessions and school at once, kept while the orders are: at the morning peak a
        # teacher looks through dozens of open orders, and one by one that was hundreds of queries.
        .options(selectinload(Order.sessions), contains_eager(Order.school))
    )
    orders = db.session.scalars(query).unique().all()
    days = [s.date for order in orders for s in open_future_sessions(order)]
    booked = _booked_sessions(teacher.id, days)
    blocked_by = set(
        db.session.scalars(db.select(school_blocked.c.school_id).where(school_blocked.c.teacher_id == teacher.id))
    )
    found = []
    for order in orders:
        sessions = claimable(teacher, order, booked, blocked_by)
        if sessions:
            found.append((order, sessions))
            if len(found) >= limit:
                break
    return found


def schedule(teacher_id: int, first: date, last: date) -> list[LessonSession]:
    return db.session.scalars(
        db.select(LessonSession)
        .where(LessonSession.teacher_id == teacher_id, LessonSession.status.in_(FILLED))
        .where(LessonSession.date.between(first, last))
        .order_by(LessonSession.date, LessonSession.start_min)
    ).all()


def withdraw(teacher_id: int, session_id: int, reason: str) -> tuple[LessonSession, Moved]:
    """The teacher gives a booked session back (the workflow sends it back to dispatch). The caller commits.

    Withdrawing within the district's late-withdrawal hours of the lesson is recorded as late,
    which shows beside the teacher's ratings."""
    order_id = db.session.scalar(db.select(LessonSession.order_id).where(LessonSession.id == session_id))
    if order_id is not None:
        lock_order(order_id)  # before the session: its next wave locks the order's offers (`lock_order`)
    session = db.session.get(LessonSession, session_id, with_for_update=True, populate_existing=True)
    if session is None or session.teacher_id != teacher_id:
        raise NotFound(f"No booked session {session_id} of yours.")
    now = district_now()
    if session.status != SessionStatus.BOOKED:
        raise BookingRefused(f"session {session_id} is {session.status}, not booked")
    if session.starts_at <= now:
        raise BookingRefused(f"session {session_id} has already started; tell the school instead")
    late = session.starts_at - now < timedelta(hours=get_district().late_withdrawal_hours)
    db.session.add(
        Withdrawal(session_id=session.id, order_id=session.order_id, teacher_id=teacher_id, reason=reason, late=late)
    )
    moved = move(session, Action.WITHDRAW)
    session.teacher_id = None
    db.session.flush()
    return session, moved
