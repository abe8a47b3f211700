"""Dispatch as one workflow: one function per use case, and what follows each move.

Views, the clock, the command line and the job worker call these functions; nothing else changes a
status. A use case asks the services for its moves (each made by `dispatch.lifecycle.move`), then
`_settle` runs the follow-up each move calls for, and the follow-ups' own, until nothing more follows:

    session booked                 -> other open offers holding it close as taken
    session withdrawn              -> the order's next wave (never to the teacher who withdrew)
    session missed (no-show)       -> the rest of the lesson reopens as an urgent session, offered at once
    session cancelled / expired    -> open offers holding it close as cancelled / expired
    offer declined/expired/taken   -> with no open offer left on the order, its next wave
    order cancelled                -> its open offers close as cancelled
    after every wave               -> sessions that no open offer holds any more go back to open

Every order that moved is announced through the outbox (Socket.IO, after the commit). The caller
commits: `write_operation` for a request, the clock or the command for the rest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime

from dispatch.accounts.models import User
from dispatch.bookings import service as bookings
from dispatch.district import service as district
from dispatch.district.models import Kecamatan
from dispatch.district.service import district_now, get_district
from dispatch.exceptions import Conflict, Invalid, NotFound
from dispatch.extensions import db
from dispatch.lessons import service as lessons
from dispatch.lifecycle import UNFILLED, Action, Moved
from dispatch.live.outbox import announce_order
from dispatch.offers import service as offers
from dispatch.offers.models import Offer
from dispatch.orders import service as orders
from dispatch.orders.models import LessonSession, Order
from dispatch.teachers.models import Teacher


class _Settling:
    """What one use case has set moving: the clock it reads, and the orders owed a wave."""

    def __init__(self, now: datetime):
        self.now = now
        self.forced_waves: set[int] = set()  # a wave whatever is still open (a session came back)
        self.idle_waves: set[int] = set()  # a wave only if nothing is open on the order any more
        self.moves: list[Moved] = []


def _close_taken(moved: Moved, _s: _Settling) -> list[Moved]:
    return offers.close_offers_holding({moved.id}, Action.TAKE)


def _close_cancelled(moved: Moved, _s: _Settling) -> list[Moved]:
    return offers.close_offers_holding({moved.id}, Action.CANCEL)


def _close_expired(moved: Moved, _s: _Settling) -> list[Moved]:
    return offers.close_offers_holding({moved.id}, Action.EXPIRE)


def _back_to_dispatch(moved: Moved, settling: _Settling) -> list[Moved]:
    settling.forced_waves.add(moved.order_id)
    return []


def _next_wave_if_idle(moved: Moved, settling: _Settling) -> list[Moved]:
    settling.idle_waves.add(moved.order_id)
    return []


def _reopen_rest(moved: Moved, settling: _Settling) -> list[Moved]:
    if lessons.reopen_rest(db.session.get(LessonSession, moved.id), settling.now) is not None:
        settling.forced_waves.add(moved.order_id)
    return []


def _order_cancelled(moved: Moved, _s: _Settling) -> list[Moved]:
    return offers.close_order_offers(moved.order_id, Action.CANCEL)


FOLLOW_UPS: dict[tuple[str, Action], Callable[[Moved, _Settling], list[Moved]]] = {
    ("session", Action.BOOK): _close_taken,
    ("session", Action.WITHDRAW): _back_to_dispatch,
    ("session", Action.NO_SHOW): _reopen_rest,
    ("session", Action.CANCEL): _close_cancelled,
    ("session", Action.EXPIRE): _close_expired,
    ("offer", Action.DECLINE): _next_wave_if_idle,
    ("offer", Action.EXPIRE): _next_wave_if_idle,
    ("offer", Action.TAKE): _next_wave_if_idle,
    ("order", Action.CANCEL): _order_cancelled,
}


def _send_waves(settling: _Settling) -> list[Moved]:
    moves: list[Moved] = []
    due = sorted(settling.forced_waves | settling.idle_waves)
    forced = settling.forced_waves.copy()
    settling.forced_waves.clear()
    settling.idle_waves.clear()
    for order_id in due:
        order = db.session.get(Order, order_id)
        if order_id in forced or not offers.open_offers_of_order(order_id):
            moves.extend(offers.send_wave(order)[1])
        moves.extend(offers.release_unoffered(order))
    return moves


def _settle(moves: Iterable[Moved], now: datetime | None = None, waves: Iterable[int] = ()) -> list[Moved]:
    """Run every follow-up of `moves` (and of theirs) and announce what changed; all the moves made."""
    settling = _Settling(now or district_now())
    settling.forced_waves.update(waves)
    queue = deque(moves)
    while queue or settling.forced_waves or settling.idle_waves:
        while queue:
            moved = queue.popleft()
            settling.moves.append(moved)
            follow_up = FOLLOW_UPS.get((moved.kind, moved.action))
            if follow_up is not None:
                queue.extend(follow_up(moved, settling))
        queue.extend(_send_waves(settling))
    for order_id in sorted({m.order_id for m in settling.moves}):
        announce_order(db.session(), order_id)  # bulk UPDATEs (the booking's compare-and-set) flush no objects
    db.session.flush()
    return settling.moves


# --- Schools -------------------------------------------------------------------------------------------


def post_order(user: User, data: dict) -> Order:
    """An order and its sessions; an urgent one is offered at once to the best few teachers."""
    order = orders.create_order(user, data)
    _settle([], waves=[order.id] if order.urgent else [])
    return order


def cancel_order(user: User, order_id: int) -> Order:
    order, moves = orders.cancel_order(user, order_id)
    _settle(moves)
    return order


def confirm_lesson(user: User, session_id: int) -> LessonSession:
    session, moves = lessons.confirm(user, session_id)
    _settle(moves)
    return session


def flag_lesson(user: User, session_id: int, kind: str) -> LessonSession:
    """Late, or no-show: a no-show reopens what is left of the lesson, as the clock does."""
    session, moves = lessons.flag(user, session_id, kind)
    _settle(moves)
    return session


# --- Teachers ------------------------------------------------------------------------------------------


def accept_offer(teacher_id: int, offer_id: int) -> Offer:
    offer, moves = offers.accept(teacher_id, offer_id)
    _settle(moves)
    return offer


def decline_offer(teacher_id: int, offer_id: int, reason: str) -> Offer:
    offer, moved = offers.decline(teacher_id, offer_id, reason)
    _settle([moved])
    return offer


def claim_order(teacher_id: int, order_id: int, session_ids: list[int] | None) -> tuple[Order, list[LessonSession]]:
    """Self-service: book the order's sessions the teacher can take (or the ones named), all or none."""
    order = orders.lock_order(order_id)  # before the teacher and the sessions (`lock_order`)
    if order is None:
        raise NotFound(f"No order {order_id}.")
    if not district.kecamatan_live(order.school.kecamatan_code):
        raise Conflict(district.NOT_LIVE)  # say why, rather than "nothing open for you"
    if session_ids is None:
        session_ids = [s.id for s in bookings.claimable(db.session.get(Teacher, teacher_id), order)]
        if not session_ids:
            raise Conflict("Nothing in this order is open for you: taken, clashing, out of reach or over your cap.")
    elif not set(session_ids) <= {s.id for s in order.sessions}:
        raise Invalid("session_ids", "not sessions of this order")
    sessions, moves = bookings.book(teacher_id, session_ids)
    _settle(moves)
    return order, sessions


