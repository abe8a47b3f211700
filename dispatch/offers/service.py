"""Offers: an order's open sessions proposed to teachers, in waves, and the teachers' answers.

An urgent order is offered at once to the best few teachers who can take it now
(the school's favourites first, then those who can take more of it, then the nearest);
the weekly plan offers each planned teacher their sessions. Accepting books through
`bookings.book`, which re-checks every rule. What follows an answer (the next wave, closing
competing offers) is the workflow's (`dispatch/workflow.py`); this module only moves offers.
"""

from __future__ import annotations

import heapq
from datetime import timedelta

import numpy as np
import sqlalchemy as sa

from dispatch.bookings.models import Withdrawal
from dispatch.bookings.service import book, claimable, open_future_sessions
from dispatch.district.service import district_now, get_district, kecamatan_live
from dispatch.exceptions import Conflict, NotFound
from dispatch.extensions import db
from dispatch.lifecycle import Action, Moved, OfferStatus, OrderStatus, SessionStatus, move
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession, Order
from dispatch.orders.service import lock_order, lock_orders
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher, windows_of
from scheduling import vectorised, within_availability
from scheduling.geo import box_degrees
from scheduling.rules import qualified

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
    already |= {
        s.teacher_id for s in order.sessions if s.status == SessionStatus.NO_SHOW
    }  # not the one who did not come
    already |= set(db.session.scalars(db.select(Withdrawal.teacher_id).where(Withdrawal.order_id == order.id)))
    already |= {t.id for t in school.blocked}
    favourites = {t.id for t in school.favourites}
    district_reach = get_district().max_radius_km
    box_lat, box_lon = box_degrees(school.lat, district_reach)
    # Columns, not Teacher objects: hundreds of teachers are in the box for every order posted at the
    # morning peak, and only the few the queue puts in front are loaded and checked against their bookings.
    # Place first, then the rest for those in reach only: decoding every boxed teacher's subjects, levels
    # and hours (JSON) was most of an urgent order's time (2,300 decodes an order in the peak's district).
    # The database narrows by subject and level as text (a list holding "MTK" holds the text "MTK" with
    # its quotes): a superset, which `qualified` below decides exactly.
    placed = [
        row
        for row in db.session.execute(
            db.select(Teacher.id, Teacher.lat, Teacher.lon, Teacher.radius_km).where(
                Teacher.status == "live",
                Teacher.lat.between(school.lat - box_lat, school.lat + box_lat),
                Teacher.lon.between(school.lon - box_lon, school.lon + box_lon),
                sa.cast(Teacher.subjects, sa.Text).contains(f'"{order.subject}"', autoescape=True),
                sa.cast(Teacher.levels, sa.Text).contains(f'"{order.level}"', autoescape=True),
            )
        )
        if row.id not in already
    ]
    if not placed:
        return []
    reached, km = vectorised.within_reach(
        np.array([r.lat for r in placed]), np.array([r.lon for r in placed]), school.lat, school.lon,
        np.minimum(np.array([r.radius_km for r in placed]), district_reach),
    )  # fmt: skip
    near = {row.id: row_km for row, ok, row_km in zip(placed, reached.tolist(), km.tolist(), strict=True) if ok}
    if not near:
        return []
    queue = []
    for row in db.session.execute(
        db.select(Teacher.id, Teacher.subjects, Teacher.levels, Teacher.availability).where(Teacher.id.in_(list(near)))
    ):
        if not qualified(row.subjects, row.levels, order.subject, order.level):
            continue
        windows = windows_of(row.availability)
        upper = sum(within_availability(windows, s.date.weekday(), s.start_min, s.end_min) for s in future)
        if upper:
            queue.append((row.id not in favourites, -upper, near[row.id], row.id, None))
    heapq.heapify(queue)
    found = []
    while queue and len(found) < limit:
        not_favourite, _, teacher_km, teacher_id, sessions = heapq.heappop(queue)
        teacher = db.session.get(Teacher, teacher_id)
        if sessions is not None:  # checked exactly, and still in front
            found.append((teacher, [s.id for s in sessions], not not_favourite))
            continue
        sessions = claimable(teacher, order)
        if sessions:
            heapq.heappush(queue, (not_favourite, -len(sessions), teacher_km, teacher_id, sessions))
    return found


