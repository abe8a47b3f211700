"""Rollout: a school in a kecamatan not yet live may post orders, which count as need, but nothing is
dispatched to or planned for them until the district switches the kecamatan on."""

from __future__ import annotations

from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession
from dispatch.planning import build_week_instance
from tests.factories import next_weekday

DAY = next_weekday(2)
TOWN = "15.08.03"


def switch(client, world, live: bool, code: str = TOWN):
    response = client.patch(f"/api/v1/kecamatan/{code}", json={"live": live}, headers=world.headers("admin"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["live"] is live
    return response.get_json()


def urgent_order(client, world):
    body = {"subject": "MTK", "level": "SMP", "class_name": "IX A", "reason": "substitute", "urgent": True,
            "sessions": [{"date": DAY.isoformat(), "start": "07:30", "end": "08:50"}]}  # fmt: skip
    response = client.post("/api/v1/orders", json=body, headers=world.headers("op_a"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_offers(order_id: int) -> list[Offer]:
    return db.session.scalars(db.select(Offer).where(Offer.order_id == order_id, Offer.status == "open")).all()


def test_a_school_not_live_posts_but_nothing_is_dispatched_until_it_is(client, world):
    world.school_a.kecamatan_code = TOWN
    db.session.commit()
    switch(client, world, False)
    order = urgent_order(client, world)  # posting works: the district sees the need
    assert order["sessions"][0]["status"] == "open" and open_offers(order["id"]) == []
    # Not among the open orders a teacher may take, and a claim is refused with the reason.
    listed = client.get("/api/v1/orders/open", headers=world.headers("user_t1")).get_json()
    assert order["id"] not in {o["id"] for o in listed}
    claim = client.post(f"/api/v1/orders/{order['id']}/claim", headers=world.headers("user_t1"))
    assert claim.status_code == 409 and "not live" in claim.get_json()["message"]
    # Not planned by the weekly plan, but counted as requested in coverage.
    planned = {s["id"] for s in build_week_instance(DAY)["sessions"]}
    assert str(order["sessions"][0]["id"]) not in planned
    cover = client.get(f"/api/v1/coverage?from={DAY}&to={DAY}&by=kecamatan", headers=world.headers("admin")).get_json()
    [town] = [r for r in cover["rows"] if r["key"] == TOWN]
    assert (
        town["sessions"] == 1 and town["booked"] == 0 and town["live"] is False and town["name"] == "Pasar Muaro Bungo"
    )

    # Switched on: the waiting urgent order is offered at once, and can be taken.
    switch(client, world, True)
    offers = open_offers(order["id"])
    assert {o.teacher_id for o in offers} == {world.teacher_1.id, world.teacher_2.id}
    mine = next(o for o in offers if o.teacher_id == world.teacher_1.id)
    assert client.post(f"/api/v1/offers/{mine.id}/accept", headers=world.headers("user_t1")).status_code == 200


def test_switching_off_closes_open_offers_and_keeps_bookings(client, world):
    world.school_a.kecamatan_code = TOWN
    db.session.commit()
    booked = urgent_order(client, world)
    [offer, _] = sorted(open_offers(booked["id"]), key=lambda o: o.teacher_id)
    assert client.post(f"/api/v1/offers/{offer.id}/accept", headers=world.headers("user_t1")).status_code == 200
    waiting = urgent_order(client, world)
    assert len(open_offers(waiting["id"])) == 1  # teacher 1 is busy then; teacher 2 has it

    switch(client, world, False)
    db.session.expire_all()
    assert open_offers(waiting["id"]) == []
    assert db.session.scalars(db.select(Offer.status).where(Offer.order_id == waiting["id"])).all() == ["cancelled"]
    assert db.session.get(LessonSession, waiting["sessions"][0]["id"]).status == "open"
    assert db.session.get(LessonSession, booked["sessions"][0]["id"]).status == "booked"  # bookings stand
    # A second switch off changes nothing; an unknown kecamatan is a 404, a bad body a 422 naming the field.
    switch(client, world, False)
    admin = world.headers("admin")
    assert client.patch("/api/v1/kecamatan/15.08.99", json={"live": True}, headers=admin).status_code == 404
    bad = client.patch(f"/api/v1/kecamatan/{TOWN}", json={"live": "ya"}, headers=admin)
    assert bad.status_code == 422 and "live" in bad.get_json()["errors"]["json"]
    assert (
        client.patch(f"/api/v1/kecamatan/{TOWN}", json={"live": True}, headers=world.headers("op_a")).status_code == 403
    )


def test_the_equity_setting_defaults_to_080_and_is_changed_by_the_district(client, world):
    admin = world.headers("admin")
    assert client.get("/api/v1/district", headers=admin).get_json()["equity_floor"] == 0.8
    changed = client.patch("/api/v1/district", json={"equity_floor": 0.9}, headers=admin)
    assert changed.status_code == 200 and changed.get_json()["equity_floor"] == 0.9
    off = client.patch("/api/v1/district", json={"equity_floor": None}, headers=admin)
    assert off.status_code == 200 and off.get_json()["equity_floor"] is None
    for bad in (1.5, -0.1, "much"):
        response = client.patch("/api/v1/district", json={"equity_floor": bad}, headers=admin)
        assert response.status_code == 422 and "equity_floor" in response.get_json()["errors"]["json"]
