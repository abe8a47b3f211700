"""The life cycle: every allowed move and every refused one, the order's one rule, the database's CHECKs,
and the workflow's follow-ups that used to be missed."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from dispatch import workflow
from dispatch.extensions import db
from dispatch.lifecycle import (
    OFFER_MOVES,
    SESSION_MOVES,
    Action,
    IllegalMove,
    OfferStatus,
    OrderStatus,
    SessionStatus,
    move,
    order_status,
)
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession, Order
from tests import factories as f
from tests.dispatch.test_bookings import claim
from tests.dispatch.test_offers import offers_of, urgent_order


def _session(status: SessionStatus) -> LessonSession:
    order = Order(status="open")
    session = LessonSession(date=date(2026, 12, 7), start_min=450, end_min=530, periods=2, status=str(status))
    order.sessions.append(session)
    order.refresh_status()
    return session


def _offer(status: OfferStatus) -> Offer:
    return Offer(order_id=1, teacher_id=1, session_ids=[1], status=str(status), wave=1)


@pytest.mark.parametrize(("before", "action"), sorted(SESSION_MOVES))
def test_every_allowed_session_move(before, action):
    session = _session(before)
    moved = move(session, action)
    assert session.status == SESSION_MOVES[(before, action)] == moved.after
    assert (moved.kind, moved.action, moved.before) == ("session", action, before)
    assert session.order.status == order_status([session.status])  # the order follows at once


SESSION_REFUSED = sorted(set(itertools.product(SessionStatus, Action)) - set(SESSION_MOVES))


@pytest.mark.parametrize(("before", "action"), SESSION_REFUSED)
def test_every_other_session_move_is_refused(before, action):
    session = _session(before)
    with pytest.raises(IllegalMove):
        move(session, action)
    assert session.status == before


@pytest.mark.parametrize(("before", "action"), sorted(OFFER_MOVES))
def test_every_allowed_offer_move(before, action):
    offer = _offer(before)
    assert move(offer, action).after == offer.status == OFFER_MOVES[(before, action)]


@pytest.mark.parametrize(("before", "action"), sorted(set(itertools.product(OfferStatus, Action)) - set(OFFER_MOVES)))
def test_every_other_offer_move_is_refused(before, action):
    offer = _offer(before)
    with pytest.raises(IllegalMove):
        move(offer, action)
    assert offer.status == before


@pytest.mark.parametrize("status", list(OrderStatus))
def test_an_order_moves_only_by_cancellation_and_only_while_live(status):
    order = Order(status=str(status))
    if status in (OrderStatus.OPEN, OrderStatus.PARTLY_BOOKED, OrderStatus.BOOKED):
        assert move(order, Action.CANCEL).after == order.status == "cancelled"
    else:
        with pytest.raises(IllegalMove):
            move(order, Action.CANCEL)
        assert order.status == status
    for action in set(Action) - {Action.CANCEL}:
        with pytest.raises(IllegalMove):
            move(Order(status="open"), action)


S = SessionStatus


@pytest.mark.parametrize(
    ("sessions", "expected"),
    [
        ([S.OPEN, S.OFFERED], "open"),
        ([S.OPEN, S.BOOKED], "partly_booked"),
        ([S.OFFERED, S.HELD], "partly_booked"),
        ([S.BOOKED, S.HELD, S.EXPIRED], "booked"),
        ([S.HELD, S.NO_SHOW, S.EXPIRED], "completed"),
        ([S.NO_SHOW, S.EXPIRED], "expired"),
        ([S.NO_SHOW, S.OPEN], "open"),  # a no-show's reopened rest: nothing is booked
        ([S.CANCELLED, S.CANCELLED], "cancelled"),
        ([S.CANCELLED, S.BOOKED], "booked"),
    ],
)
def test_the_orders_status_follows_its_sessions_by_one_rule(sessions, expected):
    assert order_status(sessions) == expected
    assert order_status(sessions, current="cancelled") == "cancelled"  # a cancelled order stays cancelled


@pytest.mark.parametrize(("table", "make"), [
    ("lesson_session", lambda w: w.order_a.sessions[0]),
    ("teaching_order", lambda w: w.order_a),
])  # fmt: skip
def test_the_database_refuses_a_status_outside_the_life_cycle(world, table, make):
    row_id = make(world).id
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text(f"update {table} set status = 'lost' where id = :id"), {"id": row_id})
        db.session.flush()
    db.session.rollback()


def test_a_claim_closes_the_other_teachers_offers_as_taken(client, world):
    order = urgent_order(client, world)  # offered to both teachers at once
    [theirs] = offers_of(client, world, "user_t2")
    response = claim(client, world, order["id"])
    assert response.status_code == 200, response.get_json()
    assert db.session.get(Offer, theirs["id"]).status == "taken"
    assert offers_of(client, world, "user_t2") == [] and f.stale_offers() == []


def test_a_withdrawal_and_a_cancellation_leave_no_stale_offer(client, world):
    order = urgent_order(client, world)
    [mine] = offers_of(client, world, "user_t1")
    assert client.post(f"/api/v1/offers/{mine['id']}/accept", headers=world.headers("user_t1")).status_code == 200
    session_id = order["sessions"][0]["id"]
    withdrawn = client.post(
        f"/api/v1/sessions/{session_id}/withdraw", json={"reason": "sakit"}, headers=world.headers("user_t1")
    )
    assert withdrawn.status_code == 200 and f.stale_offers() == []
    assert client.post(f"/api/v1/orders/{order['id']}/cancel", headers=world.headers("op_a")).status_code == 200
    assert db.session.scalar(db.select(sa.func.count(Offer.id)).where(Offer.status == "open")) == 0


def test_a_started_session_nobody_took_expires_and_its_offers_with_it(client, world, clock):
    order = urgent_order(client, world)
    session = db.session.get(LessonSession, order["sessions"][0]["id"])
    clock.now = session.starts_at + timedelta(seconds=1)
    assert workflow.tick()["lapsed"] == 3  # this one and the world's two orders of the Monday before
    db.session.commit()
    assert session.status == "expired" and session.order.status == "expired"
    assert {o.status for o in db.session.scalars(db.select(Offer))} == {"expired"}


def test_a_refused_move_is_a_409_naming_the_status(client, world):
    order = urgent_order(client, world)
    assert client.post(f"/api/v1/orders/{order['id']}/cancel", headers=world.headers("op_a")).status_code == 200
    again = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=world.headers("op_a"))
    assert again.status_code == 409 and "cancelled" in again.get_json()["message"]


def test_the_clock_works_off_a_backlog_in_short_rounds(world, clock):
    """A server that was off for days finds many sessions to expire: a few per round, each round its own
    short transaction, until none is left (so no round holds the database for long)."""
    last = max(s.starts_at for o in (world.order_a, world.order_b) for s in o.sessions)
    order = f.order(world.school_a, sessions=[
        LessonSession(date=last.date(), start_min=600 + 10 * i, end_min=605 + 10 * i, periods=1, status="open")
        for i in range(3)
    ])  # fmt: skip
    db.session.commit()
    clock.now = datetime.combine(last.date(), datetime.min.time()) + timedelta(hours=23)
    rounds = []
    while lapsed := workflow.tick(batch=2)["lapsed"]:
        db.session.commit()
        rounds.append(lapsed)
    assert rounds == [2, 2, 1]  # the world's two sessions and the three of this order
    assert {s.status for s in order.sessions} == {"expired"}