WAVE_DONE = frozenset({OrderStatus.CANCELLED, OrderStatus.COMPLETED, OrderStatus.EXPIRED, OrderStatus.BOOKED})


def offer_sessions(
    order: Order, teacher_id: int, session_ids: list[int], wave: int, minutes: int
) -> tuple[Offer, list[Moved]]:
    """One offer of some of the order's sessions to one teacher; the sessions become offered. The caller commits."""
    offer = Offer(
        order_id=order.id,
        teacher_id=teacher_id,
        session_ids=sorted(session_ids),
        status=OfferStatus.OPEN,
        wave=wave,
        expires_at=district_now() + timedelta(minutes=minutes),
    )
    db.session.add(offer)
    wanted = set(session_ids)
    moves = [move(s, Action.OFFER) for s in order.sessions if s.id in wanted and s.status != SessionStatus.OFFERED]
    db.session.flush()
    return offer, moves


def next_wave_number(order_id: int) -> int:
    return 1 + (db.session.scalar(db.select(db.func.max(Offer.wave)).where(Offer.order_id == order_id)) or 0)


def send_wave(order: Order) -> tuple[list[Offer], list[Moved]]:
    """Offer the order to the next few teachers who can take it now. The caller commits."""
    if order.status in WAVE_DONE or not kecamatan_live(order.school.kecamatan_code):
        return [], []  # a kecamatan not yet live: nothing is dispatched there (rollout)
    district = get_district()
    minutes = district.urgent_offer_timeout_min if order.urgent else district.offer_timeout_min
    wave = next_wave_number(order.id)
    candidates = _candidates(order, WAVE_SIZE)
    order.next_wave_at = None
    favourites = [c for c in candidates if c[2]]
    head_start = timedelta(minutes=district.favourite_head_start_min)
    if wave == 1 and favourites and head_start:
        # The school's favourites have the order to themselves for a while; then the rest are offered
        # it too, whether or not the favourites have answered.
        candidates = favourites
        order.next_wave_at = district_now() + min(head_start, timedelta(minutes=minutes))
    offers, moves = [], []
    for teacher, session_ids, _favourite in candidates[:WAVE_SIZE]:
        offer, moved = offer_sessions(order, teacher.id, session_ids, wave, minutes)
        offers.append(offer)
        moves.extend(moved)
    return offers, moves


