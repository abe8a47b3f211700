"""Schools, teachers, users and favourites: creating, reading, patching and bad input."""

import pytest

from dispatch.extensions import db
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher


def school_body(**overrides):
    data = {"npsn": "10599001", "name": "SD Negeri 1 Uji", "level": "SD", "lat": -1.4861, "lon": 102.1177}
    data.update(overrides)
    return data


def teacher_body(**overrides):
    data = {
        "name": "Nur Hidayat",
        "lat": -1.49,
        "lon": 102.10,
        "radius_km": 15,
        "subjects": ["MTK", "IPA"],
        "levels": ["SMP"],
        "max_periods": 24,
        "availability": [{"day": 0, "start": "07:00", "end": "12:30"}],
        "nuptk": "1234567890123456",
    }
    data.update(overrides)
    return data


def test_create_and_read_school(client, world):
    headers = world.headers("admin")
    response = client.post("/api/v1/schools", json=school_body(status="Negeri"), headers=headers)
    assert response.status_code == 201
    created = response.get_json()
    assert created["id"] == "10599001"
    # The nearest village tells the kecamatan when none is given.
    assert created["kecamatan_code"] == "15.08.03"
    assert client.get("/api/v1/schools/10599001", headers=headers).get_json() == created


def test_posting_a_known_npsn_updates_it(client, world):
    headers = world.headers("admin")
    client.post("/api/v1/schools", json=school_body(), headers=headers)
    response = client.post("/api/v1/schools", json=school_body(name="SD Negeri 1 Baru"), headers=headers)
    assert response.status_code == 201
    assert db.session.get(School, "10599001").name == "SD Negeri 1 Baru"


BAD_SCHOOLS = [
    ("npsn of 7", school_body(npsn="1059900"), "npsn"),
    ("npsn of 9", school_body(npsn="105990011"), "npsn"),
    ("npsn lower case", school_body(npsn="p1059900"), "npsn"),
    ("latitude off the globe", school_body(lat=91), "lat"),
    ("longitude off the globe", school_body(lon=-181), "lon"),
    ("latitude a word", school_body(lat="north"), "lat"),
    ("level unknown", school_body(level="TK"), "level"),
    ("status unknown", school_body(status="Private"), "status"),
    ("name missing", {k: v for k, v in school_body().items() if k != "name"}, "name"),
    ("kecamatan code malformed", school_body(kecamatan_code="1508"), "kecamatan_code"),
    ("kecamatan unknown", school_body(kecamatan_code="15.08.99"), "kecamatan_code"),
]


@pytest.mark.parametrize("name, data, field", BAD_SCHOOLS, ids=[b[0] for b in BAD_SCHOOLS])
def test_bad_school_is_rejected(client, world, name, data, field):
    response = client.post("/api/v1/schools", json=data, headers=world.headers("admin"))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]
    assert db.session.scalar(db.select(db.func.count(School.npsn))) == 2


def test_unknown_school_is_404(client, world):
    assert client.get("/api/v1/schools/99999999", headers=world.headers("admin")).status_code == 404


def test_create_teacher_and_patch_own_profile(client, world):
    response = client.post("/api/v1/teachers", json=teacher_body(), headers=world.headers("admin"))
    assert response.status_code == 201
    created = response.get_json()
    assert created["subjects"] == ["MTK", "IPA"] and created["status"] == "live"
    assert created["kecamatan_code"] == "15.08.03"
    patch = {"radius_km": 8, "availability": [{"day": 2, "start": "07:00", "end": "10:00"}], "status": "paused"}
    response = client.patch(f"/api/v1/teachers/{world.teacher_1.id}", json=patch, headers=world.headers("user_t1"))
    assert response.status_code == 200
    teacher = db.session.get(Teacher, world.teacher_1.id)
    assert (teacher.radius_km, teacher.status, teacher.availability) == (8, "paused", patch["availability"])
    assert teacher.name == "Siti Lubis"  # untouched


BAD_TEACHERS = [
    ("unknown subject", teacher_body(subjects=["MTK", "ASTRO"]), "subjects"),
    ("no subjects", teacher_body(subjects=[]), "subjects"),
    ("repeated subject", teacher_body(subjects=["MTK", "MTK"]), "subjects"),
    ("unknown level", teacher_body(levels=["TK"]), "levels"),
    ("radius zero", teacher_body(radius_km=0), "radius_km"),
    ("radius a word", teacher_body(radius_km="far"), "radius_km"),
    ("cap a float", teacher_body(max_periods=24.5), "max_periods"),
    ("cap too high", teacher_body(max_periods=100), "max_periods"),
    ("window ends before start", teacher_body(availability=[{"day": 0, "start": "12:00", "end": "07:00"}]),
     "availability"),
    ("window day 7", teacher_body(availability=[{"day": 7, "start": "07:00", "end": "12:00"}]), "availability"),
    ("window time malformed", teacher_body(availability=[{"day": 1, "start": "7am", "end": "12:00"}]), "availability"),
    ("nuptk short", teacher_body(nuptk="12345"), "nuptk"),
    ("latitude off the globe", teacher_body(lat=-100), "lat"),
    ("name missing", {k: v for k, v in teacher_body().items() if k != "name"}, "name"),
]  # fmt: skip


