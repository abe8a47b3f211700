"""A database that goes away under a request is a 503 with Retry-After, never a 500, and the next
request is served again by a fresh connection (PostgreSQL: its server cuts the connection)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from dispatch.extensions import db
from tests.conftest import postgres_url_or_skip


@pytest.fixture
def pg_app():
    app = build_app_without_tables(postgres_url_or_skip())  # no tables needed: plain queries
    yield app
    with app.app_context():
        db.engine.dispose()


def build_app_without_tables(url: str):
    from config import TestingConfig
    from dispatch import create_app

    config = type("Cut", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url,
                                            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}})  # fmt: skip
    app = create_app(config)

    def cut_this_requests_connection() -> int:
        """The server ends this request's connection from outside while its transaction is open, as a
        restart of PostgreSQL (pg_ctl stop -m fast) does to every connection."""
        pid = db.session.execute(db.text("select pg_backend_pid()")).scalar()
        other = sa.create_engine(url)
        with other.connect() as conn:
            conn.execute(sa.text("select pg_terminate_backend(:pid)"), {"pid": pid})
        other.dispose()
        time.sleep(0.2)  # the server's goodbye is already on the wire when the request goes on
        return pid

    @app.get("/test/cut-my-connection")
    def cut():
        cut_this_requests_connection()
        db.session.execute(db.text("select 1"))
        return {"reached": True}

    @app.get("/test/cut-after-my-reads")
    def cut_after_reads():
        # After the request's last query: the answer is ready, and the clean-up's ROLLBACK meets the dead
        # connection.
        return {"pid": cut_this_requests_connection()}

    @app.get("/test/still-there")
    def still_there():
        return {"one": db.session.execute(db.text("select 1")).scalar()}

    return app


def test_a_connection_cut_by_the_server_is_a_503_and_the_next_request_is_served(pg_app):
    client = pg_app.test_client()
    response = client.get("/test/cut-my-connection")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["code"] == 503
    assert response.headers["Retry-After"]
    assert client.get("/test/still-there").get_json() == {"one": 1}


def test_a_connection_cut_after_the_last_query_still_answers(pg_app):
    client = pg_app.test_client()
    response = client.get("/test/cut-after-my-reads")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert client.get("/test/still-there").get_json() == {"one": 1}
