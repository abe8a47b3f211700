"""Issue 11, items 10-12, and the student's rating page: formulas in exports, device-bound ratings,
a class behind one address, anonymous idempotency keys. Each test here failed on 487c5a8."""

from __future__ import annotations

import csv
import io
import re

import pytest

from dispatch.exports import csv_response, neutralise
from dispatch.extensions import db
from dispatch.ratings.models import Rating
from tests.dispatch.test_lessons_ratings import START, booked, check_in, clock, held_code  # noqa: F401  (fixtures)

SCHOOL_NETWORK = {"REMOTE_ADDR": "10.20.30.40"}


def ratings_count() -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count(Rating.id)))


# 10. Formulas in exports ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("x")'])
def test_neutralise_defuses_formula_text(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell, out", [("Pecahan", "Pecahan"), (-1.5, -1.5), (27, 27), (None, ""), ("a=b", "a=b")])
def test_neutralise_keeps_data(cell, out):
    assert neutralise(cell) == out


def test_every_csv_writer_goes_through_the_helper(app):
    response = csv_response("x.csv", ["=bad", "ok"], [["=1+1", -3]])
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [["'=bad", "ok"], ["'=1+1", "-3"]]


def test_lesson_records_export_carries_no_live_formula(client, world, booked, clock):  # noqa: F811
    world.teacher_1.name = '=HYPERLINK("http://evil","klik")'
    db.session.commit()
    check_in(client, world, booked)
    client.post(f"/api/v1/sessions/{booked.id}/record", json={"topic": "=cmd|' /C calc'!A0", "present": 20,
                                                               "notes": "@SUM(1+1)"}, headers=world.headers("user_t1"))  # fmt: skip
    day = booked.date.isoformat()
    url = f"/api/v1/schools/{world.school_a.npsn}/lesson-records.csv?from={day}&to={day}"
    response = client.get(url, headers=world.headers("op_a"))
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(1+1)" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")], cells


# 11. Ratings bound to a device token; caps that stop floods, not classes -----------------------------------


