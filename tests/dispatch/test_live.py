"""Live push in one process (Flask-SocketIO's test client): who hears what, and only after commit.

The same events through real server processes, Redis and restarts are in test_live_server.py.
"""

from datetime import timedelta

import pytest

import dispatch.offers.service as offers_service
from dispatch import clock as service_clock
from dispatch.accounts.auth import issue_token
from dispatch.bookings.models import Withdrawal
from dispatch.extensions import db, socketio
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession
from tests import factories as f
from tests.dispatch.test_offers import urgent_order


def listen(app, client, user):
    return socketio.test_client(app, auth={"token": issue_token(user)}, flask_test_client=client)


def events(listener, name=None):
    got = [(e["name"], e["args"][0]) for e in listener.get_received()]
    return [data for event, data in got if event == name] if name else got


@pytest.mark.parametrize("auth", [None, {}, {"token": "nonsense"}, {"token": 5}, "token"])
def test_a_connection_without_a_valid_token_is_refused(app, client, world, auth):
    listener = socketio.test_client(app, auth=auth, flask_test_client=client)
    assert not listener.is_connected()


def test_offer_accept_taken_and_order_updated_reach_the_right_rooms(app, client, world):
    t1, t2, school, other_school = (listen(app, client, world.user_t1), listen(app, client, world.user_t2),
                                    listen(app, client, world.op_a), listen(app, client, world.op_b))  # fmt: skip
    order = urgent_order(client, world)
    [offer_1] = events(t1, "offer")
    [offer_2] = events(t2, "offer")
    assert offer_1["order_id"] == order["id"] and offer_1["school_id"] == world.school_a.npsn
    assert offer_1["session_ids"] == [order["sessions"][0]["id"]] and offer_1["status"] == "open"
    assert [o["status"] for o in events(school, "order_updated")] == ["open"]
    assert events(other_school) == []  # another school hears nothing of it

    assert client.post(f"/api/v1/offers/{offer_1['id']}/accept", headers=world.headers("user_t1")).status_code == 200
    assert events(t2) == [("offer_closed", {"offer_id": offer_2["id"], "reason": "taken"})]
    closed = events(t1)
    assert ("offer_closed", {"offer_id": offer_1["id"], "reason": "accepted"}) in closed
    [updated] = events(school, "order_updated")
    assert updated["status"] == "booked" and updated["sessions"][0]["teacher_id"] == world.teacher_1.id


def test_nothing_is_told_of_a_transaction_that_rolled_back(app, client, world):
    t1 = listen(app, client, world.user_t1)
    order = f.order(world.school_a, urgent=True)
    db.session.commit()
    events(t1)
    offers_service.send_wave(order)
    db.session.rollback()
    assert events(t1) == []
    offers_service.send_wave(db.session.merge(order))
    db.session.commit()
    assert len(events(t1, "offer")) == 1


def test_losing_a_race_tells_nobody_anything(app, client, world):
    order = urgent_order(client, world)
    offers = {o.teacher_id: o.id for o in db.session.scalars(db.select(Offer))}
    client.post(f"/api/v1/offers/{offers[world.teacher_1.id]}/accept", headers=world.headers("user_t1"))
    school = listen(app, client, world.op_a)
    late = client.post(f"/api/v1/offers/{offers[world.teacher_2.id]}/accept", headers=world.headers("user_t2"))
    assert late.status_code == 409 and events(school) == []
    assert order["id"]


def test_cancelling_tells_the_booked_teacher_and_closes_open_offers(app, client, world):
    order = urgent_order(client, world)
    offers = {o.teacher_id: o.id for o in db.session.scalars(db.select(Offer))}
    client.post(f"/api/v1/offers/{offers[world.teacher_1.id]}/accept", headers=world.headers("user_t1"))
    t1 = listen(app, client, world.user_t1)
    assert client.post(f"/api/v1/orders/{order['id']}/cancel", headers=world.headers("op_a")).status_code == 200
    [told] = events(t1, "order_updated")
    assert told["status"] == "cancelled" and told["sessions"][0]["status"] == "cancelled"


