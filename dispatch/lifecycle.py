"""The life cycle of orders, sessions and offers: every status, and every allowed move between them.

Nothing else changes a status. A service calls `move(thing, action)`, which refuses what the tables
below do not allow (`IllegalMove`, a 409) and returns what happened as a `Moved` event; the workflow
(`dispatch/workflow.py`) maps each event to its follow-ups. An order is never moved but for its
cancellation: its status follows from its sessions' by one rule, `order_status`.

Pure Python on plain values: models import the enums for their CHECK constraints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from dispatch.exceptions import Conflict


class OrderStatus(StrEnum):
    OPEN = "open"
    PARTLY_BOOKED = "partly_booked"
    BOOKED = "booked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class SessionStatus(StrEnum):
    OPEN = "open"
    OFFERED = "offered"
    BOOKED = "booked"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    TAKEN = "taken"
    CANCELLED = "cancelled"


class Action(StrEnum):
    """What happens to a session, an offer or an order."""

    OFFER = "offer"  # session: a wave (or the weekly plan) offers it
    RELEASE = "release"  # session: nobody is left to offer it to; self-service may still take it
    BOOK = "book"  # session: a teacher's accepted offer or claim
    WITHDRAW = "withdraw"  # session: the booked teacher gives it back before it starts
    HOLD = "hold"  # session: it started with the teacher there (check-in, or the school's word)
    NO_SHOW = "no_show"  # session: the teacher did not come (the clock, or the school's flag)
    CANCEL = "cancel"  # session, offer, order: the school cancels
    EXPIRE = "expire"  # session: started with no teacher; offer: its time ran out
    ACCEPT = "accept"  # offer
    DECLINE = "decline"  # offer
    TAKE = "take"  # offer: its session was booked another way


S, F, A = SessionStatus, OfferStatus, Action

# (status, action) -> the status it leads to. Anything not listed is refused.
SESSION_MOVES: dict[tuple[SessionStatus, Action], SessionStatus] = {
    (S.OPEN, A.OFFER): S.OFFERED,
    (S.OFFERED, A.OFFER): S.OFFERED,  # the next wave
    (S.OFFERED, A.RELEASE): S.OPEN,
    (S.OPEN, A.BOOK): S.BOOKED,
    (S.OFFERED, A.BOOK): S.BOOKED,
    (S.BOOKED, A.WITHDRAW): S.OPEN,
    (S.BOOKED, A.HOLD): S.HELD,
    (S.BOOKED, A.NO_SHOW): S.NO_SHOW,
    (S.HELD, A.NO_SHOW): S.NO_SHOW,  # the school's word over a check-in: it was there, the teacher was not
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.OFFERED, A.CANCEL): S.CANCELLED,
    (S.BOOKED, A.CANCEL): S.CANCELLED,
    (S.OPEN, A.EXPIRE): S.EXPIRED,
    (S.OFFERED, A.EXPIRE): S.EXPIRED,
}

OFFER_MOVES: dict[tuple[OfferStatus, Action], OfferStatus] = {
    (F.OPEN, A.ACCEPT): F.ACCEPTED,
    (F.OPEN, A.DECLINE): F.DECLINED,
    (F.OPEN, A.EXPIRE): F.EXPIRED,
    (F.OPEN, A.TAKE): F.TAKEN,
    (F.OPEN, A.CANCEL): F.CANCELLED,
}

CANCELLABLE_ORDERS = frozenset({OrderStatus.OPEN, OrderStatus.PARTLY_BOOKED, OrderStatus.BOOKED})

# A session in one of these still needs a teacher.
UNFILLED = frozenset({S.OPEN, S.OFFERED})
# A session in one of these has a teacher who is to teach it, or taught it.
TAUGHT_OR_TO_TEACH = frozenset({S.BOOKED, S.HELD})
# A session in one of these has (or had) a teacher on it.
FILLED = frozenset({S.BOOKED, S.HELD, S.NO_SHOW})


class IllegalMove(Conflict):
    """The move is not in the life cycle from the thing's present status."""


@dataclass(frozen=True)
class Moved:
    """A domain event: `kind` ("session", "offer", "order") number `id` went from `before` to `after` by `action`."""

    kind: str
    id: int
    action: Action
    before: str
    after: str
    order_id: int
    teacher_id: int | None = None


def sources(kind: str, action: Action) -> frozenset[str]:
    """The statuses from which `action` is allowed: for compare-and-set UPDATEs that move many rows at once."""
    table = SESSION_MOVES if kind == "session" else OFFER_MOVES
    return frozenset(status for status, act in table if act == action)


def target(kind: str, action: Action) -> str:
    table = SESSION_MOVES if kind == "session" else OFFER_MOVES
    (after,) = {to for (_status, act), to in table.items() if act == action}
    return after


def _kind(thing) -> str:
    return type(thing).lifecycle_kind  # "session", "offer" or "order", set on each model class


def allowed(thing, action: Action) -> bool:
    kind = _kind(thing)
    if kind == "order":
        return action == A.CANCEL and thing.status in CANCELLABLE_ORDERS
    table = SESSION_MOVES if kind == "session" else OFFER_MOVES
    return (thing.status, action) in table


def move(thing, action: Action) -> Moved:
    """Change the status of a session, an offer or an order by `action`, or refuse (IllegalMove).

    A session's move also re-derives its order's status, so the order never lags behind."""
    kind = _kind(thing)
    before = str(thing.status)
    if not allowed(thing, action):
        raise IllegalMove(f"The {kind.replace('_', ' ')} is {before}; it cannot {action.value}.")
    if kind == "order":
        after = OrderStatus.CANCELLED
    else:
        after = (SESSION_MOVES if kind == "session" else OFFER_MOVES)[(thing.status, action)]
    thing.status = str(after)
    order_id = thing.id if kind == "order" else thing.order_id
    if kind == "session" and thing.order is not None:
        thing.order.status = str(order_status([s.status for s in thing.order.sessions], thing.order.status))
    return Moved(kind, thing.id, action, before, str(after), order_id, getattr(thing, "teacher_id", None))


def order_status(session_statuses: Iterable[str], current: str | None = None) -> OrderStatus:
    """An order's status from its sessions': the one rule.

    Cancelled stays cancelled. Otherwise, of the sessions not cancelled: any still needing a teacher
    makes it open (nothing taught or to teach) or partly booked; with none left to fill, any still to
    teach makes it booked, any held makes it completed, and nothing but expired or missed lessons
    makes it expired. A no-show counts as a lesson that did not happen, never as booked."""
    if current == OrderStatus.CANCELLED:
        return OrderStatus.CANCELLED
    statuses = [SessionStatus(s) for s in session_statuses if s != S.CANCELLED]
    if not statuses:
        return OrderStatus.CANCELLED
    if any(s in UNFILLED for s in statuses):
        return OrderStatus.PARTLY_BOOKED if any(s in TAUGHT_OR_TO_TEACH for s in statuses) else OrderStatus.OPEN
    if any(s == S.BOOKED for s in statuses):
        return OrderStatus.BOOKED
    if any(s == S.HELD for s in statuses):
        return OrderStatus.COMPLETED
    return OrderStatus.EXPIRED


def check_constraint(column: str, enum: type[StrEnum]) -> str:
    """SQL for a CHECK constraint that keeps a status column inside its enum."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in enum)})"
