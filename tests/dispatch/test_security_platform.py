"""Issue 11, items 14-16 and item 2 across processes: health per dependency, Redis back-off, the demo
seeded once, headers and CSRF, a password change closing sockets in another server process.
Each test here failed on the code before the fix (commit 487c5a8)."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest
import requests

from dispatch.extensions import db
from dispatch.live.manager import RedisManager
from dispatch.orders.models import Order
from dispatch.schools.models import School
from tests.conftest import clear_database
from tests.factories import next_weekday
from tests.live_server import Listener

PAGES = Path(__file__).resolve().parents[2] / "dispatch" / "pages"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture(autouse=True)
def _loggers_enabled():
    """Alembic's logging set-up (the migration tests) disables loggers that existed before it."""
    for name in ("dispatch.live.manager", "dispatch.health"):
        logging.getLogger(name).disabled = False


def health_of(database: str, **settings):
    from dispatch import create_app
    from tests.conftest import make_config

    app = create_app(make_config(database, **settings))
    with app.app_context():
        response = app.test_client().get("/healthz")
        db.session.remove()
        db.engine.dispose()
    return response


# 14. Health per dependency; Redis back-off --------------------------------------------------------------


def test_healthz_reports_each_dependency(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_healthz_is_503_while_redis_is_unreachable(database):
    response = health_of(database, REDIS_URL=DEAD_REDIS)
    assert response.status_code == 503
    assert response.get_json() == {"status": "down", "checks": {"database": "ok", "redis": "down"}}


def test_healthz_with_a_live_redis_says_ok(database, redis_url):
    response = health_of(database, REDIS_URL=redis_url)
    assert response.status_code == 200 and response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_redis_publishing_backs_off_and_logs_once_per_interval(caplog):
    now = {"t": 1000.0}
    manager = RedisManager(DEAD_REDIS, channel="guru-test-backoff", clock=lambda: now["t"])
    with caplog.at_level(logging.WARNING, logger="dispatch.live.manager"):
        for _ in range(50):  # a busy second of events while Redis is away
            manager._publish({"method": "emit", "event": "x"})
        assert len(caplog.records) == 1 and "next try in 1 s" in caplog.records[0].getMessage()
        now["t"] += 1.5
        for _ in range(50):
            manager._publish({"method": "emit", "event": "x"})
        assert len(caplog.records) == 2 and "next try in 2 s" in caplog.records[1].getMessage()
        assert "49 dropped" in caplog.records[1].getMessage()
        for _ in range(10):
            now["t"] += 120
            manager._publish({"method": "emit", "event": "x"})
    waits = [int(re.search(r"next try in (\d+) s", r.getMessage()).group(1)) for r in caplog.records]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60]


def test_redis_publishing_recovers(redis_url, caplog):
    now = {"t": 0.0}
    manager = RedisManager(DEAD_REDIS, channel="guru-test-recover", clock=lambda: now["t"])
    manager._publish({"method": "emit"})
    manager.redis_url = redis_url  # Redis is back
    now["t"] += 5
    with caplog.at_level(logging.WARNING, logger="dispatch.live.manager"):
        assert manager._publish({"method": "emit"}) is not None
    assert "reachable again" in caplog.text


# 15. The demo district is seeded once, never on top of real data -----------------------------------------


def test_demo_seeds_once_and_not_again_after_real_schools_are_added(app, runner, client):
    first = runner.invoke(args=["seed-demo", "--teachers", "30", "--periods", "300"])
    assert first.exit_code == 0, first.output
    orders = db.session.scalar(db.select(db.func.count(Order.id)))
    token = client.post("/api/v1/auth/token", json={"username": "admin", "password": "bungo-admin"}).get_json()["token"]
    added = client.post("/api/v1/schools", json={"npsn": "10599901", "name": "SD BARU", "level": "SD", "lat": -1.5,
                                                  "lon": 102.1}, headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert added.status_code == 201
    second = runner.invoke(args=["seed-demo", "--teachers", "30", "--periods", "300"])
    assert second.exit_code == 0 and "nothing written" in second.output
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Order.id))) == orders


def test_demo_is_never_laid_on_real_data(app, runner, world):
    schools = db.session.scalar(db.select(db.func.count(School.npsn)))
    result = runner.invoke(args=["seed-demo", "--teachers", "30", "--periods", "300"])
    assert result.exit_code == 0 and "real data" in result.output
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(School.npsn))) == schools