def withdraw(teacher_id: int, session_id: int, reason: str) -> LessonSession:
    session, moved = bookings.withdraw(teacher_id, session_id, reason)
    _settle([moved])
    return session


def check_in(user: User, session_id: int, lat: float, lon: float) -> LessonSession:
    session, moves = lessons.check_in(user, session_id, lat, lon)
    _settle(moves)
    return session


def record_lesson(user: User, session_id: int, topic: str, present: int, notes: str | None) -> LessonSession:
    session, moves = lessons.record(user, session_id, topic, present, notes)
    _settle(moves)
    return session


def rating_code(user: User, session_id: int) -> tuple[str, datetime]:
    """The lesson's rating code; a checked-in lesson that has started is held first."""
    session = lessons.own_session(user, session_id)
    _settle(lessons.hold_if_started(session, district_now()))
    return lessons.rating_code(user, session_id)


# --- The district office ------------------------------------------------------------------------------


def switch_kecamatan(code: str, live: bool) -> Kecamatan:
    """Rollout, one kecamatan at a time. Off: its schools' open offers close as cancelled and their
    sessions go back to open (bookings stand). On: its urgent orders still waiting are offered at once;
    the rest wait for the weekly plan or a teacher's claim, like any order."""
    kecamatan, changed = district.set_kecamatan_live(code, live)
    if not changed:
        return kecamatan
    if live:
        _settle([], waves=orders.urgent_orders_waiting_in(code))
    else:
        moves, order_ids = offers.close_offers_in_kecamatan(code)
        _settle(moves, waves=order_ids)  # a wave finds nobody there (not live), then releases what was offered
    return kecamatan


# --- The weekly plan and the clock ---------------------------------------------------------------------


def offer_plan(groups: dict[tuple[int, int], list[int]]) -> int:
    """The weekly plan's offers: for each (order id, planned teacher id), one offer of the sessions planned
    for them that still need a teacher (read in this transaction: one booked since the plan was made is
    left out), made like any wave's. Returns the number of offers. The caller commits."""
    timeout = get_district().offer_timeout_min
    orders.lock_orders([order_id for order_id, _teacher in groups], skip_locked=False)  # before their sessions
    ids = [s for session_ids in groups.values() for s in session_ids]
    still = set(
        db.session.scalars(
            db.select(LessonSession.id).where(LessonSession.id.in_(ids), LessonSession.status.in_(UNFILLED))
        )
    )
    moves: list[Moved] = []
    made = 0
    for (order_id, teacher_id), session_ids in sorted(groups.items()):
        wanted = sorted(s for s in session_ids if s in still)
        if not wanted:
            continue
        order = db.session.get(Order, order_id)
        _offer, moved = offers.offer_sessions(order, teacher_id, wanted, offers.next_wave_number(order_id), timeout)
        moves.extend(moved)
        made += 1
    _settle(moves)
    return made


# What one round of the clock does at most of each kind: a backlog (a server that was off for days,
# a demo week long past) is worked off over rounds a second apart, each a short transaction, instead of
# one that holds SQLite's write lock past every other writer's patience (36,000 sessions: over 20 s).
CLOCK_BATCH = 300


def tick(now: datetime | None = None, batch: int = CLOCK_BATCH) -> dict[str, int]:
    """One round of the service's clock: what is due now, up to `batch` of each kind. The caller commits."""
    now = now or district_now()
    expired = offers.expire_due_offers(batch)
    head_starts_over = offers.orders_due_next_wave(batch)
    held = lessons.due_holds(now, batch)
    missed = lessons.due_no_shows(now, batch)
    lapsed = orders.expire_started_unfilled(now, batch)
    _settle(expired + held + missed + lapsed, now=now, waves=[o.id for o in head_starts_over])
    return {
        "expired": len(expired),
        "waves": len(head_starts_over),
        "held": len(held),
        "no_shows": len(missed),
        "lapsed": len(lapsed),
    }
