"""Instant dispatch: offers in waves for urgent orders, accepted through the one booking path.

An urgent order is offered at once to the best few teachers who can take it now
(the school's favourites first, then the better rated, then the nearest); when
they decline or the offer expires, the next wave goes out. Accepting books
through `bookings.book`, which re-checks every rule; the other open offers for
those sessions close as "taken".
"""

from __future__ import annotations

import heapq
from datetime import timedelta

from flask_smorest import abort

from dispatch.bookings.models import Withdrawal
from dispatch.bookings.service import BookingRefused, book, claimable, open_future_sessions, reach_km
from dispatch.district.service import district_now, get_district
from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.orders.models import UNFILLED, Order
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher
from scheduling import within_availability
from scheduling.geo import distance_km

WAVE_SIZE = 3


def _candidates(order: Order, limit: int) -> list[tuple[Teacher, list[int], bool]]:
    """The `limit` best teachers who could take the order's open sessions now: (teacher, sessions, favourite).

    Best: the school's favourites first, then those who can take more of the order's sessions,
    then the nearest. Checking a teacher's bookings costs a query, so cheap rules (qualification,
    reach, availability) give each teacher an upper bound on the sessions they could take, and
    only the teachers that bound puts in front are checked exactly (a lazy priority queue: the
    result is the same as checking everyone, in a few queries instead of hundreds).
    """
    school = db.session.get(School, order.school_id)
    future = open_future_sessions(order)
    if not future:
        return []
    already = set(db.session.scalars(db.select(Offer.teacher_id).where(Offer.order_id == order.id)))
    already |= {s.teacher_id for s in order.sessions if s.status == "no_show"}  # not the one who did not come
    already |= set(db.session.scalars(db.select(Withdrawal.teacher_id).where(Withdrawal.order_id == order.id)))
    already |= {t.id for t in school.blocked}
    favourites = {t.id for t in school.favourites}
    district_reach = get_district().max_radius_km
    box = district_reach / 100
    teachers = db.session.scalars(
        db.select(Teacher).where(
            Teacher.status == "live",
            Teacher.lat.between(school.lat - box, school.lat + box),
            Teacher.lon.between(school.lon - box, school.lon + box),
        )
    ).all()
    queue = []
    for teacher in teachers:
        if teacher.id in already or order.subject not in teacher.subjects or order.level not in teacher.levels:
            continue
        km = distance_km((teacher.lat, teacher.lon), (school.lat, school.lon))
        if km > reach_km(teacher) + 1e-9:
            continue
        windows = teacher.windows()
        upper = sum(within_availability(windows, s.date.weekday(), s.start_min, s.end_min) for s in future)
        if upper:
            queue.append((teacher.id not in favourites, -upper, km, teacher.id, teacher, None))
    heapq.heapify(queue)
    found = []
    while queue and len(found) < limit:
        not_favourite, _, km, teacher_id, teacher, sessions = heapq.heappop(queue)
        if sessions is not None:  # checked exactly, and still in front
            found.append((teacher, [s.id for s in sessions], not not_favourite))
            continue
        sessions = claimable(teacher, order)
        if sessions:
            heapq.heappush(queue, (not_favourite, -len(sessions), km, teacher_id, teacher, sessions))
    return found


def send_wave(order: Order) -> list[Offer]:
    """Offer the order to the next few teachers. The caller commits."""
    if order.status in ("cancelled", "completed", "expired", "booked"):
        return []
    district = get_district()
    minutes = district.urgent_offer_timeout_min if order.urgent else district.offer_timeout_min
    wave = 1 + (db.session.scalar(db.select(db.func.max(Offer.wave)).where(Offer.order_id == order.id)) or 0)
    now = district_now()
    candidates = _candidates(order, WAVE_SIZE)
    order.next_wave_at = None
    favourites = [c for c in candidates if c[2]]
    head_start = timedelta(minutes=district.favourite_head_start_min)
    if wave == 1 and favourites and head_start:
        # The school's favourites have the order to themselves for a while; then the rest are offered
        # it too, whether or not the favourites have answered.
        candidates = favourites
        order.next_wave_at = now + min(head_start, timedelta(minutes=minutes))
    offers = [
        Offer(
            order_id=order.id,
            teacher_id=teacher.id,
            session_ids=session_ids,
            status="open",
            wave=wave,
            expires_at=now + timedelta(minutes=minutes),
        )
        for teacher, session_ids, _ in candidates[:WAVE_SIZE]
    ]
    db.session.add_all(offers)
    if offers:
        for session in order.sessions:
            if session.status == "open" and any(session.id in o.session_ids for o in offers):
                session.status = "offered"
    db.session.flush()
    return offers