def test_demo_outside_development_prints_random_passwords(app, runner):
    app.config["ALLOW_DEMO_PASSWORDS"] = False
    result = runner.invoke(args=["seed-demo", "--teachers", "30", "--periods", "300"])
    assert result.exit_code == 0 and "bungo-admin" not in result.output
    [line] = [line for line in result.output.splitlines() if "/ district_admin" in line]
    password = line.split(" / ")[1]
    login = app.test_client().post("/api/v1/auth/token", json={"username": "admin", "password": password})
    assert login.status_code == 200


# 16. Headers and CSRF ------------------------------------------------------------------------------------


def test_security_headers_on_pages_and_api(client):
    for path in ("/masuk", "/api/v1/openapi.json", "/nilai"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp and headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # development and tests: plain http works


def test_no_page_template_has_inline_script_or_style():
    for template in (PAGES / "templates" / "pages").glob("*.html"):
        text = template.read_text()
        scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text)
        assert scripts == [], template.name
        assert "<style" not in text and " style=" not in text, template.name


def test_the_api_docs_run_under_the_csp(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "swagger-ui-bundle.js" in page and "<script>" not in page
    with client.get("/static/pages/swagger-start.js") as script:
        assert script.status_code == 200 and b"SwaggerUIBundle" in script.get_data()


@pytest.fixture
def csrf_app(database):
    from dispatch import create_app
    from dispatch.district.service import ensure_district
    from tests.conftest import fresh_login_per_request, make_config
    from tests.dispatch_world import build_world

    app = create_app(make_config(database, WTF_CSRF_ENABLED=True))
    fresh_login_per_request(app)
    with app.app_context():
        if database.startswith("sqlite"):
            db.create_all()
        ensure_district()
        db.session.commit()
        world = build_world()
        yield app, world
    clear_database(app, database)


def csrf_token_of(page_html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page_html).group(1)


def test_cookie_writes_need_the_csrf_token_and_bearer_calls_do_not(csrf_app):
    app, world = csrf_app
    client = app.test_client()
    login_page = client.get("/masuk").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    # A page's form without the token is refused: the page comes back (a fresh token), nobody is logged in.
    refused = client.post("/masuk", data={"username": "op-a", "password": "secret-password"})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/masuk")
    assert client.get("/sekolah").status_code == 302  # still logged out: sent to the login page
    assert client.post("/masuk", data={"username": "op-a", "password": "secret-password",
                                       "csrf_token": form_token}).status_code == 302  # fmt: skip
    body = {"subject": "MTK", "level": "SMP", "class_name": "VII B", "reason": "vacancy",
            "sessions": [{"date": next_weekday(0).isoformat(), "start": "07:30", "end": "08:50"}]}  # fmt: skip
    no_token = client.post("/api/v1/orders", json=body)
    assert no_token.status_code == 400 and "X-CSRFToken" in no_token.get_json()["errors"]["headers"]
    token = csrf_token_of(client.get("/sekolah").get_data(as_text=True))
    with_token = client.post("/api/v1/orders", json=body, headers={"X-CSRFToken": token})
    assert with_token.status_code == 201, with_token.get_json()
    # A bearer token carries no cookie a third site could use: no CSRF token needed.
    bearer = app.test_client().post(
        "/api/v1/orders", json={**body, "class_name": "VII C"}, headers=world.headers("op_a")
    )
    assert bearer.status_code == 201, bearer.get_json()
    assert client.post("/keluar").status_code == 302  # logging out is a write too: refused, the page again
    assert client.get("/sekolah").status_code == 200  # still logged in


# 2, across processes: a password change closes the user's sockets in another server ---------------------


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_password_change_closes_sockets_in_another_process(servers, served_world, redis_url):
    channel = f"guru-test-end-{time.monotonic_ns()}"
    first = servers(redis_url=redis_url, channel=channel)
    second = servers(redis_url=redis_url, channel=channel)
    token = served_world["tokens"]["user_t1"]
    phone = Listener(second, token).connect()
    bystander = Listener(second, served_world["tokens"]["user_t2"]).connect()
    response = requests.post(
        f"{first.url}/api/v1/me/password",
        json={"current_password": "secret-password", "new_password": "another-password"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 204, response.text
    deadline = time.monotonic() + 10
    while phone.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not phone.client.connected, second.log()
    assert bystander.client.connected
    bystander.disconnect()
