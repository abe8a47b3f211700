"""Issue 11, items 1-4: secrets, sessions, login limits, tokens.

Each test here failed on the code before the fix (commit 487c5a8)."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import subprocess
import sys

import pytest
from flask.sessions import SecureCookieSessionInterface

from config import ProductionConfig
from dispatch import create_app
from dispatch.accounts.auth import issue_token
from dispatch.extensions import db, socketio
from tests import factories as f
from tests.conftest import make_config
from tests.live_server import ROOT

PASSWORD = "secret-password"  # tests/factories.user


def forged_cookie(app, user_id: int, key: str) -> str:
    """A session cookie as an outsider would sign it with a key they know."""
    probe = app.__class__(__name__)
    probe.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(probe)
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True})


# 1. The built-in SECRET_KEY -------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "dev-only-secret-change-me", "short"])
def test_production_refuses_to_start_without_a_real_secret(key):
    config = type("Prod", (ProductionConfig,), {"SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(SystemExit) as stopped:
        create_app(config)
    message = str(stopped.value.code)
    assert "SECRET_KEY" in message and "\n" not in message


def test_production_starts_with_a_real_secret():
    config = type("Prod", (ProductionConfig,), {"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert create_app(config).config["SECRET_KEY"] == "x" * 40


def test_production_command_line_says_why_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(GURU_CONFIG="production", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "current"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[-1]] and "SECRET_KEY" in lines[-1], result.stderr


def test_development_keeps_one_random_key_per_instance_folder(tmp_path):
    from config import DevelopmentConfig

    config = type("Dev", (DevelopmentConfig,), {"SECRET_KEY": None, "INSTANCE_DIR": tmp_path,
                                                "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # fmt: skip
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    assert first == second and len(first) >= 32 and first != "dev-only-secret-change-me"
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    other = type("Dev", (DevelopmentConfig,), {"SECRET_KEY": None, "INSTANCE_DIR": tmp_path / "other",
                                               "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # fmt: skip
    assert create_app(other).config["SECRET_KEY"] != first


def test_a_cookie_signed_with_the_old_default_key_opens_nothing(app, client, world):
    cookie = forged_cookie(app, world.admin.id, "dev-only-secret-change-me")
    client.set_cookie("session", cookie)
    response = client.post(
        "/api/v1/users", json={"username": "intruder", "password": "x" * 12, "role": "district_admin"}
    )
    assert response.status_code == 401
    # Even with the real key, a cookie holding only a user id (no session stamp) is no session.
    client.set_cookie("session", forged_cookie(app, world.admin.id, app.config["SECRET_KEY"]))
    assert client.get("/api/v1/orders").status_code == 401


def test_demo_passwords_do_not_work_outside_development(app, client):
    f.user("district_admin", username="admin", password="bungo-admin")
    db.session.commit()
    app.config["ALLOW_DEMO_PASSWORDS"] = False
    response = client.post("/api/v1/auth/token", json={"username": "admin", "password": "bungo-admin"})
    assert response.status_code == 401
    app.config["ALLOW_DEMO_PASSWORDS"] = True
    assert client.post("/api/v1/auth/token", json={"username": "admin", "password": "bungo-admin"}).status_code == 200


# 2. A password change ends cookie sessions, tokens and sockets ----------------------------------------


def page_login(client, username):
    response = client.post("/masuk", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_password_change_ends_every_other_session_token_and_socket(app, world):
    page, other_page = app.test_client(), app.test_client()
    page_login(page, "guru-1")
    page_login(other_page, "guru-1")
    token_headers = world.headers("user_t1")
    socket = socketio.test_client(app, auth={"token": issue_token(world.user_t1)})
    cookie_socket = socketio.test_client(app, flask_test_client=other_page)
    assert socket.is_connected() and cookie_socket.is_connected()
    assert other_page.get("/api/v1/offers").status_code == 200

    response = page.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "a-new-password"})
    assert response.status_code == 204

    assert other_page.get("/api/v1/offers").status_code == 401  # the other cookie session
    assert other_page.get("/guru").location == "/masuk"
    assert app.test_client().get("/api/v1/offers", headers=token_headers).status_code == 401  # the old token
    assert not socket.is_connected() and not cookie_socket.is_connected()  # open sockets closed
    assert not socketio.test_client(app, flask_test_client=other_page).is_connected()  # no new ones either
    assert page.get("/api/v1/offers").status_code == 200  # the page that changed it stays logged in
    new = app.test_client().post("/api/v1/auth/token", json={"username": "guru-1", "password": "a-new-password"})
    assert new.status_code == 200


def test_a_late_close_of_an_ended_login_spares_the_sockets_of_the_next_one(app, world):
    """A close that could not be published while Redis was down is published again when it returns
    (dispatch/live/resync.py): by then the user may have logged in again. It names the stamp it ended."""
    from dispatch.live import user_room
    from dispatch.live.manager import END_SESSIONS_EVENT

    user = world.user_t1
    ended = user.session_stamp
    old_socket = socketio.test_client(app, auth={"token": issue_token(user)})
    response = app.test_client().post("/api/v1/me/password", headers=world.headers("user_t1"),
                                      json={"current_password": PASSWORD, "new_password": "a-new-password"})  # fmt: skip
    assert response.status_code == 204 and not old_socket.is_connected()
    db.session.refresh(user)
    new_socket = socketio.test_client(app, auth={"token": issue_token(user)})
    assert new_socket.is_connected()

    socketio.server.manager.emit(END_SESSIONS_EVENT, {"stamp": ended}, namespace="/", room=user_room(user.id))
    assert new_socket.is_connected()  # the late close of the ended login
    socketio.server.manager.emit(END_SESSIONS_EVENT, {"stamp": user.session_stamp}, namespace="/",
                                 room=user_room(user.id))  # fmt: skip
    assert not new_socket.is_connected()  # a close of this login's stamp does close it


def test_wrong_current_password_is_422_and_changes_nothing(client, world):
    headers = world.headers("user_t1")
    response = client.post(
        "/api/v1/me/password", json={"current_password": "nope", "new_password": "a-new-password"}, headers=headers
    )
    assert response.status_code == 422 and "current_password" in response.get_json()["errors"]["json"]
    assert client.get("/api/v1/offers", headers=headers).status_code == 200
    short = client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "x"}, headers=headers
    )
    assert short.status_code == 422 and "new_password" in short.get_json()["errors"]["json"]


@pytest.mark.parametrize("change", [{"password": "reset-by-admin"}, {"active": False}])
def test_admin_reset_or_deactivation_ends_the_users_sessions(app, world, change):
    page = app.test_client()
    page_login(page, "op-a")
    socket = socketio.test_client(app, auth={"token": issue_token(world.op_a)})
    token = world.headers("op_a")
    admin = app.test_client()
    response = admin.patch(f"/api/v1/users/{world.op_a.id}", json=change, headers=world.headers("admin"))
    assert response.status_code == 200 and response.get_json()["id"] == world.op_a.id
    assert page.get("/api/v1/orders").status_code == 401
    assert admin.get("/api/v1/orders", headers=token).status_code == 401
    assert not socket.is_connected()
    login = admin.post("/api/v1/auth/token", json={"username": "op-a", "password": change.get("password", PASSWORD)})
    assert login.status_code == (200 if "password" in change else 401)


def test_only_an_admin_patches_users_and_bad_patches_name_the_field(client, world):
    url = f"/api/v1/users/{world.op_a.id}"
    assert client.patch(url, json={"active": False}, headers=world.headers("op_b")).status_code == 403
    assert client.patch("/api/v1/users/999", json={"active": False}, headers=world.headers("admin")).status_code == 404
    for body, field in (({"active": "no"}, "active"), ({"password": "x"}, "password"), ({}, "password")):
        response = client.patch(url, json=body, headers=world.headers("admin"))
        assert response.status_code == 422 and field in response.get_json()["errors"]["json"], body


# 3. Login limits, timing, logging -----------------------------------------------------------------------


def test_failed_logins_are_limited_per_username_with_retry_after(app, client, world):
    app.config["LOGIN_LIMIT_PER_USERNAME"] = "5 per 15 minutes"
    statuses = [
        client.post("/api/v1/auth/token", json={"username": "admin", "password": f"wrong-{i}"}).status_code
        for i in range(7)
    ]
    assert statuses == [401] * 5 + [429] * 2
    refused = client.post("/api/v1/auth/token", json={"username": "ADMIN ", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # The page login counts with the API: the same username is refused there too.
    page = client.post("/masuk", data={"username": "admin", "password": "wrong"})
    assert page.status_code == 429 and "Retry-After" in page.headers
    # Another user is not affected.
    assert client.post("/api/v1/auth/token", json={"username": "op-a", "password": PASSWORD}).status_code == 200


def test_failed_logins_are_limited_per_address(app, client, world):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "6 per 15 minutes"
    for i in range(6):
        assert client.post("/masuk", data={"username": f"nobody-{i}", "password": "x"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "op-b", "password": "x"}).status_code == 429
    elsewhere = client.post(
        "/api/v1/auth/token", json={"username": "op-b", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert elsewhere.status_code == 200


def test_successful_logins_do_not_count(app, client, world):
    app.config["LOGIN_LIMIT_PER_USERNAME"] = "3 per 15 minutes"
    for _ in range(6):
        assert client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}).status_code == 200


def test_unknown_usernames_cost_a_password_hash_check_like_known_ones(client, world, monkeypatch):
    import dispatch.accounts.models as models
    import dispatch.accounts.service as service

    checks = []
    real = service.check_password_hash

    def counting(hashed, password):
        checks.append(hashed)
        return real(hashed, password)

    monkeypatch.setattr(service, "check_password_hash", counting)
    monkeypatch.setattr(models, "check_password_hash", counting)
    client.post("/api/v1/auth/token", json={"username": "admin", "password": "wrong"})
    known = len(checks)
    client.post("/api/v1/auth/token", json={"username": "no-such-user", "password": "wrong"})
    assert known == 1 and len(checks) == 2
    # The dummy hash is as costly as a real one: the same method and parameters.
    assert checks[1].split("$")[0] == checks[0].split("$")[0]


def test_refused_logins_are_logged(client, world, caplog):
    logging.getLogger("dispatch.accounts.limits").disabled = False  # alembic's logging set-up disables it
    with caplog.at_level(logging.WARNING, logger="dispatch.accounts.limits"):
        client.post("/api/v1/auth/token", json={"username": "admin", "password": "wrong"})
        client.post("/masuk", data={"username": "ghost", "password": "wrong"})
    messages = [r.getMessage() for r in caplog.records]
    assert any("refused login" in m and "'admin'" in m for m in messages)
    assert any("refused login" in m and "'ghost'" in m for m in messages)


# 4. Tokens carry a session stamp, nothing of the password --------------------------------------------------


def test_tokens_carry_no_part_of_the_password_hash(client, world):
    token = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}).get_json()["token"]
    payload = token.split(".")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(data) == {"uid", "st"}
    for size in range(6, 12):
        assert world.admin.password_hash[-size:] not in token


def test_a_token_without_the_current_stamp_is_refused(app, client, world):
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="guru-online-api-token")
    old_style = serializer.dumps({"uid": world.admin.id, "pw": world.admin.password_hash[-10:]})
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {old_style}"}).status_code == 401
    stale = serializer.dumps({"uid": world.admin.id, "st": "0"})
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {stale}"}).status_code == 401


def test_production_cookies_are_secure_and_development_ones_work_over_http(world):
    prod = create_app(make_config("sqlite://", TESTING=False, SECRET_KEY="k" * 40, SESSION_COOKIE_SECURE=True,
                                  HTTPS_ONLY=True))  # fmt: skip
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    response = prod.test_client().get("/masuk", base_url="https://localhost")
    assert "Strict-Transport-Security" in response.headers
    assert "Secure" in response.headers.get("Set-Cookie", "")
    assert prod.test_client().get("/masuk").status_code in (301, 302)  # plain http goes to https


def test_gunicorn_in_production_without_a_secret_exits_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(GURU_CONFIG="production", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0  # the master stops: no worker restarting forever
    refusals = [line for line in result.stderr.splitlines() if "SECRET_KEY" in line]
    assert len(refusals) == 1, result.stderr
