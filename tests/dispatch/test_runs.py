"""The weekly plan through the API: a run plans open sessions and sends offers."""

from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession
from tests.factories import next_weekday

MONDAY = next_weekday(0)


def test_run_plans_the_week_and_sends_offers(client, world):
    booked = world.order_b.sessions[0]
    booked.status, booked.teacher_id = "booked", world.teacher_2.id
    db.session.commit()
    body = {"from": MONDAY.isoformat(), "to": (MONDAY.replace(day=MONDAY.day)).isoformat()}
    response = client.post("/api/v1/matching/runs", json=body, headers=world.headers("admin"))
    assert response.status_code == 202
    run = client.get(f"/api/v1/matching/runs/{response.get_json()['id']}", headers=world.headers("admin")).get_json()
    assert run["status"] == "done"
    # order_a's session is open; teacher 2 is booked at that hour elsewhere, so teacher 1 gets the offer.
    assert (run["sessions"], run["assigned"], run["coverage"], run["offers"]) == (1, 1, 1.0, 1)
    assert run["bound"] >= run["coverage"]
    [offer] = db.session.scalars(db.select(Offer)).all()
    assert (offer.teacher_id, offer.session_ids) == (world.teacher_1.id, [world.order_a.sessions[0].id])
    assert db.session.get(LessonSession, world.order_a.sessions[0].id).status == "offered"
    accepted = client.post(f"/api/v1/offers/{offer.id}/accept", headers=world.headers("user_t1"))
    assert accepted.status_code == 200


def test_run_input_and_roles(client, world):
    bad = client.post(
        "/api/v1/matching/runs", json={"from": "2026-03-10", "to": "2026-03-01"}, headers=world.headers("admin")
    )
    assert bad.status_code == 422 and "to" in bad.get_json()["errors"]["json"]
    long = client.post(
        "/api/v1/matching/runs", json={"from": "2026-03-01", "to": "2026-05-01"}, headers=world.headers("admin")
    )
    assert long.status_code == 422
    missing = client.post("/api/v1/matching/runs", json={"to": "2026-03-01"}, headers=world.headers("admin"))
    assert missing.status_code == 422 and "from" in missing.get_json()["errors"]["json"]
    assert (
        client.post(
            "/api/v1/matching/runs", json={"from": "2026-03-01", "to": "2026-03-02"}, headers=world.headers("op_a")
        ).status_code
        == 403
    )
    assert client.get("/api/v1/matching/runs/999", headers=world.headers("admin")).status_code == 404


def test_run_works_in_the_background_and_reports_progress(shared_app):
    import time

    from tests import factories as f

    shared_app.config["MATCHING_RUN_INLINE"] = False
    with shared_app.app_context():
        f.kecamatan()
        school = f.school(npsn="10509997", level="SMP")
        for _ in range(3):
            f.order(school)
        f.teacher()
        header = f.auth(f.user("district_admin"))
        db.session.commit()
    client = shared_app.test_client()
    body = {"from": MONDAY.isoformat(), "to": MONDAY.isoformat()}
    response = client.post("/api/v1/matching/runs", json=body, headers=header)
    assert response.status_code == 202 and response.get_json()["status"] in ("queued", "running", "done")
    url = f"/api/v1/matching/runs/{response.get_json()['id']}"
    deadline = time.monotonic() + 60
    while (run := client.get(url, headers=header).get_json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
    assert run["status"] == "done"
    # Three orders at the same hour, one teacher: one planned, one offer.
    assert (run["sessions"], run["assigned"], run["offers"]) == (3, 1, 1)


def test_what_if_more_teachers_in_a_kecamatan(client, world):
    from dispatch.extensions import db as database
    from tests import factories as f

    world.school_a.kecamatan_code = world.school_b.kecamatan_code = "15.08.03"
    world.teacher_1.subjects = world.teacher_2.subjects = ["IPA"]  # nobody teaches MTK now
    for _ in range(2):
        f.order(
            world.school_a, sessions=[LessonSession(date=MONDAY, start_min=600, end_min=680, periods=2, status="open")]
        )
    database.session.commit()
    body = {"from": MONDAY.isoformat(), "to": MONDAY.isoformat(),
            "add_teachers": [{"count": 2, "subjects": ["MTK"], "levels": ["SMP"], "kecamatan_code": "15.08.03"}]}  # fmt: skip
    response = client.post("/api/v1/matching/what-if", json=body, headers=world.headers("admin"))
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["current"]["coverage"] == 0.0
    assert data["with_added"]["coverage"] == 4.0 and data["gain"] == 4.0  # four MTK sessions, two new teachers
    assert {r["key"] for r in data["with_added"]["by_area"]} == {"15.08.03"}
    bad = dict(body, add_teachers=[{**body["add_teachers"][0], "kecamatan_code": "15.08.99"}])
    response = client.post("/api/v1/matching/what-if", json=bad, headers=world.headers("admin"))
    assert response.status_code == 422
    assert client.post("/api/v1/matching/what-if", json=body, headers=world.headers("op_a")).status_code == 403
