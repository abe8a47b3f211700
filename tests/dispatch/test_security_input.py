"""Issue 11, items 5-9 and 13: bad input is a 4xx naming the field, the same on SQLite and PostgreSQL;
instants carry their offset. Each test here failed on the code before the fix (commit 487c5a8)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from dispatch.district.service import district_today
from dispatch.extensions import db
from dispatch.orders.models import Order
from dispatch.schools.models import School
from tests.dispatch.test_imports import upload
from tests.factories import next_weekday

MONDAY = next_weekday(0)


def order_body(**changes):
    body = {"subject": "MTK", "level": "SMP", "class_name": "VII A", "reason": "vacancy",
            "sessions": [{"date": MONDAY.isoformat(), "start": "07:30", "end": "08:50"}]}  # fmt: skip
    body.update(changes)
    return body


def school_body(**changes):
    return {"npsn": "10599001", "name": "SD UJI", "level": "SD", "lat": -1.5, "lon": 102.1, **changes}


def deep(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def orders_count() -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count(Order.id)))


# 5. Deeply nested JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path, who", [("/api/v1/auth/token", None), ("/api/v1/orders", "op_a"),
                                       ("/api/v1/ratings", None), ("/api/v1/schools", "admin")])  # fmt: skip
def test_json_nested_1000_deep_is_a_4xx(client, world, path, who):
    before = orders_count()
    for body in (deep(1000), "[" * 1000 + "]" * 1000, deep(40)):
        response = client.post(path, data=body, headers={**world.headers(who), "Content-Type": "application/json"})
        assert 400 <= response.status_code < 500 and response.is_json, (path, response.status_code)
        assert "json" in response.get_json()["errors"]
    assert orders_count() == before


# 6 and 8. Unpaired surrogates and NUL characters --------------------------------------------------------


@pytest.mark.parametrize("raw", ["a\\ud800b", "a\\udfffb", "a\\u0000b"])
def test_unstorable_text_is_422_naming_the_field(client, world, raw):
    data = '{"npsn": "10599001", "name": "' + raw + '", "level": "SD", "lat": -1.5, "lon": 102.1}'
    response = client.post(
        "/api/v1/schools", data=data, headers={**world.headers("admin"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]["json"] == {"name": [response.get_json()["errors"]["json"]["name"][0]]}
    assert db.session.get(School, "10599001") is None


def test_nested_bad_text_names_the_path(client, world):
    body = '{"subject": "MTK", "level": "SMP", "class_name": "VII A", "reason": "vacancy", "sessions": [{"date": "x\\u0000", "start": "07:30", "end": "08:50"}]}'
    response = client.post(
        "/api/v1/orders", data=body, headers={**world.headers("op_a"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "date" in response.get_json()["errors"]["json"]["sessions"]["0"]


def test_nul_in_a_query_string_names_the_parameter(client, world):
    response = client.get("/api/v1/orders?status=open%00x", headers=world.headers("admin"))
    assert response.status_code == 422 and "status" in response.get_json()["errors"]["query"]


@pytest.mark.parametrize("page", ["9223372036854775808", "9223372036854775807", "1000001", "10000000000000000000000"])
def test_huge_page_numbers_are_422_naming_page(client, world, page):
    response = client.get(f"/api/v1/orders?page={page}", headers=world.headers("admin"))
    assert response.status_code == 422 and "page" in response.get_json()["errors"]["query"]


def test_huge_integers_in_json_are_4xx(client, world):
    data = '{"npsn": "10599001", "name": "x", "level": "SD", "lat": ' + "9" * 5000 + ', "lon": 102.1}'
    response = client.post(
        "/api/v1/schools", data=data, headers={**world.headers("admin"), "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500 and response.is_json


# 7 and 8. CSV cells: huge, NUL, formulas; good rows written -----------------------------------------------


def test_csv_with_a_huge_cell_and_a_nul_row_writes_its_good_rows(client, world):
    content = (
        "npsn,name,level,lat,lon\n"
        "10599401,SD BAIK SATU,SD,-1.5,102.1\n"
        f"10599402,{'A' * 140_000},SD,-1.5,102.1\n"
        "10599403,SD\x00NUL,SD,-1.5,102.1\n"
        "10599404,SD BAIK DUA,SD,-1.5,102.1\n"
    ).encode()
    response = upload(client, world, "schools", content)
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["created"] == 2
    assert {(e["row"], e["field"]) for e in result["errors"]} == {(3, "name"), (4, "name")}
    assert db.session.get(School, "10599401") and db.session.get(School, "10599404")
    assert db.session.get(School, "10599403") is None


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_import_refuses_names_that_a_spreadsheet_would_run(client, world, name):
    content = f'npsn,name,level,lat,lon\n10599501,"{name}",SD,-1.5,102.1\n10599502,SD BAIK,SD,-1.5,102.1\n'.encode()
    result = upload(client, world, "schools", content).get_json()
    assert result["created"] == 1 and [(e["row"], e["field"]) for e in result["errors"]] == [(2, "name")]


# 9. Loose types and far dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, who, body, field",
    [("/api/v1/orders", "op_a", order_body(urgent="yes"), "urgent"),
     ("/api/v1/orders", "op_a", order_body(urgent=1), "urgent"),
     ("/api/v1/schools", "admin", school_body(lat="-1.5"), "lat"),
     ("/api/v1/schools", "admin", school_body(lon=True), "lon"),
     ("/api/v1/teachers", "admin", {"name": "Guru", "lat": -1.5, "lon": 102.1, "radius_km": "10", "subjects": ["MTK"],
                                    "levels": ["SMP"], "max_periods": 24, "availability": []}, "radius_km")],
)  # fmt: skip
def test_loose_types_are_refused(client, world, path, who, body, field):
    response = client.post(path, json=body, headers=world.headers(who))
    assert response.status_code == 422 and field in response.get_json()["errors"]["json"], response.get_json()


def test_kecamatan_switch_takes_a_boolean_only(client, world):
    response = client.patch("/api/v1/kecamatan/15.08.03", json={"live": "false"}, headers=world.headers("admin"))
    assert response.status_code == 422 and "live" in response.get_json()["errors"]["json"]


def test_dates_beyond_the_districts_horizon_are_refused(client, world):
    before = orders_count()
    far = order_body(sessions=[{"date": "9999-12-31", "start": "07:30", "end": "08:50"}])
    response = client.post("/api/v1/orders", json=far, headers=world.headers("op_a"))
    assert response.status_code == 422 and "date" in response.get_json()["errors"]["json"]["sessions"]["0"]
    limit = district_today() + timedelta(days=400)
    weekly = order_body(sessions=None)
    del weekly["sessions"]
    weekly["weekly"] = {"weekdays": [0], "start": "07:30", "end": "08:50", "from": (limit - timedelta(days=30)).isoformat(),
                        "until": (limit + timedelta(days=1)).isoformat()}  # fmt: skip
    response = client.post("/api/v1/orders", json=weekly, headers=world.headers("op_a"))
    assert response.status_code == 422 and "until" in response.get_json()["errors"]["json"]["weekly"]
    run = client.post(
        "/api/v1/matching/runs", json={"from": "9999-12-01", "to": "9999-12-02"}, headers=world.headers("admin")
    )
    assert run.status_code == 422 and "to" in run.get_json()["errors"]["json"]
    assert orders_count() == before


def test_the_horizon_is_a_district_setting(client, world):
    assert client.get("/api/v1/district", headers=world.headers("admin")).get_json()["date_horizon_days"] == 400
    patched = client.patch("/api/v1/district", json={"date_horizon_days": 30}, headers=world.headers("admin"))
    assert patched.status_code == 200
    day = next_weekday(0, weeks_ahead=6)
    body = order_body(sessions=[{"date": day.isoformat(), "start": "07:30", "end": "08:50"}])
    response = client.post("/api/v1/orders", json=body, headers=world.headers("op_a"))
    assert response.status_code == 422 and "within 30 days" in str(response.get_json()["errors"])


# 13. Instants with their offset ---------------------------------------------------------------------------

OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def test_every_instant_carries_its_offset(client, world):
    from tests.dispatch.test_offers import urgent_order

    order = urgent_order(client, world)
    assert OFFSET.match(order["created_at"]) and order["created_at"].endswith("+07:00"), order["created_at"]
    listed = client.get("/api/v1/orders", headers=world.headers("admin")).get_json()
    assert all(OFFSET.match(o["created_at"]) for o in listed)
    [offer] = client.get("/api/v1/offers", headers=world.headers("user_t1")).get_json()
    assert OFFSET.match(offer["expires_at"]) and offer["expires_at"].endswith("+07:00"), offer["expires_at"]


def test_created_at_is_the_same_instant_as_the_database_wrote(client, world):
    from datetime import UTC, datetime

    from tests.dispatch.test_offers import urgent_order

    order = urgent_order(client, world)
    created = datetime.fromisoformat(order["created_at"])
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)


# Every 405 carries Allow --------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [("delete", "/api/v1/orders"), ("put", "/api/v1/auth/token"),
                                          ("patch", "/api/v1/ratings")])  # fmt: skip
def test_405_says_what_is_allowed(client, world, method, path):
    response = getattr(client, method)(path, headers=world.headers("admin"))
    assert response.status_code == 405 and response.is_json
    assert "POST" in response.headers["Allow"] or "GET" in response.headers["Allow"]


def test_the_openapi_document_declares_csv_pagination_and_offsets(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    csv = spec["paths"]["/api/v1/schools/{school_id}/lesson-records.csv"]["get"]["responses"]["200"]
    assert "text/csv" in csv["content"]
    orders = spec["paths"]["/api/v1/orders"]["get"]
    [page] = [p for p in orders["parameters"] if p["name"] == "page"]
    assert page["schema"]["maximum"] == 1_000_000
    header = spec["components"]["headers"]["PAGINATION"]
    assert header["schema"]["type"] == "string"
    assert spec["components"]["schemas"]["OrderOut"]["properties"]["created_at"]["format"] == "date-time"