def open_offers(teacher_id: int) -> list[Offer]:
    now = district_now()
    return db.session.scalars(
        db.select(Offer)
        .where(Offer.teacher_id == teacher_id, Offer.status == "open", Offer.expires_at > now)
        .order_by(Offer.expires_at)
    ).all()


def _own_open_offer(teacher_id: int, offer_id: int) -> Offer:
    # Locked (PostgreSQL) so the clock cannot expire it while the teacher answers; on SQLite the
    # answer's first write fails if the clock wrote in between, and the client is told to retry.
    offer = db.session.get(Offer, offer_id, with_for_update=True, populate_existing=True)
    if offer is None or offer.teacher_id != teacher_id:
        abort(404, message=f"No offer {offer_id} of yours.")
    if offer.status != "open" or offer.expires_at <= district_now():
        abort(409, message=f"The offer is {'expired' if offer.status == 'open' else offer.status}.")
    return offer


def accept(teacher_id: int, offer_id: int) -> Offer:
    """Book the offer's sessions (all or none); other teachers' open offers for them close as taken."""
    offer = _own_open_offer(teacher_id, offer_id)
    try:
        book(teacher_id, offer.session_ids)
    except BookingRefused as refused:
        abort(409, message=str(refused))
    now = district_now()
    offer.status, offer.closed_at = "accepted", now
    taken = set(offer.session_ids)
    for other in db.session.scalars(
        db.select(Offer).where(Offer.order_id == offer.order_id, Offer.status == "open", Offer.id != offer.id)
    ):
        if taken & set(other.session_ids):
            other.status, other.closed_at = "taken", now
    db.session.flush()
    return offer


def decline(teacher_id: int, offer_id: int, reason: str) -> Offer:
    """Decline with a reason; when the wave has no open offer left, the next wave goes out."""
    offer = _own_open_offer(teacher_id, offer_id)
    offer.status, offer.decline_reason, offer.closed_at = "declined", reason, district_now()
    db.session.flush()
    _next_wave_if_idle(offer.order)
    return offer


def _next_wave_if_idle(order: Order) -> None:
    still_open = db.session.scalar(
        db.select(db.func.count(Offer.id)).where(Offer.order_id == order.id, Offer.status == "open")
    )
    if not still_open:
        if not send_wave(order):
            for session in order.sessions:
                if session.status == "offered":
                    session.status = "open"  # nobody left to offer it to: self-service may still take it
    db.session.flush()


def expire_offers() -> int:
    """Close offers past their time and send each affected order its next wave. The caller commits."""
    now = district_now()
    expired = db.session.scalars(
        db.select(Offer)
        .where(Offer.status == "open", Offer.expires_at <= now)
        .order_by(Offer.id)
        .with_for_update(skip_locked=True)  # an offer being accepted right now is left to its answer
    ).all()
    for offer in expired:
        offer.status, offer.closed_at = "expired", now
    db.session.flush()
    for order in {offer.order for offer in expired}:
        if any(s.status in UNFILLED for s in order.sessions):
            _next_wave_if_idle(order)
    return len(expired)


def send_due_waves() -> int:
    """Orders whose favourites' head start is over get their next wave. The caller commits."""
    now = district_now()
    due = db.session.scalars(
        db.select(Order).where(Order.next_wave_at <= now).order_by(Order.id).with_for_update(skip_locked=True)
    ).all()
    for order in due:
        order.next_wave_at = None
        if any(s.status in UNFILLED for s in order.sessions):
            send_wave(order)
    db.session.flush()
    return len(due)
