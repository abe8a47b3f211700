"""Orders: post (single dates or a weekly pattern), list, read and cancel."""

from __future__ import annotations

from datetime import timedelta

from dispatch.accounts.models import User
from dispatch.district.service import district_now, get_district
from dispatch.exceptions import Conflict, Forbidden, Invalid, NotFound
from dispatch.extensions import db
from dispatch.lifecycle import FILLED, UNFILLED, Action, Moved, OrderStatus, SessionStatus, allowed, move
from dispatch.orders.models import LessonSession, Order
from dispatch.orders.schemas import MAX_SESSIONS
from dispatch.schools.models import School
from dispatch.teachers.service import check_subjects
from scheduling import at, expand_weekly, format_hhmm, parse_hhmm, periods_for

URGENT_WITHIN = timedelta(hours=24)


def _school_for(user: User, school_id: str | None) -> School:
    if user.role == "school_operator":
        if school_id is not None and school_id != user.school_id:
            raise Forbidden("A school operator posts orders for their own school only.")
        school_id = user.school_id
    elif not school_id:
        raise Invalid("school_id", "a district admin names the school")
    school = db.session.get(School, school_id)
    if school is None:
        raise Invalid("school_id", f"unknown school {school_id}")
    return school


def _session_slots(data: dict) -> list[tuple]:
    """(date, start_min, end_min, field) for every session the order asks for."""
    if "sessions" in data:
        return [
            (s["date"], parse_hhmm(s["start"]), parse_hhmm(s["end"]), f"sessions.{i}.")
            for i, s in enumerate(data["sessions"])
        ]
    weekly = data["weekly"]
    days = expand_weekly(weekly["weekdays"], weekly["from_"], weekly["until"], get_district().holiday_dates())
    if not days:
        raise Invalid("weekly", "the pattern gives no dates between from and until")
    if len(days) > MAX_SESSIONS:
        raise Invalid("weekly", f"the pattern gives {len(days)} sessions; at most {MAX_SESSIONS} per order")
    start, end = parse_hhmm(weekly["start"]), parse_hhmm(weekly["end"])
    return [(day, start, end, "weekly.") for day in days]


def create_order(user: User, data: dict) -> Order:
    """Validate against the district and the school, then write the order and its sessions. The caller commits."""
    school = _school_for(user, data.get("school_id"))
    check_subjects([data["subject"]], field="subject")
    if school.level != "SLB" and data["level"] != school.level:
        raise Invalid("level", f"school {school.npsn} is an {school.level}; its orders are {school.level} lessons")
    slots = sorted(_session_slots(data), key=lambda s: (s[0], s[1]))
    now = district_now()
    for day, start, _end, field in slots:
        if at(day, start) <= now:
            raise Invalid(
                field + ("from" if field == "weekly." else "date"),
                f"{day.isoformat()} {format_hhmm(start)} is in the past",
            )
    for (day_a, _s, end_a, _f), (day_b, start_b, _e, field_b) in zip(slots, slots[1:], strict=False):
        if day_a == day_b and start_b < end_a:
            raise Invalid(field_b + "start", "overlaps another session of this order")
    first_day, first_start = slots[0][0], slots[0][1]
    starts_soon = at(first_day, first_start) - now <= URGENT_WITHIN
    weekly = data.get("weekly")
    order = Order(
        school_id=school.npsn,
        subject=data["subject"],
        level=data["level"],
        class_name=data["class_name"].strip(),
        reason=data["reason"],
        urgent=bool(data.get("urgent")) or starts_soon,
        status=OrderStatus.OPEN,
        weekly=(
            {
                "weekdays": weekly["weekdays"],
                "start": weekly["start"],
                "end": weekly["end"],
                "from": weekly["from_"].isoformat(),
                "until": weekly["until"].isoformat(),
            }
            if weekly
            else None
        ),
        created_by=user.id,
    )
    order.sessions = [
        LessonSession(
            date=day,
            start_min=start,
            end_min=end,
            periods=periods_for(data["level"], start, end),
            status=SessionStatus.OPEN,
        )
        for day, start, end, _field in slots
    ]
    db.session.add(order)
    db.session.flush()
    return order


def visible_orders(user: User, status: str | None = None, school_id: str | None = None):
    query = db.select(Order).order_by(Order.id.desc())
    if user.role == "school_operator":
        query = query.where(Order.school_id == user.school_id)
    elif school_id:
        query = query.where(Order.school_id == school_id)
    if status:
        query = query.where(Order.status == status)
    return query