def test_withdrawal_reopens_offers_to_others_and_counts_late_ones(app, client, world):
    order = urgent_order(client, world)  # next week: a withdrawal now is not late
    offers = {o.teacher_id: o.id for o in db.session.scalars(db.select(Offer))}
    client.post(f"/api/v1/offers/{offers[world.teacher_1.id]}/accept", headers=world.headers("user_t1"))
    f.teacher(name="Guru Baru", lon=102.11)
    db.session.commit()
    school = listen(app, client, world.op_a)
    session_id = order["sessions"][0]["id"]
    url = f"/api/v1/sessions/{session_id}/withdraw"
    assert client.post(url, json={}, headers=world.headers("user_t1")).status_code == 422
    assert client.post(url, json={"reason": "sakit"}, headers=world.headers("user_t2")).status_code == 404
    response = client.post(url, json={"reason": "sakit"}, headers=world.headers("user_t1"))
    assert response.status_code == 200 and response.get_json()["status"] == "offered"
    assert [u["status"] for u in events(school, "order_updated")] == ["open"]
    [withdrawal] = db.session.scalars(db.select(Withdrawal)).all()
    assert (withdrawal.teacher_id, withdrawal.late, withdrawal.reason) == (world.teacher_1.id, False, "sakit")
    # Straight back to dispatch, to someone who has not had it: never the teacher who withdrew.
    new_offers = db.session.scalars(db.select(Offer).where(Offer.status == "open")).all()
    assert new_offers and world.teacher_1.id not in {o.teacher_id for o in new_offers}
    assert client.post(url, json={"reason": "lagi"}, headers=world.headers("user_t1")).status_code == 404


def test_a_withdrawal_close_to_the_lesson_is_late(app, client, world, clock):
    session = world.order_a.sessions[0]
    session.status, session.teacher_id = "booked", world.teacher_1.id
    db.session.commit()
    clock.now = session.starts_at - timedelta(hours=3)
    response = client.post(
        f"/api/v1/sessions/{session.id}/withdraw", json={"reason": "motor rusak"}, headers=world.headers("user_t1")
    )
    assert response.status_code == 200
    assert db.session.scalars(db.select(Withdrawal.late)).all() == [True]
    clock.now = session.starts_at + timedelta(minutes=1)
    session = db.session.get(LessonSession, session.id)
    session.status, session.teacher_id = "booked", world.teacher_2.id
    db.session.commit()
    late = client.post(
        f"/api/v1/sessions/{session.id}/withdraw", json={"reason": "x"}, headers=world.headers("user_t2")
    )
    assert late.status_code == 409 and "already started" in late.get_json()["message"]


def test_the_clock_expires_offers_and_marks_no_shows_and_tells_them(app, client, world, clock):
    t1, school = listen(app, client, world.user_t1), listen(app, client, world.op_a)
    order = urgent_order(client, world)
    [offer_1] = events(t1, "offer")
    assert service_clock.tick() == {"expired": 0, "waves": 0, "held": 0, "no_shows": 0, "lapsed": 0}
    timeout = offers_service.get_district().urgent_offer_timeout_min
    clock.advance(minutes=timeout)
    assert service_clock.tick()["expired"] == 2
    assert events(t1) == [("offer_closed", {"offer_id": offer_1["id"], "reason": "expired"})]
    assert events(school, "order_updated")[-1]["sessions"][0]["status"] == "open"  # nobody left to ask

    # A booked lesson with no check-in by the grace time: marked, and the school is told.
    session = db.session.get(LessonSession, order["sessions"][0]["id"])
    session.status, session.teacher_id = "booked", world.teacher_1.id
    db.session.commit()
    grace = offers_service.get_district().checkin_grace_min
    clock.now = session.starts_at + timedelta(minutes=grace + 1)
    assert service_clock.tick()["no_shows"] == 1
    told = events(school, "order_updated")[-1]
    assert [s["status"] for s in told["sessions"]][:1] == ["no_show"]
    assert service_clock.tick()["no_shows"] == 0


def test_the_weekly_plan_pushes_its_offers(app, client, world):
    from tests.factories import next_weekday

    t1, t2 = listen(app, client, world.user_t1), listen(app, client, world.user_t2)
    monday = next_weekday(0)
    body = {"from": monday.isoformat(), "to": monday.isoformat()}
    response = client.post("/api/v1/matching/runs", json=body, headers=world.headers("admin"))
    assert response.status_code == 202
    planned = {o.teacher_id: o.id for o in db.session.scalars(db.select(Offer))}
    assert planned
    heard = {world.teacher_1.id: events(t1, "offer"), world.teacher_2.id: events(t2, "offer")}
    for teacher_id, offers in heard.items():
        assert [o["id"] for o in offers] == ([planned[teacher_id]] if teacher_id in planned else [])
