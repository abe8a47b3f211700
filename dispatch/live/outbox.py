"""Collect what a transaction changed and tell the people concerned once it has committed.

The ORM's flush shows what changed: new offers (`offer` to the teacher), offers leaving
"open" (`offer_closed` to the teacher) and orders whose status or sessions changed
(`order_updated` to the school and to the teachers who hold its sessions). Bulk UPDATEs
that the ORM does not see announce their order with `announce_order`.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from itertools import chain

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from dispatch.live import DISTRICT_ROOM, school_room, teacher_room
from dispatch.live.marks import MARK_EVENT, marks_room, take_marks

log = logging.getLogger(__name__)

# An offer's end, as the teacher's phone hears it; a decline is the teacher's own doing.
CLOSED_REASONS = {"accepted": "accepted", "taken": "taken", "expired": "expired", "cancelled": "cancelled"}


class Outbox:
    def __init__(self) -> None:
        self.new_offers: set[int] = set()
        self.closed_offers: dict[int, tuple[int, str]] = {}  # offer id -> (teacher id, reason)
        self.orders: set[int] = set()
        self.ready: list[tuple[str, object, str]] = []  # (event, data, room), emitted after commit
        # Phone rooms changed without an event to them (a decline, a withdrawal, a rating): numbered, with no
        # mark, so their phones fetch on their next reconnect (dispatch/live/marks.py).
        self.touched: set[str] = set()
        self.marks: dict[str, int] = {}  # phone room -> its number for this transaction
        # What the transaction changed, held until it ends: the session's identity map is weak, and an
        # order or offer nobody else holds any more would be read again to be announced (how often
        # depended on when the garbage collector ran).
        self.held: list[object] = []


def _outbox(session: Session) -> Outbox:
    return session.info.setdefault("live_outbox", Outbox())


def announce_order(session: Session, order_id: int) -> None:
    """Tell the order's school (and teachers) it changed, for changes made by bulk UPDATEs."""
    _outbox(session).orders.add(order_id)


@contextmanager
def quiet(session: Session):
    """Bulk loads (the demo district) tell nobody: there is no one to tell, and it would be slow."""
    session.info["live_quiet"] = True
    try:
        yield
    finally:
        session.info.pop("live_quiet", None)


def _after_flush(session: Session, _context) -> None:
    from dispatch.offers.models import Offer
    from dispatch.orders.models import LessonSession, Order
    from dispatch.ratings.models import Rating

    if session.info.get("live_quiet"):
        return
    box = _outbox(session)
    for obj in chain(session.new, session.dirty):
        box.held.append(obj)
        if isinstance(obj, LessonSession):
            if obj.order_id is not None:
                box.orders.add(obj.order_id)
            # A teacher who no longer holds it (withdrew) is not among those the order is announced to.
            box.touched.update(teacher_room(t) for t in inspect(obj).attrs.teacher_id.history.deleted if t is not None)
        elif isinstance(obj, Order):
            box.orders.add(obj.id)
        elif isinstance(obj, Offer):
            if obj in session.new:
                box.new_offers.add(obj.id)
                continue
            before = inspect(obj).attrs.status.history.deleted
            if "open" in before and obj.status in CLOSED_REASONS:
                box.closed_offers[obj.id] = (obj.teacher_id, CLOSED_REASONS[obj.status])
            elif "open" in before:  # declined: the teacher's other devices still show it
                box.touched.add(teacher_room(obj.teacher_id))
            box.orders.add(obj.order_id)
        elif isinstance(obj, Rating) and obj in session.new:
            box.touched.add(teacher_room(obj.teacher_id))


def _before_commit(session: Session) -> None:
    """Turn what changed into the events to send, while the transaction can still read."""
    if session.in_nested_transaction():  # a savepoint: the transaction goes on (or back) as a whole
        return
    session.flush()  # first: what only the commit would flush is announced too
    box = session.info.get("live_outbox")
    if box is None:
        return
    if not (box.new_offers or box.closed_offers or box.orders or box.touched):
        return
    from dispatch.offers.models import Offer
    from dispatch.offers.schemas import OfferOut
    from dispatch.orders.models import Order
    from dispatch.orders.schemas import OrderOut

    offer_schema, order_schema = OfferOut(), OrderOut()
    for offer_id in sorted(box.new_offers):
        offer = session.get(Offer, offer_id)
        if offer is not None and offer.status == "open":
            box.ready.append(("offer", offer_schema.dump(offer), teacher_room(offer.teacher_id)))
    for offer_id, (teacher_id, reason) in sorted(box.closed_offers.items()):
        if offer_id not in box.new_offers:
            box.ready.append(("offer_closed", {"offer_id": offer_id, "reason": reason}, teacher_room(teacher_id)))
    for order_id in sorted(box.orders):
        order = session.get(Order, order_id)
        if order is None:
            continue
        data = order_schema.dump(order)
        box.ready.append(("order_updated", data, school_room(order.school_id)))
        box.ready.append(("order_updated", data, DISTRICT_ROOM))
        # Teachers holding its sessions hear of it too: a cancellation reaches the booked teachers.
        for teacher_id in sorted({s.teacher_id for s in order.sessions if s.teacher_id is not None}):
            box.ready.append(("order_updated", data, teacher_room(teacher_id)))
    box.new_offers.clear()
    box.closed_offers.clear()
    box.orders.clear()
    # The last write before the commit, and committed with the change: a process that dies before its emit
    # still leaves the room's phones short of this number.
    box.marks |= take_marks(session, chain((room for _name, _data, room in box.ready), box.touched))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    box = session.info.pop("live_outbox", None)
    if box is None or not (box.ready or box.marks):
        return
    from dispatch.extensions import socketio

    if socketio.server is None:  # the app was built without live push
        return
    failed = set(box.touched)  # rooms whose phones must not be told they are current
    manager = socketio.server.manager
    held_back = getattr(manager, "held_back", 0)
    for name, data, room in box.ready:
        try:
            socketio.emit(name, data, to=room)
        except Exception:  # the booking stands; a phone that missed this fetches on reconnect
            failed.add(room)
            log.exception("could not emit %s to %s", name, room)
    if getattr(manager, "held_back", 0) != held_back:  # Redis away: other processes' phones heard nothing
        return
    # Each room's mark after its events: a phone that hears the mark has heard them (dispatch/live/marks.py).
    for room, seq in sorted(box.marks.items()):
        if room not in failed:
            try:
                socketio.emit(MARK_EVENT, {"seq": seq}, to=marks_room(room))
            except Exception:
                log.exception("could not emit a mark to %s", room)


def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop("live_outbox", None)


def install() -> None:
    """Listen on every ORM session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
