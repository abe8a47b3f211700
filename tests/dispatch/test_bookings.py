"""Self-service: open orders, claims and the one booking path that re-checks every rule."""

import threading
from datetime import timedelta

import pytest

from dispatch.extensions import db
from dispatch.orders.models import LessonSession, Order
from tests import factories as f
from tests.factories import next_weekday

MONDAY = next_weekday(0)


def claim(client, world, order_id, who="user_t1", body=None):
    return client.post(f"/api/v1/orders/{order_id}/claim", json=body or {}, headers=world.headers(who))


def new_order(school, start=450, end=530, day=MONDAY, subject="MTK", periods=2):
    order = f.order(
        school,
        subject=subject,
        sessions=[LessonSession(date=day, start_min=start, end_min=end, periods=periods, status="open")],
    )
    db.session.commit()
    return order


def test_open_orders_lists_what_the_teacher_can_take(client, world):
    response = client.get("/api/v1/orders/open", headers=world.headers("user_t1"))
    assert response.status_code == 200
    orders = {o["id"]: o for o in response.get_json()}
    assert set(orders) == {world.order_a.id, world.order_b.id}
    assert orders[world.order_a.id]["claimable_session_ids"] == [world.order_a.sessions[0].id]
    # An IPA-only teacher does not see MTK orders.
    world.teacher_2.subjects = ["IPA"]
    db.session.commit()
    assert client.get("/api/v1/orders/open", headers=world.headers("user_t2")).get_json() == []


