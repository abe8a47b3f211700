"""Fixtures for the job-queue tests: an app that queues jobs for real (no immediate mode), and workers."""

from __future__ import annotations

import uuid

import pytest

from config import TestingConfig
from dispatch import create_app
from dispatch.district.service import ensure_district
from dispatch.extensions import db
from tests.conftest import clear_database, fresh_login_per_request, make_config
from tests.jobs.worker_process import Worker
from tests.live_server import Server


@pytest.fixture
def database_url(database, tmp_path):
    """The test's database as several processes share it: a SQLite file, or PostgreSQL's test schema."""
    return f"sqlite:///{tmp_path / 'shared.db'}" if database.startswith("sqlite") else database


@pytest.fixture
def jobs_settings(tmp_path):
    """The queue: Huey's SQLite storage in a file of the test's own (tests on Redis override it)."""
    return {"JOBS_URL": f"sqlite:///{tmp_path / 'jobs.db'}", "JOBS_NAME": f"guru-test-{uuid.uuid4().hex[:8]}"}


@pytest.fixture
def queue_app(database_url, jobs_settings):
    """The web side: it writes runs and queues their jobs, and never runs one."""
    app = create_app(make_config(database_url, JOBS_IMMEDIATE=False, **jobs_settings))
    fresh_login_per_request(app)
    with app.app_context():
        if database_url.startswith("sqlite"):
            db.create_all()
        ensure_district()
        db.session.commit()
    yield app
    clear_database(app, database_url)


@pytest.fixture
def workers(database_url, jobs_settings, tmp_path):
    """Start job workers on the test's database and queue; all are stopped at the end."""
    started: list[Worker] = []

    def start(**env) -> Worker:
        worker = Worker(database_url, jobs_settings["JOBS_URL"], jobs_settings["JOBS_NAME"], tmp_path, **env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def servers(database_url, tmp_path):
    """Start gunicorn servers (as `make run` does) on the test's database; all stopped at the end."""
    started: list[Server] = []

    def start(**kwargs) -> Server:
        server = Server(database_url, tmp_path, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def redis_url():
    url = TestingConfig.REDIS_TEST_URL
    if not url:
        if TestingConfig.REQUIRE_SERVICES:
            pytest.fail("GURU_REQUIRE_SERVICES is set but TEST_REDIS_URL is not")
        pytest.skip("no Redis: set TEST_REDIS_URL=redis://host:6379/0 to run the job queue on Redis")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        if TestingConfig.REQUIRE_SERVICES:
            pytest.fail(f"Redis at TEST_REDIS_URL is required but unreachable: {exc}")
        pytest.skip(f"Redis at TEST_REDIS_URL unreachable: {exc}")
    return url