@pytest.mark.parametrize("name, data, field", BAD_TEACHERS, ids=[b[0] for b in BAD_TEACHERS])
def test_bad_teacher_is_rejected(client, world, name, data, field):
    response = client.post("/api/v1/teachers", json=data, headers=world.headers("admin"))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]
    assert db.session.scalar(db.select(db.func.count(Teacher.id))) == 2


def test_duplicate_nuptk_is_a_conflict(client, world):
    headers = world.headers("admin")
    assert client.post("/api/v1/teachers", json=teacher_body(), headers=headers).status_code == 201
    response = client.post("/api/v1/teachers", json=teacher_body(name="Other"), headers=headers)
    assert response.status_code == 409
    assert "nuptk" in response.get_json()["errors"]["json"]


def test_bad_patch_changes_nothing(client, world):
    response = client.patch(
        f"/api/v1/teachers/{world.teacher_1.id}",
        json={"radius_km": 5, "subjects": ["NOPE"]},
        headers=world.headers("admin"),
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Teacher, world.teacher_1.id).radius_km == 15


def test_unknown_teacher_is_404(client, world):
    assert client.get("/api/v1/teachers/9999", headers=world.headers("admin")).status_code == 404


def test_create_users_of_each_role(client, world):
    headers = world.headers("admin")
    for data in (
        {"username": "kadis", "password": "password-1", "role": "district_admin"},
        {"username": "op-baru", "password": "password-1", "role": "school_operator", "school_id": world.school_a.npsn},
        {"username": "guru-baru", "password": "password-1", "role": "teacher", "teacher_id": world.teacher_2.id},
    ):
        if data["role"] == "teacher":
            # teacher 2 already has an account: a second one is a conflict
            assert client.post("/api/v1/users", json=data, headers=headers).status_code == 409
            continue
        response = client.post("/api/v1/users", json=data, headers=headers)
        assert response.status_code == 201, response.get_json()
        login = client.post("/api/v1/auth/token", json={"username": data["username"], "password": "password-1"})
        assert login.get_json()["role"] == data["role"]


BAD_USERS = [
    ({"username": "x", "password": "password-1", "role": "district_admin"}, "username"),
    ({"username": "admin", "password": "password-1", "role": "district_admin"}, "username"),
    ({"username": "someone", "password": "short", "role": "district_admin"}, "password"),
    ({"username": "someone", "password": "password-1", "role": "king"}, "role"),
    ({"username": "someone", "password": "password-1", "role": "school_operator"}, "school_id"),
    (
        {"username": "someone", "password": "password-1", "role": "school_operator", "school_id": "99999999"},
        "school_id",
    ),
    ({"username": "someone", "password": "password-1", "role": "teacher"}, "teacher_id"),
    ({"username": "someone", "password": "password-1", "role": "teacher", "teacher_id": 999}, "teacher_id"),
    ({"username": "someone", "password": "password-1", "role": "district_admin", "teacher_id": 1}, "teacher_id"),
]


@pytest.mark.parametrize("data, field", BAD_USERS, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD_USERS)])
def test_bad_user_is_rejected(client, world, data, field):
    response = client.post("/api/v1/users", json=data, headers=world.headers("admin"))
    assert response.status_code in (409, 422)
    assert field in response.get_json()["errors"]["json"]


def test_favourites_and_blocked(client, world):
    headers = world.headers("op_a")
    url = f"/api/v1/schools/{world.school_a.npsn}"
    response = client.put(f"{url}/favourites", json={"teacher_ids": [world.teacher_1.id]}, headers=headers)
    assert response.get_json() == {"school_id": world.school_a.npsn, "teacher_ids": [world.teacher_1.id]}
    response = client.put(f"{url}/blocked", json={"teacher_ids": [world.teacher_2.id]}, headers=headers)
    assert response.get_json()["teacher_ids"] == [world.teacher_2.id]
    # one teacher cannot be both
    response = client.put(f"{url}/blocked", json={"teacher_ids": [world.teacher_1.id]}, headers=headers)
    assert response.status_code == 422 and "teacher_ids" in response.get_json()["errors"]["json"]
    response = client.put(f"{url}/favourites", json={"teacher_ids": [424242]}, headers=headers)
    assert response.status_code == 422
    assert client.get(f"{url}/favourites", headers=headers).get_json()["teacher_ids"] == [world.teacher_1.id]
    assert client.put(f"{url}/favourites", json={"teacher_ids": []}, headers=headers).get_json()["teacher_ids"] == []
