"""Logging in, tokens, and errors that are always JSON and never a 500 for client input."""

import pytest

from config import TestingConfig
from dispatch.accounts.auth import issue_token
from dispatch.extensions import db


def test_token_for_good_credentials(client, world):
    response = client.post("/api/v1/auth/token", json={"username": "admin", "password": "secret-password"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["role"] == "district_admin" and data["user_id"] == world.admin.id
    me = client.get("/api/v1/district", headers={"Authorization": f"Bearer {data['token']}"})
    assert me.status_code == 200


@pytest.mark.parametrize("username, password", [("admin", "wrong"), ("nobody", "secret-password")])
def test_wrong_credentials_are_401(client, world, username, password):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 401 and response.is_json


def test_missing_credentials_are_422_naming_the_field(client, world):
    response = client.post("/api/v1/auth/token", json={"username": "admin"})
    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]["json"]


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ", "Basic YWRtaW46eA==", "Bearer a.b.c"])
def test_bad_tokens_are_401(client, world, header):
    assert client.get("/api/v1/orders", headers={"Authorization": header}).status_code == 401


def test_new_password_ends_old_tokens(client, world):
    headers = world.headers("admin")
    assert client.get("/api/v1/orders", headers=headers).status_code == 200
    world.admin.set_password("another-password")
    db.session.commit()
    assert client.get("/api/v1/orders", headers=headers).status_code == 401


def test_tokens_expire(app, client, world):
    token = issue_token(world.admin)
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    app.config["TOKEN_MAX_AGE"] = -1  # every token is now older than the limit
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_disabled_user_cannot_log_in(client, world):
    world.op_b.active = False
    db.session.commit()
    response = client.post("/api/v1/auth/token", json={"username": "op-b", "password": "secret-password"})
    assert response.status_code == 401
    assert client.get("/api/v1/orders", headers=world.headers("op_b")).status_code == 401


def test_passwords_are_hashed(world):
    assert "secret-password" not in world.admin.password_hash


def test_production_hashing_is_strong():
    assert TestingConfig.__mro__[1].PASSWORD_HASH_METHOD == "scrypt"


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/nothing-here"),
        ("delete", "/api/v1/orders"),
        ("put", "/api/v1/auth/token"),
        ("get", "/api/v1/orders/abc"),
    ],
)
def test_api_errors_are_json(client, world, method, path):
    response = getattr(client, method)(path, headers=world.headers("admin"))
    assert response.status_code in (404, 405)
    assert response.is_json and response.get_json()["code"] == response.status_code


@pytest.mark.parametrize(
    "data, content_type",
    [("not json", "application/json"), ("[1, 2]", "application/json"), ('{"subject": ', "application/json"),
     ("subject=MTK", "application/x-www-form-urlencoded"), ("\xff\xfe", "application/json"), ("null", "application/json")],
)  # fmt: skip
def test_garbage_bodies_are_4xx(client, world, data, content_type):
    headers = {**world.headers("op_a"), "Content-Type": content_type}
    response = client.post("/api/v1/orders", data=data, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.is_json


def test_huge_numbers_and_nan_are_4xx(client, world):
    for value in ("NaN", "Infinity", "1e400"):
        response = client.post(
            "/api/v1/schools",
            data='{"npsn": "10599002", "name": "x", "level": "SD", "lat": ' + value + ', "lon": 102.1}',
            headers={**world.headers("admin"), "Content-Type": "application/json"},
        )
        assert response.status_code in (400, 422), value


def test_openapi_document_and_docs_served_without_cdn(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.get_json()["paths"]
    for path in ("/api/v1/orders", "/api/v1/orders/{order_id}/cancel", "/api/v1/auth/token", "/api/v1/import/schools",
                 "/api/v1/schools/{school_id}/favourites", "/api/v1/teachers/{teacher_id}", "/api/v1/users"):  # fmt: skip
        assert path in paths, path
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert "swagger-ui-bundle.js" in docs and "//cdn" not in docs and "https://" not in docs
    with client.get("/api/v1/docs/static/swagger-ui-bundle.js") as script:
        assert script.status_code == 200 and b"SwaggerUIBundle" in script.get_data()


@pytest.mark.parametrize(
    "method, path, status",
    [("get", "/api/v1/teachers/99999999999999999999", 404), ("get", "/api/v1/orders/2147483648", 404),
     ("post", "/api/v1/orders/99999999999999999999/cancel", 404), ("get", "/api/v1/orders?page=10000000000000000000000", 422)],
)  # fmt: skip
def test_numbers_too_big_for_the_database_are_4xx(client, world, method, path, status):
    response = getattr(client, method)(path, headers=world.headers("admin"))
    assert response.status_code == status and response.is_json


def test_huge_teacher_ids_in_a_body_are_422(client, world):
    url = f"/api/v1/schools/{world.school_a.npsn}/favourites"
    response = client.put(url, json={"teacher_ids": [10**30]}, headers=world.headers("admin"))
    assert response.status_code == 422 and "teacher_ids" in response.get_json()["errors"]["json"]