def lock_order(order_id: int) -> Order | None:
    """The order, its row locked for this transaction and read afresh (its sessions too).

    The lock order every write that moves an order's sessions or offers follows (PostgreSQL; SQLite
    serialises writers at BEGIN): the order, then the teacher, then the sessions, then the offers.
    Answers to one order's offers (an accept and a decline, each holding its own offer and then locking
    the others) otherwise deadlocked, a second each, at the morning peak (bench/peak); and a wave built
    beside a booking in progress could offer a session that was being booked. NO KEY UPDATE: a new
    offer or session referring to the order (a foreign key's KEY SHARE) need not wait for it.
    """
    order = db.session.get(Order, order_id, with_for_update={"key_share": True}, populate_existing=True)
    if order is not None:
        db.session.expire(order, ["sessions"])
    return order


def lock_orders(order_ids, skip_locked: bool) -> list[int]:
    """Lock several orders in id order (`lock_order`); the ids locked. With `skip_locked`, those another
    transaction holds are left out (the clock: an order being answered now waits for its next round)."""
    if not order_ids:
        return []
    return list(
        db.session.scalars(
            db.select(Order.id)
            .where(Order.id.in_(sorted(set(order_ids))))
            .order_by(Order.id)
            .with_for_update(key_share=True, skip_locked=skip_locked)
        )
    )


def sessions_in_lockable_orders(where, order_by, limit: int) -> list[LessonSession]:
    """The clock's batch of sessions (at most `limit`) from the orders it could lock, read once locked:
    its follow-ups lock their orders' offers, so the orders come first (`lock_order`)."""
    order_ids = db.session.scalars(db.select(LessonSession.order_id).where(*where).order_by(*order_by).limit(limit))
    locked = lock_orders(order_ids.all(), skip_locked=True)
    return db.session.scalars(
        db.select(LessonSession)
        .where(*where, LessonSession.order_id.in_(locked))
        .order_by(*order_by)
        .limit(limit)
        .execution_options(populate_existing=True)
    ).all()


def order_for(user: User, order_id: int) -> Order:
    """The order, if the caller may see it; someone else's is a 404, as if it did not exist."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(f"No order {order_id}.")
    if user.role == "school_operator" and order.school_id != user.school_id:
        raise NotFound(f"No order {order_id}.")
    if user.role == "teacher" and not any(s.teacher_id == user.teacher_id for s in order.sessions):
        raise NotFound(f"No order {order_id}.")
    return order


def cancel_order(user: User, order_id: int) -> tuple[Order, list[Moved]]:
    """Cancel every session not yet started, and the order. The caller settles the follow-ups and commits."""
    order = order_for(user, order_id)
    if user.role == "teacher":
        raise Forbidden("Teachers withdraw from sessions; they do not cancel orders.")
    if not allowed(order, Action.CANCEL):
        raise Conflict(f"The order is already {order.status}.")
    now = district_now()
    moves = [move(order, Action.CANCEL)]  # first: a cancelled order stays so whatever its sessions say
    moves += [
        move(session, Action.CANCEL)
        for session in order.sessions
        # An unfilled session goes whenever; a booked one only before it starts (after, it was taught or missed).
        if allowed(session, Action.CANCEL) and (session.status in UNFILLED or session.starts_at > now)
    ]
    order.cancelled_at = now
    order.next_wave_at = None
    db.session.flush()
    return order, moves


def expire_started_unfilled(now, limit: int) -> list[Moved]:
    """Sessions that started with nobody to teach them expire, at most `limit` of them (the clock's batch:
    a backlog is worked off over its rounds, each a short transaction). The caller settles and commits."""
    due = sessions_in_lockable_orders(
        [LessonSession.status.in_(UNFILLED), LessonSession.started_by(now)],
        [LessonSession.date, LessonSession.start_min, LessonSession.id],
        limit,
    )
    moves = [move(s, Action.EXPIRE) for s in due if s.starts_at <= now]
    db.session.flush()
    return moves


def booked_teacher_ids(order: Order) -> set[int]:
    return {s.teacher_id for s in order.sessions if s.teacher_id is not None and s.status in FILLED}


def urgent_orders_waiting_in(kecamatan_code: str) -> list[int]:
    """Urgent orders of the kecamatan's schools with sessions still to fill and not started: a kecamatan
    that goes live offers them at once, as it would have when they were posted."""
    now = district_now()
    rows = db.session.execute(
        db.select(Order.id, LessonSession.date, LessonSession.start_min)
        .join(LessonSession, LessonSession.order_id == Order.id)
        .join(School, Order.school_id == School.npsn)
        .where(School.kecamatan_code == kecamatan_code, Order.urgent.is_(True))
        .where(LessonSession.status.in_(tuple(UNFILLED)), LessonSession.date >= now.date())
    ).all()
    return sorted({order_id for order_id, day, start in rows if at(day, start) > now})