def open_page(client, code):
    response = client.get(f"/nilai/{code}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    return response, token.group(1) if token else None


def test_one_device_cannot_rate_twice_by_editing_the_device_string(app, world, booked, clock):  # noqa: F811
    code = held_code(app.test_client(), world, booked)["code"]
    phone = app.test_client()
    page, _ = open_page(phone, code)
    assert page.status_code == 200 and "guru_device" in page.headers.get("Set-Cookie", "")
    first = phone.post("/api/v1/ratings", json={"code": code, "stars": 5, "device": "device-0001"})
    assert first.status_code == 201
    for device in ("device-0002", " device-0001", "DEVICE-0001", "something-else"):
        again = phone.post("/api/v1/ratings", json={"code": code, "stars": 1, "device": device})
        assert again.status_code == 409, device
    assert ratings_count() == 1


def test_without_a_token_the_body_device_is_normalised(client, world, booked, clock):  # noqa: F811
    code = held_code(client, world, booked)["code"]
    assert client.post("/api/v1/ratings", json={"code": code, "stars": 5, "device": "device-0001"}).status_code == 201
    for device in (" device-0001", "DEVICE-0001 ", "device-0001\u00a0"):
        assert client.post("/api/v1/ratings", json={"code": code, "stars": 5, "device": device}).status_code == 409


def test_a_class_of_40_behind_one_address_all_rate(app, world, booked, clock):  # noqa: F811
    code = held_code(app.test_client(), world, booked)["code"]
    statuses = []
    for _ in range(40):
        phone = app.test_client()
        open_page(phone, code)
        statuses.append(
            phone.post(
                "/api/v1/ratings", json={"code": code, "stars": 4, "device": "rating-page"}, environ_base=SCHOOL_NETWORK
            ).status_code  # fmt: skip
        )
    assert statuses == [201] * 40
    assert ratings_count() == 40


def test_a_flood_from_one_address_is_stopped(app, world, booked, clock):  # noqa: F811
    app.config["RATINGS_RATE_LIMIT"] = "120 per minute"
    code = held_code(app.test_client(), world, booked)["code"]
    client = app.test_client()
    statuses = [
        client.post(
            "/api/v1/ratings", json={"code": code, "stars": 1, "device": f"bot-{i:05d}"}, environ_base=SCHOOL_NETWORK
        ).status_code  # fmt: skip
        for i in range(130)
    ]
    assert statuses.count(429) == 10 and 429 not in statuses[:120]


def test_ratings_per_code_are_capped_by_a_district_setting(client, world, booked, clock):  # noqa: F811
    code = held_code(client, world, booked)["code"]
    assert client.get("/api/v1/district", headers=world.headers("admin")).get_json()["ratings_per_code"] == 60
    client.patch("/api/v1/district", json={"ratings_per_code": 3}, headers=world.headers("admin"))
    statuses = [
        client.post(
            "/api/v1/ratings",
            json={"code": code, "stars": 5, "device": f"device-{i:04d}"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
        ).status_code  # fmt: skip
        for i in range(5)
    ]
    assert statuses == [201, 201, 201, 422, 422]
    capped = client.post("/api/v1/ratings", json={"code": code, "stars": 5, "device": "device-9999"})
    assert "code" in capped.get_json()["errors"]["json"]


# 12. Anonymous idempotency keys are scoped to the device ---------------------------------------------------


def test_anonymous_idempotency_keys_do_not_meet(app, world, booked, clock):  # noqa: F811
    code = held_code(app.test_client(), world, booked)["code"]
    one, two = app.test_client(), app.test_client()
    open_page(one, code)
    open_page(two, code)
    key = {"Idempotency-Key": "retry-1"}
    first = one.post("/api/v1/ratings", json={"code": code, "stars": 5, "device": "rating-page"}, headers=key)
    second = two.post("/api/v1/ratings", json={"code": code, "stars": 3, "device": "rating-page"}, headers=key)
    assert (first.status_code, second.status_code) == (201, 201)
    replay = one.post("/api/v1/ratings", json={"code": code, "stars": 5, "device": "rating-page"}, headers=key)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    # Without a token, the body's device scopes the key.
    bare = app.test_client()
    a = bare.post(
        "/api/v1/ratings", json={"code": code, "stars": 2, "device": "phone-aaaa"}, headers={"Idempotency-Key": "k"}
    )
    b = bare.post(
        "/api/v1/ratings", json={"code": code, "stars": 2, "device": "phone-bbbb"}, headers={"Idempotency-Key": "k"}
    )
    assert (a.status_code, b.status_code) == (201, 201)
    assert ratings_count() == 4


# The student's page ----------------------------------------------------------------------------------------


def test_the_rating_code_url_opens_the_student_page(app, client, world, booked, clock):  # noqa: F811
    data = held_code(client, world, booked)
    assert data["url"] == f"http://localhost/nilai/{data['code']}"
    app.config["PUBLIC_URL"] = "https://guru.bungokab.go.id"
    again = client.get(f"/api/v1/sessions/{booked.id}/rating-code", headers=world.headers("user_t1")).get_json()
    assert again["url"] == f"https://guru.bungokab.go.id/nilai/{data['code']}"
    with client.get(data["qr"], headers=world.headers("user_t1")) as qr:
        assert qr.status_code == 200 and b"<svg" in qr.get_data()


def test_the_page_rates_once_and_refuses_a_second_time_plainly(app, world, booked, clock):  # noqa: F811
    code = held_code(app.test_client(), world, booked)["code"]
    phone = app.test_client()
    page, csrf = open_page(phone, code)
    text = page.get_data(as_text=True)
    assert '<html lang="id">' in text and "Nilai pelajaran ini" in text and "Tepat waktu" in text
    sent = phone.post(f"/nilai/{code}", data={"stars": "4", "tags": ["jelas", "sabar", "bogus"], "csrf_token": csrf})
    assert sent.status_code == 201 and "Terima kasih" in sent.get_data(as_text=True)
    [rating] = db.session.scalars(db.select(Rating)).all()
    assert (rating.stars, rating.tags) == (4, ["jelas", "sabar"])
    again, _ = open_page(phone, code)
    assert "sudah menilai" in again.get_data(as_text=True) and 'name="stars"' not in again.get_data(as_text=True)
    twice = phone.post(f"/nilai/{code}", data={"stars": "1", "csrf_token": csrf})
    assert twice.status_code == 409 and "sudah menilai" in twice.get_data(as_text=True)
    assert ratings_count() == 1


def test_the_page_without_stars_asks_for_them(app, world, booked, clock):  # noqa: F811
    code = held_code(app.test_client(), world, booked)["code"]
    phone = app.test_client()
    _, csrf = open_page(phone, code)
    response = phone.post(f"/nilai/{code}", data={"csrf_token": csrf})
    assert response.status_code == 422 and "bintang" in response.get_data(as_text=True)


def test_unknown_and_closed_codes_and_the_code_form(app, client, world, booked, clock):  # noqa: F811
    assert client.get("/nilai/ZZZZZZ").status_code == 404
    form = client.get("/nilai")
    assert form.status_code == 200 and 'name="code"' in form.get_data(as_text=True)
    code = held_code(client, world, booked)["code"]
    assert client.get(f"/nilai?code=%20{code.lower()}%20").location == f"/nilai/{code}"
    from datetime import timedelta

    clock.now = START + timedelta(days=3)
    closed = client.get(f"/nilai/{code}")
    assert closed.status_code == 410 and "ditutup" in closed.get_data(as_text=True)
