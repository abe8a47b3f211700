"""Role x endpoint x someone else's object: who may do what.

Each row names a request and the status every caller gets: anonymous, the
district admin, the operator of school A, and teacher 1. "Other" objects are
school B, its order and teacher 2.
"""

import pytest

from tests.factories import next_weekday

DAY = next_weekday(1).isoformat()


def order_body(w, school=None):
    body = {"subject": "MTK", "level": "SMP", "class_name": "VIII B", "reason": "vacancy",
            "sessions": [{"date": DAY, "start": "07:30", "end": "08:50"}]}  # fmt: skip
    if school:
        body["school_id"] = school
    return body


def teacher_body(w):
    return {"name": "Guru Baru", "lat": -1.49, "lon": 102.1, "radius_km": 10, "subjects": ["MTK"], "levels": ["SMP"],
            "max_periods": 24, "availability": [{"day": 0, "start": "07:00", "end": "12:00"}]}  # fmt: skip


# (method, path, body, {caller: expected status}); callers: None = anonymous, admin, op_a, user_t1
MATRIX = [
    ("get", "/api/v1/schools", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 403}),
    ("post", "/api/v1/schools", lambda w: {"npsn": "10599999", "name": "SD Baru", "level": "SD", "lat": -1.5, "lon": 102.1},
     {None: 401, "admin": 201, "op_a": 403, "user_t1": 403}),
    ("get", "/api/v1/schools/{w.school_a.npsn}", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 403}),
    ("get", "/api/v1/schools/{w.school_b.npsn}", None, {None: 401, "admin": 200, "op_a": 403, "user_t1": 403}),
    ("put", "/api/v1/schools/{w.school_a.npsn}/favourites", lambda w: {"teacher_ids": [w.teacher_1.id]},
     {None: 401, "admin": 200, "op_a": 200, "user_t1": 403}),
    ("put", "/api/v1/schools/{w.school_b.npsn}/favourites", lambda w: {"teacher_ids": [w.teacher_1.id]},
     {None: 401, "admin": 200, "op_a": 403, "user_t1": 403}),
    ("put", "/api/v1/schools/{w.school_b.npsn}/blocked", lambda w: {"teacher_ids": [w.teacher_2.id]},
     {None: 401, "admin": 200, "op_a": 403, "user_t1": 403}),
    ("get", "/api/v1/schools/{w.school_b.npsn}/blocked", None, {None: 401, "admin": 200, "op_a": 403, "user_t1": 403}),
    ("get", "/api/v1/teachers", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 403}),
    ("post", "/api/v1/teachers", teacher_body, {None: 401, "admin": 201, "op_a": 403, "user_t1": 403}),
    ("get", "/api/v1/teachers/{w.teacher_1.id}", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 200}),
    ("get", "/api/v1/teachers/{w.teacher_2.id}", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 403}),
    ("patch", "/api/v1/teachers/{w.teacher_1.id}", lambda w: {"radius_km": 12},
     {None: 401, "admin": 200, "op_a": 403, "user_t1": 200}),
    ("patch", "/api/v1/teachers/{w.teacher_2.id}", lambda w: {"radius_km": 12},
     {None: 401, "admin": 200, "op_a": 403, "user_t1": 403}),
    ("post", "/api/v1/users", lambda w: {"username": "someone", "password": "long-enough", "role": "district_admin"},
     {None: 401, "admin": 201, "op_a": 403, "user_t1": 403}),
    ("post", "/api/v1/orders", lambda w: order_body(w), {None: 401, "admin": 422, "op_a": 201, "user_t1": 403}),
    ("post", "/api/v1/orders", lambda w: order_body(w, w.school_b.npsn),
     {None: 401, "admin": 201, "op_a": 403, "user_t1": 403}),
    ("get", "/api/v1/orders", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 403}),
    ("get", "/api/v1/orders/{w.order_a.id}", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 404}),
    ("get", "/api/v1/orders/{w.order_b.id}", None, {None: 401, "admin": 200, "op_a": 404, "user_t1": 404}),
    ("post", "/api/v1/orders/{w.order_a.id}/cancel", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 403}),
    ("post", "/api/v1/orders/{w.order_b.id}/cancel", None, {None: 401, "admin": 200, "op_a": 404, "user_t1": 403}),
    ("post", "/api/v1/import/schools", None, {None: 401, "admin": 422, "op_a": 403, "user_t1": 403}),
    ("post", "/api/v1/import/teachers", None, {None: 401, "admin": 422, "op_a": 403, "user_t1": 403}),
    ("get", "/api/v1/district", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 200}),
    ("patch", "/api/v1/district", lambda w: {"max_radius_km": 30},
     {None: 401, "admin": 200, "op_a": 403, "user_t1": 403}),
    ("get", "/api/v1/kecamatan", None, {None: 401, "admin": 200, "op_a": 200, "user_t1": 200}),
    ("patch", "/api/v1/kecamatan/15.08.03", lambda w: {"live": False},
     {None: 401, "admin": 200, "op_a": 403, "user_t1": 403}),
]  # fmt: skip

CASES = [
    pytest.param(method, path, body, caller, status, id=f"{method} {path} as {caller or 'anonymous'}")
    for method, path, body, expected in MATRIX
    for caller, status in expected.items()
]


@pytest.mark.parametrize("method, path, body, caller, status", CASES)
def test_role_matrix(client, world, method, path, body, caller, status):
    url = path.format(w=world)
    kwargs = {"headers": world.headers(caller)}
    if body is not None:
        kwargs["json"] = body(world)
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == status, response.get_json()
    assert response.is_json


def test_operator_lists_only_own_school_and_orders(client, world):
    schools = client.get("/api/v1/schools", headers=world.headers("op_a")).get_json()
    assert [s["id"] for s in schools] == [world.school_a.npsn]
    orders = client.get("/api/v1/orders", headers=world.headers("op_a")).get_json()
    assert {o["school_id"] for o in orders} == {world.school_a.npsn}
    everything = client.get("/api/v1/orders", headers=world.headers("admin")).get_json()
    assert {o["school_id"] for o in everything} == {world.school_a.npsn, world.school_b.npsn}


def test_operator_sees_no_home_point_of_teachers(client, world):
    seen = client.get(f"/api/v1/teachers/{world.teacher_1.id}", headers=world.headers("op_a")).get_json()
    assert "lat" not in seen and "nuptk" not in seen
    own = client.get(f"/api/v1/teachers/{world.teacher_1.id}", headers=world.headers("user_t1")).get_json()
    assert own["lat"] == pytest.approx(-1.49)


def test_refused_write_changes_nothing(client, world):
    from dispatch.extensions import db
    from dispatch.orders.models import Order

    before = db.session.scalar(db.select(db.func.count(Order.id)))
    response = client.post("/api/v1/orders", json=order_body(world, world.school_b.npsn), headers=world.headers("op_a"))
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count(Order.id))) == before
    client.post(f"/api/v1/orders/{world.order_b.id}/cancel", headers=world.headers("op_a"))
    db.session.expire_all()
    assert db.session.get(Order, world.order_b.id).status == "open"
