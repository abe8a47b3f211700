"""Fixtures: an app on a database that starts clean for every test, on SQLite and on PostgreSQL.

PostgreSQL runs when TEST_DATABASE_URL is set (CI sets it); otherwise those
tests skip with the reason, unless GURU_REQUIRE_SERVICES makes them mandatory.
Each run works in a schema of its own, so it never touches other data.
"""

from __future__ import annotations

import os
import uuid

import flask_babel
import pytest
import sqlalchemy as sa
from flask import g

from config import TestingConfig
from dispatch import create_app
from dispatch import models as _models  # noqa: F401  (every table in db.metadata before create_all)
from dispatch.district.service import ensure_district
from dispatch.extensions import db

DATABASES = ["sqlite", "postgresql"]

pytest_plugins = ["tests.browser"]  # the browser tests' fixtures: Chromium and axe-core


def postgres_url_or_skip() -> str:
    url = TestingConfig.POSTGRES_TEST_URL
    if not url:
        if TestingConfig.REQUIRE_SERVICES:
            pytest.fail("GURU_REQUIRE_SERVICES is set but TEST_DATABASE_URL is not")
        pytest.skip("no PostgreSQL: set TEST_DATABASE_URL=postgresql://user@host/db to run these tests")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        if TestingConfig.REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL unreachable: {exc}")
    finally:
        engine.dispose()
    return url


def with_search_path(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_schema_url():
    """A fresh schema for this test run, dropped at the end."""
    url = postgres_url_or_skip()
    schema = f"guru_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    scoped = with_search_path(url, schema)
    tables_engine = sa.create_engine(scoped)
    db.metadata.create_all(tables_engine)
    tables_engine.dispose()
    yield scoped
    with engine.begin() as conn:
        conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    engine.dispose()


def make_config(database_url: str, **overrides) -> type[TestingConfig]:
    attrs = {"SQLALCHEMY_DATABASE_URI": database_url, **overrides}
    return type("TestConfig", (TestingConfig,), attrs)


@pytest.fixture(params=DATABASES)
def database(request):
    """The database URL a test runs on: in-memory SQLite, or a clean schema on PostgreSQL."""
    if request.param == "sqlite":
        return "sqlite://"
    return request.getfixturevalue("postgres_schema_url")


def fresh_login_per_request(app) -> None:
    """Tests keep an app context open, which Flask reuses for every test-client request, and with it
    `g`; a real server starts each request with a new `g`, so forget the logged-in user per request."""

    @app.before_request
    def _forget_user():
        g.pop("_login_user", None)
        flask_babel.refresh()  # the language is chosen per request too


def build_app(database: str, **overrides):
    """An app on the database with its tables and the district row, and a fresh login per request."""
    app = create_app(make_config(database, **overrides))
    fresh_login_per_request(app)
    with app.app_context():
        if database.startswith("sqlite"):
            db.create_all()
        ensure_district()
        db.session.commit()
    return app


def clear_database(app, database: str) -> None:
    """Leave the database as the next test expects it: no tables on SQLite, empty tables on PostgreSQL."""
    with app.app_context():
        db.session.remove()
        if database.startswith("sqlite"):
            db.drop_all()
        else:
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(sa.text(f"truncate {names} restart identity cascade"))
        db.engine.dispose()


@pytest.fixture
def app(database):
    app = build_app(database)
    with app.app_context():
        yield app
    clear_database(app, database)


@pytest.fixture
def shared_app(database, tmp_path):
    """An app whose database several threads can share (a file for SQLite: in-memory is one connection).

    No app context is pushed: each request, in whichever thread, opens its own."""
    url = f"sqlite:///{tmp_path / 'shared.db'}" if database.startswith("sqlite") else database
    app = build_app(url)
    yield app
    clear_database(app, url)


class Clock:
    """The district's clock as a test sets it: `now` (a local datetime), or None for the real time."""

    def __init__(self) -> None:
        self.now = None

    def advance(self, **delta) -> None:
        from datetime import timedelta

        from dispatch.district.service import district_now

        self.now = (self.now or district_now()) + timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """Every rule reads `dispatch.district.service.wall_clock`; this sets it for the test."""
    import dispatch.district.service as district_service

    real = district_service.wall_clock
    frozen = Clock()
    monkeypatch.setattr(district_service, "wall_clock", lambda tz: frozen.now if frozen.now else real(tz))
    return frozen


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def world(app):
    from tests.dispatch_world import build_world

    return build_world()