def open_offers_of_order(order_id: int) -> list[Offer]:
    # The order first (`lock_order`'s lock order; the callers at the peak hold it already, so this waits
    # for nothing there). The offers locked, and re-read once locked: a teacher declining one of them at
    # this moment holds its row, and closing it as taken after that decline committed would overwrite the
    # acknowledged decline (bench/peak's audit caught it under load).
    lock_orders([order_id], skip_locked=False)
    return db.session.scalars(
        db.select(Offer)
        .where(Offer.order_id == order_id, Offer.status == OfferStatus.OPEN)
        .order_by(Offer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def release_unoffered(order: Order) -> list[Moved]:
    """Sessions marked offered that no open offer holds any more go back to open (self-service may take them)."""
    held = {sid for offer in open_offers_of_order(order.id) for sid in offer.session_ids}
    return [move(s, Action.RELEASE) for s in order.sessions if s.status == SessionStatus.OFFERED and s.id not in held]


def close_offers_holding(session_ids: set[int], action: Action, keep: int | None = None) -> list[Moved]:
    """Close every open offer that holds any of these sessions (but `keep`): taken, cancelled or expired."""
    if not session_ids:
        return []
    orders = set(
        db.session.scalars(db.select(LessonSession.order_id).where(LessonSession.id.in_(session_ids)).distinct())
    )
    moves = []
    for order_id in sorted(orders):
        for offer in open_offers_of_order(order_id):
            if offer.id != keep and session_ids & set(offer.session_ids):
                moves.append(move(offer, action))
                offer.closed_at = district_now()
    return moves


def close_order_offers(order_id: int, action: Action) -> list[Moved]:
    moves = []
    for offer in open_offers_of_order(order_id):
        moves.append(move(offer, action))
        offer.closed_at = district_now()
    return moves


def close_offers_in_kecamatan(code: str) -> tuple[list[Moved], set[int]]:
    """A kecamatan switched off: its schools' open offers close as cancelled. The moves, and the orders
    whose offered sessions the caller releases."""
    due = db.session.scalars(
        db.select(Offer)
        .join(Order, Offer.order_id == Order.id)
        .join(School, Order.school_id == School.npsn)
        .where(Offer.status == OfferStatus.OPEN, School.kecamatan_code == code)
        .order_by(Offer.id)
    ).all()
    moves = []
    for offer in due:
        moves.append(move(offer, Action.CANCEL))
        offer.closed_at = district_now()
    db.session.flush()
    return moves, {offer.order_id for offer in due}


def open_offers(teacher_id: int) -> list[Offer]:
    # Every phone's (re)connect reads this, and most phones have no open offer: the district's clock (a
    # query of its own) is read only when there is an offer whose expiry it must check.
    offers = db.session.scalars(
        db.select(Offer)
        .where(Offer.teacher_id == teacher_id, Offer.status == OfferStatus.OPEN)
        .order_by(Offer.expires_at)
    ).all()
    if not offers:
        return []
    now = district_now()
    return [offer for offer in offers if offer.expires_at > now]


def own_open_offer(teacher_id: int, offer_id: int, lock: bool = True) -> Offer:
    # Locked (PostgreSQL) so the clock cannot expire it while the teacher answers; on SQLite the
    # answer's first write fails if the clock wrote in between, and the client is told to retry.
    offer = db.session.get(Offer, offer_id, with_for_update=lock, populate_existing=True)
    if offer is None or offer.teacher_id != teacher_id:
        raise NotFound(f"No offer {offer_id} of yours.")
    if offer.status != OfferStatus.OPEN or offer.expires_at <= district_now():
        raise Conflict(f"The offer is {'expired' if offer.status == OfferStatus.OPEN else offer.status}.")
    return offer


def accept(teacher_id: int, offer_id: int) -> tuple[Offer, list[Moved]]:
    """Book the offer's sessions (all or none, BookingRefused otherwise) and mark the offer accepted."""
    # Locks in `lock_order`'s order: the order, the teacher and the sessions (in `book`), then the offer.
    # 50 colleagues accepting at once deadlocked in turn when each held its offer first (bench/peak).
    offer = own_open_offer(teacher_id, offer_id, lock=False)
    lock_order(offer.order_id)  # answers to one order queue here, holding nothing else yet
    _sessions, moves = book(teacher_id, offer.session_ids)
    offer = own_open_offer(teacher_id, offer_id)  # now locked, and still open: the clock may not expire it
    moves.append(move(offer, Action.ACCEPT))
    offer.closed_at = district_now()
    db.session.flush()
    return offer, moves


def decline(teacher_id: int, offer_id: int, reason: str) -> tuple[Offer, Moved]:
    lock_order(own_open_offer(teacher_id, offer_id, lock=False).order_id)  # before the offer (`lock_order`)
    offer = own_open_offer(teacher_id, offer_id)
    moved = move(offer, Action.DECLINE)
    offer.decline_reason, offer.closed_at = reason, district_now()
    db.session.flush()
    return offer, moved


def expire_due_offers(limit: int) -> list[Moved]:
    """Offers past their time close as expired, at most `limit`. The caller settles the follow-ups and commits."""
    now = district_now()
    due = Offer.status == OfferStatus.OPEN, Offer.expires_at <= now
    order_ids = db.session.scalars(db.select(Offer.order_id).where(*due).order_by(Offer.id).limit(limit)).all()
    # Their orders first (`lock_order`), skipping one being answered right now: its offers wait for the next round.
    locked = lock_orders(order_ids, skip_locked=True)
    due = db.session.scalars(
        db.select(Offer)
        .where(*due, Offer.order_id.in_(locked))
        .order_by(Offer.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    moves = []
    for offer in due:
        moves.append(move(offer, Action.EXPIRE))
        offer.closed_at = now
    db.session.flush()
    return moves


def orders_due_next_wave(limit: int) -> list[Order]:
    """Orders whose favourites' head start is over; their marker is cleared. The caller sends the waves."""
    due = db.session.scalars(
        db.select(Order)
        .where(Order.next_wave_at <= district_now())
        .order_by(Order.id)
        .limit(limit)
        .with_for_update(key_share=True, skip_locked=True)
    ).all()
    for order in due:
        order.next_wave_at = None
    db.session.flush()
    return due
