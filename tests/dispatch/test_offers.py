"""Instant dispatch: waves of offers for urgent orders, accepted through the one booking path."""

from datetime import timedelta

import pytest

import dispatch.offers.service as offers_service
from dispatch.district.service import district_now
from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession
from tests import factories as f
from tests.factories import next_weekday

DAY = next_weekday(2)


def urgent_order(client, world, who="op_a"):
    body = {"subject": "MTK", "level": "SMP", "class_name": "IX A", "reason": "substitute", "urgent": True,
            "sessions": [{"date": DAY.isoformat(), "start": "07:30", "end": "08:50"}]}  # fmt: skip
    response = client.post("/api/v1/orders", json=body, headers=world.headers(who))
    assert response.status_code == 201
    return response.get_json()


def offers_of(client, world, who):
    response = client.get("/api/v1/offers", headers=world.headers(who))
    assert response.status_code == 200
    return response.get_json()


def test_urgent_order_is_offered_at_once_and_first_acceptance_wins(client, world):
    order = urgent_order(client, world)
    assert order["sessions"][0]["status"] == "offered"
    [mine] = offers_of(client, world, "user_t1")
    [theirs] = offers_of(client, world, "user_t2")
    assert mine["order_id"] == order["id"] and mine["session_ids"] == [order["sessions"][0]["id"]]
    assert mine["school_id"] == world.school_a.npsn and mine["status"] == "open"
    accepted = client.post(f"/api/v1/offers/{mine['id']}/accept", headers=world.headers("user_t1"))
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    late = client.post(f"/api/v1/offers/{theirs['id']}/accept", headers=world.headers("user_t2"))
    assert late.status_code == 409
    assert db.session.get(Offer, theirs["id"]).status == "taken"
    session = db.session.get(LessonSession, order["sessions"][0]["id"])
    assert (session.status, session.teacher_id) == ("booked", world.teacher_1.id)
    assert offers_of(client, world, "user_t2") == []


def test_someone_elses_offer_is_404(client, world):
    urgent_order(client, world)
    [mine] = offers_of(client, world, "user_t1")
    assert client.post(f"/api/v1/offers/{mine['id']}/accept", headers=world.headers("user_t2")).status_code == 404
    assert client.post(f"/api/v1/offers/{mine['id']}/accept", headers=world.headers("op_a")).status_code == 403


def test_declines_send_the_next_wave_then_reopen(client, world):
    extra = [f.teacher(name=f"Guru {i}", lon=102.10 + 0.005 * i) for i in range(3)]
    world.school_a.favourites.append(extra[2])  # the farthest, but the school's favourite
    db.session.commit()
    order = urgent_order(client, world)
    first_wave = db.session.scalars(db.select(Offer).where(Offer.order_id == order["id"])).all()
    assert len(first_wave) == 3 and extra[2].id in {o.teacher_id for o in first_wave}
    for offer in first_wave:
        offer_obj = db.session.get(Offer, offer.id)
        offers_service.decline(offer_obj.teacher_id, offer_obj.id, "sedang mengajar di tempat lain")
    db.session.commit()
    second_wave = db.session.scalars(db.select(Offer).where(Offer.order_id == order["id"], Offer.wave == 2)).all()
    assert len(second_wave) == 2  # the 5 candidates: 3 then 2
    for offer in second_wave:
        offers_service.decline(offer.teacher_id, offer.id, "jauh")
    db.session.commit()
    assert db.session.get(LessonSession, order["sessions"][0]["id"]).status == "open"  # left to self-service


def test_offers_expire_and_the_next_wave_goes(client, world, monkeypatch):
    f.teacher(name="Guru Cadangan", lon=102.11)
    db.session.commit()
    order = urgent_order(client, world)
    timeout = offers_service.get_district().urgent_offer_timeout_min
    later = district_now() + timedelta(minutes=timeout + 1)
    monkeypatch.setattr(offers_service, "district_now", lambda: later)
    assert offers_service.expire_offers() == 3
    db.session.commit()
    assert {o.status for o in db.session.scalars(db.select(Offer).where(Offer.wave == 1))} == {"expired"}
    # Nobody is left for a second wave: everyone was asked once.
    assert (
        db.session.scalar(db.select(db.func.count(Offer.id)).where(Offer.order_id == order["id"], Offer.wave == 2)) == 0
    )


def test_cancelling_the_order_closes_its_offers(client, world):
    order = urgent_order(client, world)
    client.post(f"/api/v1/orders/{order['id']}/cancel", headers=world.headers("op_a"))
    assert {o.status for o in db.session.scalars(db.select(Offer))} == {"cancelled"}
    assert offers_of(client, world, "user_t1") == []


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": 5}])
def test_decline_needs_a_reason(client, world, body):
    urgent_order(client, world)
    [mine] = offers_of(client, world, "user_t1")
    response = client.post(f"/api/v1/offers/{mine['id']}/decline", json=body, headers=world.headers("user_t1"))
    assert response.status_code == 422 and "reason" in response.get_json()["errors"]["json"]