def test_claim_books_and_the_second_claim_is_refused(client, world):
    response = claim(client, world, world.order_a.id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["order"]["status"] == "booked"
    assert body["order"]["sessions"][0]["teacher_id"] == world.teacher_1.id
    second = claim(client, world, world.order_a.id, who="user_t2")
    assert second.status_code == 409
    schedule = client.get("/api/v1/me/schedule", headers=world.headers("user_t1")).get_json()
    assert [s["order_id"] for s in schedule] == [world.order_a.id]
    assert client.get("/api/v1/me/schedule", headers=world.headers("user_t2")).get_json() == []


def test_claim_refuses_a_clash_including_travel_time(client, world):
    assert claim(client, world, world.order_a.id).status_code == 200  # 07:30-08:50 at school A
    overlapping = new_order(world.school_b, start=480, end=560)
    response = claim(client, world, overlapping.id)
    assert response.status_code == 409
    # School B is about 2.3 km from A: 5 minutes' drive plus a 10-minute buffer; 08:55 is too soon, 09:05 is fine.
    too_soon = new_order(world.school_b, start=535, end=615)
    assert claim(client, world, too_soon.id).status_code == 409
    in_time = new_order(world.school_b, start=545, end=625)
    assert claim(client, world, in_time.id).status_code == 200


def test_claim_refuses_over_the_weekly_cap(client, world):
    world.teacher_1.max_periods = 3
    db.session.commit()
    assert claim(client, world, world.order_a.id).status_code == 200  # 2 periods
    tuesday = new_order(world.school_a, day=MONDAY + timedelta(days=1))
    response = claim(client, world, tuesday.id)
    assert response.status_code == 409 and "cap" in response.get_json()["message"]
    next_week = new_order(world.school_a, day=MONDAY + timedelta(days=7))
    assert claim(client, world, next_week.id).status_code == 200


@pytest.mark.parametrize(
    "change, word",
    [
        (lambda w: setattr(w.teacher_1, "subjects", ["IPA"]), "teach"),
        (lambda w: setattr(w.teacher_1, "radius_km", 1.0), "km"),
        (
            lambda w: setattr(w.teacher_1, "availability", [{"day": 2, "start": "07:00", "end": "12:00"}]),
            "availability",
        ),
        (lambda w: setattr(w.teacher_1, "status", "paused"), "paused"),
        (lambda w: w.school_a.blocked.append(w.teacher_1), "does not take"),
    ],
)
def test_booking_rechecks_every_rule(client, world, change, word):
    session_id = world.order_a.sessions[0].id
    change(world)
    db.session.commit()
    response = claim(client, world, world.order_a.id, body={"session_ids": [session_id]})
    assert response.status_code == 409
    assert word in response.get_json()["message"]
    db.session.expire_all()
    assert db.session.get(LessonSession, session_id).status == "open"


def test_claim_unknown_or_foreign_sessions(client, world):
    assert claim(client, world, 999999).status_code == 404
    response = claim(client, world, world.order_a.id, body={"session_ids": [world.order_b.sessions[0].id]})
    assert response.status_code == 422 and "session_ids" in response.get_json()["errors"]["json"]
    assert claim(client, world, world.order_a.id, who="op_a").status_code == 403


def race(app, requests: list[tuple[str, dict]]) -> list[int]:
    """Send the POSTs from one thread each, released together; the status codes."""
    statuses: list[int] = []
    barrier = threading.Barrier(len(requests))

    def attempt(url, headers):
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(url, json={}, headers=headers).status_code)

    threads = [threading.Thread(target=attempt, args=request) for request in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_many_teachers_race_for_one_session(shared_app):
    """20 teachers claim one session at the same instant: exactly one booking, 19 clear 409s."""
    with shared_app.app_context():
        f.kecamatan()
        order = new_order(f.school(npsn="10509999", level="SMP"))
        users = [f.user("teacher", teacher_id=f.teacher(name=f"Guru {i}").id) for i in range(20)]
        db.session.commit()
        requests = [(f"/api/v1/orders/{order.id}/claim", f.auth(u)) for u in users]
        order_id, session_id = order.id, order.sessions[0].id
        db.session.remove()
    statuses = race(shared_app, requests)
    with shared_app.app_context():
        session = db.session.get(LessonSession, session_id)
        assert sorted(statuses) == [200] + [409] * 19
        assert session.status == "booked" and session.teacher_id is not None
        assert db.session.get(Order, order_id).status == "booked"


def test_one_teacher_claiming_two_clashing_orders_at_once_gets_one(shared_app):
    with shared_app.app_context():
        f.kecamatan()
        school = f.school(npsn="10509998", level="SMP")
        orders = [new_order(school, start=450, end=530), new_order(school, start=480, end=560)]
        header = f.auth(f.user("teacher", teacher_id=f.teacher().id))
        db.session.commit()
        requests = [(f"/api/v1/orders/{o.id}/claim", header) for o in orders]
        db.session.remove()
    statuses = race(shared_app, requests)
    with shared_app.app_context():
        booked = db.session.scalars(db.select(LessonSession).where(LessonSession.status == "booked")).all()
        assert sorted(statuses) == [200, 409] and len(booked) == 1


def test_claims_and_accepts_racing_leave_one_booking_and_no_open_offer(shared_app):
    """Ten teachers accept their offers while ten others claim the order, all at once: one booking, and
    every other offer for the session closed (none left open to fail later at acceptance)."""
    from dispatch.district.service import district_now
    from dispatch.offers.models import Offer

    with shared_app.app_context():
        f.kecamatan()
        order = new_order(f.school(npsn="10509996", level="SMP"))
        session_id, order_id = order.sessions[0].id, order.id
        requests = []
        for i in range(20):
            user = f.user("teacher", teacher_id=f.teacher(name=f"Guru {i}").id)
            if i % 2:
                requests.append((f"/api/v1/orders/{order_id}/claim", f.auth(user)))
                continue
            offer = Offer(order_id=order_id, teacher_id=user.teacher_id, session_ids=[session_id], status="open",
                          wave=1, expires_at=district_now() + timedelta(minutes=10))  # fmt: skip
            db.session.add(offer)
            db.session.flush()
            requests.append((f"/api/v1/offers/{offer.id}/accept", f.auth(user)))
        db.session.commit()
        db.session.remove()
    statuses = race(shared_app, requests)
    with shared_app.app_context():
        assert sorted(statuses) == [200] + [409] * 19
        assert db.session.get(LessonSession, session_id).status == "booked"
        assert f.stale_offers() == []
        assert db.session.scalar(db.select(db.func.count(Offer.id)).where(Offer.status == "open")) == 0
