"""Fixtures for the tests against real server processes (test_live_server.py, test_browser.py)."""

from __future__ import annotations

import pytest

from config import TestingConfig
from dispatch.accounts.auth import issue_token
from tests.dispatch_world import build_world
from tests.live_server import Server


@pytest.fixture
def database_url(shared_app):
    return shared_app.config["SQLALCHEMY_DATABASE_URI"]


@pytest.fixture
def servers(database_url, tmp_path):
    """Start servers on the test's database; all are stopped at the end."""
    started: list[Server] = []

    def start(**kwargs) -> Server:
        server = Server(database_url, tmp_path, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def served_world(shared_app):
    """The small district of tests/dispatch_world.py, with tokens, for tests against real servers."""
    with shared_app.app_context():
        world = build_world()
        tokens = {who: issue_token(getattr(world, who)) for who in ("admin", "op_a", "op_b", "user_t1", "user_t2")}
        ids = {"school_a": world.school_a.npsn, "teacher_1": world.teacher_1.id, "teacher_2": world.teacher_2.id}
    return {"tokens": tokens, **ids}


@pytest.fixture
def redis_url():
    url = TestingConfig.REDIS_TEST_URL
    if not url:
        if TestingConfig.REQUIRE_SERVICES:
            pytest.fail("GURU_REQUIRE_SERVICES is set but TEST_REDIS_URL is not")
        pytest.skip("no Redis: set TEST_REDIS_URL=redis://host:6379/0 to run the several-process tests")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        if TestingConfig.REQUIRE_SERVICES:
            pytest.fail(f"Redis at TEST_REDIS_URL is required but unreachable: {exc}")
        pytest.skip(f"Redis at TEST_REDIS_URL unreachable: {exc}")
    return url
