"""Check-in, the lesson record, rating codes, students' stars and the ranking."""

from datetime import datetime, timedelta

import pytest

from dispatch import workflow
from dispatch.extensions import db
from dispatch.orders.models import LessonSession
from dispatch.ratings.models import Rating
from tests.factories import next_weekday

DAY = next_weekday(0)
START = datetime.combine(DAY, datetime.min.time()) + timedelta(minutes=450)  # 07:30


@pytest.fixture
def clock(clock):
    """The district's clock, five minutes into the lesson unless the test moves it."""
    clock.now = START + timedelta(minutes=5)
    return clock


@pytest.fixture
def booked(world):
    session = world.order_a.sessions[0]  # 07:30-08:50 at school A, next Monday
    session.status, session.teacher_id = "booked", world.teacher_1.id
    world.order_a.refresh_status()
    db.session.commit()
    return session


def check_in(client, world, session, lat=-1.4861, lon=102.1177, who="user_t1"):
    return client.post(
        f"/api/v1/sessions/{session.id}/check-in", json={"lat": lat, "lon": lon}, headers=world.headers(who)
    )


def test_check_in_at_the_school_holds_the_lesson(client, world, booked, clock):
    response = check_in(client, world, booked, lat=-1.4870, lon=102.1180)  # about 100 m away
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "held"
    assert 50 < response.get_json()["checkin_distance_m"] < 150


def test_check_in_too_far_is_422_with_the_distance(client, world, booked, clock):
    response = check_in(client, world, booked, lat=-1.50, lon=102.12)  # about 1.6 km away
    assert response.status_code == 422
    assert " m from the school" in response.get_json()["message"] and "lat" in response.get_json()["errors"]["json"]
    db.session.expire_all()
    assert db.session.get(LessonSession, booked.id).status == "booked"


def test_check_in_only_around_the_lesson_and_only_by_its_teacher(client, world, booked, clock):
    clock.now = START - timedelta(hours=2)
    assert check_in(client, world, booked).status_code == 409
    clock.now = START + timedelta(minutes=10)
    assert check_in(client, world, booked, who="user_t2").status_code == 404
    assert check_in(client, world, booked).status_code == 200


def test_lesson_record_after_check_in(client, world, booked, clock):
    url = f"/api/v1/sessions/{booked.id}/record"
    body = {"topic": "Persamaan linear", "present": 28, "notes": "PR halaman 12"}
    assert client.post(url, json=body, headers=world.headers("user_t1")).status_code == 409  # not held yet
    check_in(client, world, booked)
    response = client.post(url, json=body, headers=world.headers("user_t1"))
    assert response.status_code == 200 and response.get_json()["topic"] == "Persamaan linear"
    bad = client.post(url, json={"topic": "", "present": -1}, headers=world.headers("user_t1"))
    assert bad.status_code == 422 and {"topic", "present"} <= set(bad.get_json()["errors"]["json"])


def held_code(client, world, session):
    check_in(client, world, session)
    response = client.get(f"/api/v1/sessions/{session.id}/rating-code", headers=world.headers("user_t1"))
    assert response.status_code == 200
    return response.get_json()


def rate(client, code, stars=5, device="device-0001", tags=None):
    return client.post("/api/v1/ratings", json={"code": code, "stars": stars, "device": device, "tags": tags or []})


def test_rating_code_and_qr(client, world, booked, clock):
    data = held_code(client, world, booked)
    assert len(data["code"]) == 6
    assert data["valid_until"].startswith((START + timedelta(minutes=80, hours=24)).date().isoformat())
    again = client.get(f"/api/v1/sessions/{booked.id}/rating-code", headers=world.headers("op_a")).get_json()
    assert again["code"] == data["code"]
    with client.get(data["qr"], headers=world.headers("user_t1")) as qr:
        assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.get_data()


def test_one_rating_per_device(client, world, booked, clock):
    code = held_code(client, world, booked)["code"]
    assert rate(client, code, tags=["jelas", "sabar"]).status_code == 201
    assert rate(client, code).status_code == 409
    assert rate(client, code.lower(), device="device-0002").status_code == 201
    assert db.session.scalar(db.select(db.func.count(Rating.id))) == 2
    assert "device-0001" not in str(db.session.scalars(db.select(Rating.device_hash)).all())


