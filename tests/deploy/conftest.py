"""The production deployment under faults: deploy/run with its own PostgreSQL cluster and Redis.

Needs nginx, PostgreSQL 15's server binaries and redis-server (Debian packages; .ci/run installs nginx).
Without them these tests skip with the reason, unless GURU_REQUIRE_SERVICES makes them mandatory.
One deployment serves the module's tests; each test leaves it healthy again.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from config import TestingConfig
from deploy.services import postgres_available, redis_available
from deploy.stack import Stack
from dispatch.district.service import ensure_district
from dispatch.extensions import db
from tests.conftest import make_config


def _missing() -> str | None:
    if shutil.which("nginx") is None:
        return "nginx not installed (Debian: apt-get install nginx)"
    return postgres_available() or redis_available()


@pytest.fixture(scope="module")
def stack():
    if reason := _missing():
        if TestingConfig.REQUIRE_SERVICES:
            pytest.fail(f"GURU_REQUIRE_SERVICES is set but {reason}")
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="guru-deploy-test-"))
    # CLOCK_SECONDS short so that the clock's work shows within the tests' deadlines; a plan searches for
    # as long as MATCHING_TIME_LIMIT allows, so that a worker can be killed in the middle of one.
    # A solver child waits while `hold-solver` exists in the folder (config SOLVER_HOLD_FILE): a test makes
    # it to kill a worker whose run is certainly in the solver, however fast the machine.
    stack = Stack(folder, web=2, workers=1, CLOCK_SECONDS="0.2", SERVER_THREADS="200", MATCHING_TIME_LIMIT="600",
                  GURU_SOLVER_HOLD_FILE=str(folder / "hold-solver"))  # fmt: skip
    try:
        stack.start_services()
        stack.start()
        yield stack
    finally:
        stack.stop_all()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def stack_app(stack):
    """An app on the deployment's database, to write test data and read outcomes (tokens signed with
    the deployment's key)."""
    from dispatch import create_app

    app = create_app(
        make_config(stack.database_url, SECRET_KEY=stack.secret, SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True})
    )
    with app.app_context():
        ensure_district()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # no connection left for the garbage collector to find in a later test


@pytest.fixture
def healthy(stack):
    """Each test starts with every part of the deployment healthy, and ends so."""
    stack.wait_healthy()
    yield stack
    if not stack.redis.running():
        stack.redis.start()
    if not stack.pg.running():
        stack.pg.start()
    stack.wait_healthy()
