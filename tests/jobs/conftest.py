"""Fixtures for the job-queue tests: an app that queues jobs for real (no immediate mode), and workers."""

from __future__ import annotations

import uuid

import pytest

from dispatch import create_app
from dispatch.district.service import ensure_district
from dispatch.extensions import db
from tests.conftest import clear_database, fresh_login_per_request, make_config
from tests.dispatch.conftest import redis_url, servers  # noqa: F401  (the same real-server fixtures)
from tests.jobs.worker_process import Worker


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