def test_code_window(client, world, booked, clock):
    code = held_code(client, world, booked)["code"]
    clock.now = START + timedelta(minutes=80, hours=24, seconds=1)
    response = rate(client, code)
    assert response.status_code == 422 and "code" in response.get_json()["errors"]["json"]
    assert rate(client, "ZZZZZZ").status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [({"stars": 6}, "stars"), ({"stars": 0}, "stars"), ({"stars": "5"}, "stars"), ({"tags": ["bagus sekali"]}, "tags"),
     ({"device": ""}, "device")],
)  # fmt: skip
def test_bad_ratings_are_422(client, world, booked, clock, body, field):
    code = held_code(client, world, booked)["code"]
    data = {"code": code, "stars": 4, "device": "device-0003", **body}
    response = client.post("/api/v1/ratings", json=data)
    assert response.status_code == 422 and field in response.get_json()["errors"]["json"]
    assert db.session.scalar(db.select(db.func.count(Rating.id))) == 0


def test_ratings_are_rate_limited_per_address(app, client, world, booked, clock):
    app.config["RATINGS_RATE_LIMIT"] = "5 per minute"
    code = held_code(client, world, booked)["code"]
    statuses = [rate(client, code, device=f"device-{i:04d}").status_code for i in range(7)]
    assert statuses == [201] * 5 + [429] * 2
    other = client.post(
        "/api/v1/ratings",
        json={"code": code, "stars": 4, "device": "device-9999"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert other.status_code == 201


def test_ranking_and_own_summary(client, world, booked, clock):
    code = held_code(client, world, booked)["code"]
    for i, stars in enumerate([5, 4, 5]):
        rate(client, code, stars=stars, device=f"device-{i:04d}", tags=["jelas"])
    ranking = client.get("/api/v1/teachers/ranking?subject=MTK&level=SMP", headers=world.headers("op_a"))
    assert ranking.status_code == 200
    [row] = ranking.get_json()
    assert row["teacher_id"] == world.teacher_1.id and row["ratings"] == 3
    assert 1 <= row["low"] <= row["score"] <= row["high"] <= 5 and row["no_shows"] == 0
    assert client.get("/api/v1/teachers/ranking?subject=IPS", headers=world.headers("admin")).get_json() == []
    assert client.get("/api/v1/teachers/ranking", headers=world.headers("user_t1")).status_code == 403
    mine = client.get("/api/v1/me/ratings", headers=world.headers("user_t1")).get_json()
    assert mine["ratings"] == 3 and mine["stars"]["5"] == 2 and mine["tags"] == {"jelas": 3}
    assert "device" not in str(mine)


def test_no_show_is_marked_after_the_grace_time_and_the_rest_reopened(app, world, booked, clock):
    clock.now = START + timedelta(minutes=10)  # within the 15-minute grace
    assert workflow.tick()["no_shows"] == 0
    clock.now = START + timedelta(minutes=16)
    assert workflow.tick()["no_shows"] == 1
    db.session.commit()
    assert booked.status == "no_show" and booked.flag == "no_show"
    [again] = [s for s in world.order_a.sessions if s.id != booked.id]
    # The rest of the lesson, from when someone near could be there (15 minutes on, rounded up to the minute).
    assert (again.date, again.start_min, again.end_min) == (DAY, 450 + 31, 530)
    # Nothing is booked: the order is open again (a missed lesson never counts as booked).
    assert world.order_a.urgent is True and world.order_a.status == "open"
    # The rest of the lesson is offered at once, to the other teacher (not to the one who did not come).
    from dispatch.offers.models import Offer

    [offer] = db.session.scalars(db.select(Offer)).all()
    assert (offer.teacher_id, offer.session_ids, again.status) == (world.teacher_2.id, [again.id], "offered")


def test_a_no_show_too_late_to_replace_reopens_nothing(app, world, booked, clock):
    clock.now = START + timedelta(minutes=40)  # 40 minutes left; from 15 minutes on, only 25
    assert workflow.tick()["no_shows"] == 1
    assert [s.status for s in world.order_a.sessions] == ["no_show"]
    assert world.order_a.status == "expired"


def test_the_schools_no_show_flag_reopens_and_reoffers_like_the_clock(client, world, booked, clock):
    clock.now = START + timedelta(minutes=5)
    response = client.post(
        f"/api/v1/sessions/{booked.id}/flag", json={"flag": "no_show"}, headers=world.headers("op_a")
    )
    assert response.status_code == 200 and response.get_json()["status"] == "no_show"
    db.session.expire_all()
    order = db.session.get(type(world.order_a), world.order_a.id)
    [again] = [s for s in order.sessions if s.id != booked.id]
    assert (again.start_min, again.end_min, again.status) == (450 + 20, 530, "offered")
    assert order.status == "open" and order.urgent
    from dispatch.offers.models import Offer

    [offer] = db.session.scalars(db.select(Offer)).all()
    assert offer.teacher_id == world.teacher_2.id and offer.session_ids == [again.id]
    # The clock later finds nothing more to do for this lesson: it was flagged already.
    clock.now = START + timedelta(minutes=30)
    assert workflow.tick()["no_shows"] == 0


def test_checked_in_lessons_are_not_no_shows(client, world, booked, clock):
    check_in(client, world, booked)
    clock.now = START + timedelta(minutes=40)
    assert workflow.tick()["no_shows"] == 0


def test_check_in_before_the_start_does_not_hold_the_lesson(client, world, booked, clock):
    clock.now = START - timedelta(minutes=18)
    response = check_in(client, world, booked)
    assert response.status_code == 200 and response.get_json()["checked_in_at"] is not None
    assert response.get_json()["status"] == "booked"
    db.session.expire_all()
    assert db.session.get(type(world.order_a), world.order_a.id).status == "booked"  # not completed before it began
    record = client.post(
        f"/api/v1/sessions/{booked.id}/record",
        json={"topic": "Pecahan", "present": 20},
        headers=world.headers("user_t1"),
    )
    assert record.status_code == 409 and "started" in record.get_json()["message"]
    clock.now = START + timedelta(seconds=1)
    assert workflow.tick()["held"] == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(LessonSession, booked.id).status == "held"
    assert db.session.get(type(world.order_a), world.order_a.id).status == "completed"
    assert workflow.tick()["no_shows"] == 0


def test_school_confirms_and_flags(client, world, booked, clock):
    url = f"/api/v1/sessions/{booked.id}"
    assert client.post(f"{url}/confirm", headers=world.headers("op_b")).status_code == 404
    response = client.post(f"{url}/confirm", headers=world.headers("op_a"))
    assert response.status_code == 200 and response.get_json()["status"] == "held"
    late = client.post(f"{url}/flag", json={"flag": "late"}, headers=world.headers("op_a"))
    assert late.get_json()["flag"] == "late" and late.get_json()["status"] == "held"
    assert client.post(f"{url}/flag", json={"flag": "rude"}, headers=world.headers("op_a")).status_code == 422
    absent = client.post(f"{url}/flag", json={"flag": "no_show"}, headers=world.headers("op_a"))
    assert absent.get_json()["status"] == "no_show"
    row = client.get("/api/v1/teachers/ranking", headers=world.headers("admin")).get_json()
    assert row == []  # no stars yet: reliability flags never make a score on their own


def test_lesson_records_export_as_csv(client, world, booked, clock):
    check_in(client, world, booked)
    client.post(
        f"/api/v1/sessions/{booked.id}/record",
        json={"topic": "Pecahan, bagian 2", "present": 27},
        headers=world.headers("user_t1"),
    )
    url = f"/api/v1/schools/{world.school_a.npsn}/lesson-records.csv?from={DAY.isoformat()}&to={DAY.isoformat()}"
    response = client.get(url, headers=world.headers("op_a"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("tanggal,mulai,selesai,kelas,mapel,guru")
    assert lines[1] == f'{DAY.isoformat()},07:30,08:50,VII A,MTK,Siti Lubis,hadir,27,"Pecahan, bagian 2",'
    foreign = client.get(f"/api/v1/schools/{world.school_b.npsn}/lesson-records.csv", headers=world.headers("op_a"))
    assert foreign.status_code == 403
    bad = client.get(
        f"/api/v1/schools/{world.school_a.npsn}/lesson-records.csv?from=2026-13-01", headers=world.headers("op_a")
    )
    assert bad.status_code == 422


def test_mark_no_shows_command(runner, world, booked, clock):
    clock.now = START + timedelta(minutes=70)
    result = runner.invoke(args=["mark-no-shows"])
    assert result.exit_code == 0 and "no-shows: 1" in result.output
    db.session.expire_all()
    assert db.session.get(LessonSession, booked.id).status == "no_show"
