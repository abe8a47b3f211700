"""Solver runs through the real job worker: `flask jobs-worker` in a process of its own, on SQLite (a
file) and PostgreSQL, with Huey's SQLite storage; and on Redis storage with live progress."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from dispatch.accounts.auth import issue_token
from dispatch.demo import next_monday, seed_demo
from dispatch.district.service import district_today
from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.runs.worker import STALE_ERROR
from tests import factories as f
from tests.dispatch_world import build_world
from tests.factories import next_weekday
from tests.jobs.worker_process import alive, nice_of

MONDAY = next_weekday(0)
ENDED = ("done", "failed", "cancelled")


class Admin:
    """The district office's API calls, through the web app (which only queues)."""

    def __init__(self, app, token: str):
        self.client, self.headers = app.test_client(), {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: dict | None = None):
        return self.client.post(f"/api/v1/matching/{path}", json=body, headers=self.headers)

    def plan(self, first, last) -> int:
        response = self.post("runs", {"from": first.isoformat(), "to": last.isoformat()})
        assert response.status_code == 202, response.get_json()
        assert response.get_json()["status"] == "queued"
        return response.get_json()["id"]

    def run(self, run_id: int) -> dict:
        response = self.client.get(f"/api/v1/matching/runs/{run_id}", headers=self.headers)
        assert response.status_code == 200
        return response.get_json()

    def wait(self, run_id: int, until=lambda run: run["status"] in ENDED, timeout: float = 180) -> dict:
        """Poll the run until `until` holds; the timeout only catches a run that never gets there."""
        deadline = time.monotonic() + timeout
        while not until(run := self.run(run_id)):
            assert time.monotonic() < deadline, run
            time.sleep(0.1)
        return run


def world_admin(app) -> Admin:
    with app.app_context():
        world = build_world()
        return Admin(app, issue_token(world.admin))


def demo_admin(app) -> tuple[Admin, object]:
    """A district week big enough that the planner searches for as long as it is given (4,700 pairs)."""
    with app.app_context():
        seed_demo(teachers=300, periods=3000, progress=lambda line: None)
        admin = f.user("district_admin", username="kantor")
        db.session.commit()
        return Admin(app, issue_token(admin)), next_monday(district_today())


def offers(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Offer))


def solving(worker):
    """The run is in the solver: the worker has forked its child for the week."""
    return lambda run: run["status"] == "running" and worker.children()


def outlived_by_none(solver: list[int]) -> None:
    """The solver processes end soon after their worker (30 s only catches one that never does)."""
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in solver):
        assert time.monotonic() < deadline, "the solver outlived its worker"
        time.sleep(0.1)


@pytest.fixture
def held(tmp_path):
    """Settings for a worker whose solver child waits while a file exists (config SOLVER_HOLD_FILE): the
    run is certainly still in the solver when the test cancels or kills it, however fast the machine."""
    hold = tmp_path / "hold-solver"
    hold.touch()
    return hold


def test_a_plan_is_queued_by_the_web_and_run_by_the_worker(queue_app, workers):
    admin = world_admin(queue_app)
    run_id = admin.plan(MONDAY, MONDAY)
    assert admin.run(run_id)["status"] == "queued"  # no worker yet: the web side never plans
    workers(MATCHING_TIME_LIMIT="2")
    run = admin.wait(run_id)
    assert (run["status"], run["error"], run["sessions"], run["assigned"], run["offers"]) == ("done", None, 2, 2, 2)
    assert run["coverage"] == 1.0 and run["started_at"] and run["finished_at"]
    assert offers(queue_app) == 2


def test_a_what_if_and_an_empty_range_through_the_worker(queue_app, workers):
    admin = world_admin(queue_app)
    workers(MATCHING_TIME_LIMIT="2")
    body = {"from": MONDAY.isoformat(), "to": MONDAY.isoformat(),
            "add_teachers": [{"count": 3, "subjects": ["BIO"], "levels": ["SMP"], "kecamatan_code": "15.08.03"}]}  # fmt: skip
    response = admin.post("what-if", body)
    assert response.status_code == 202 and response.get_json()["kind"] == "what_if"
    run = admin.wait(response.get_json()["id"])
    assert run["status"] == "done", run
    before, after = run["result"]["before"], run["result"]["after"]
    assert (before["sessions"], before["periods"], before["coverage"]) == (2, 4, 1.0)
    assert after["teachers"] == before["teachers"] + 3
    assert {row["key"] for row in before["by_subject"]} == {"MTK"}
    assert offers(queue_app) == 0  # a what-if sends nothing

    far = next_weekday(0, weeks_ahead=3)
    empty = admin.wait(admin.plan(far, far + timedelta(days=6)))
    assert (empty["status"], empty["sessions"], empty["assigned"], empty["error"]) == ("done", 0, 0, None)


def test_cancel_stops_a_running_solve(queue_app, workers, held):
    admin, monday = demo_admin(queue_app)
    worker = workers(GURU_SOLVER_HOLD_FILE=str(held))
    run_id = admin.plan(monday, monday + timedelta(days=6))
    admin.wait(run_id, solving(worker))
    solver = worker.children()
    assert [nice_of(pid) - nice_of(worker.process.pid) for pid in solver] == [10]  # requests first
    cancelled = admin.post(f"runs/{run_id}/cancel")
    held.unlink()  # the next run plans at once
    assert cancelled.status_code == 200 and cancelled.get_json()["cancel_requested"] is True
    run = admin.wait(run_id)
    assert run["status"] == "cancelled" and run["error"] is None
    assert not any(alive(pid) for pid in solver)  # the solve was stopped, not left to finish
    assert offers(queue_app) == 0
    # The worker goes on with the next run.
    far = next_weekday(0, weeks_ahead=3)
    assert admin.wait(admin.plan(far, far))["status"] == "done"


def test_a_worker_killed_mid_run_fails_the_run_when_it_restarts(queue_app, workers, held):
    admin, monday = demo_admin(queue_app)
    worker = workers(GURU_SOLVER_HOLD_FILE=str(held))
    run_id = admin.plan(monday, monday + timedelta(days=6))
    admin.wait(run_id, solving(worker))
    solver = worker.children()
    worker.kill()
    held.unlink()
    # The orphaned solver notices and ends itself (it checks twice a second).
    outlived_by_none(solver)
    assert admin.run(run_id)["status"] == "running"  # nobody left to say otherwise
    worker.start()
    run = admin.run(run_id)
    assert (run["status"], run["error"]) == ("failed", STALE_ERROR)
    assert offers(queue_app) == 0
    far = next_weekday(0, weeks_ahead=3)
    assert admin.wait(admin.plan(far, far))["status"] == "done"


def test_a_worker_told_to_stop_fails_its_run_on_the_way_out(queue_app, workers, held):
    admin, monday = demo_admin(queue_app)
    worker = workers(GURU_SOLVER_HOLD_FILE=str(held))
    run_id = admin.plan(monday, monday + timedelta(days=6))
    admin.wait(run_id, solving(worker))
    solver = worker.children()
    assert worker.terminate() == 0  # SIGTERM, as honcho sends on Ctrl-C
    run = admin.run(run_id)
    assert (run["status"], run["error"]) == (
        "failed",
        "the job worker was stopped while the run was going; post it again",
    )
    outlived_by_none(solver)


@pytest.fixture
def redis_jobs(jobs_settings, redis_url):
    """The queue on Redis (the production storage), under a name of the test's own."""
    jobs_settings["JOBS_URL"] = redis_url
    yield redis_url
    from huey import RedisHuey

    RedisHuey(jobs_settings["JOBS_NAME"], url=redis_url).flush()


def test_on_redis_the_web_queues_the_worker_plans_and_the_office_hears_it_live(
    queue_app, redis_jobs, jobs_settings, workers, servers, database_url
):
    from tests.live_server import Listener

    with queue_app.app_context():
        world = build_world()
        admin_token = issue_token(world.admin)
    channel = f"guru-test-{jobs_settings['JOBS_NAME']}"
    server = servers(redis_url=redis_jobs, channel=channel, **jobs_settings)
    workers(MATCHING_TIME_LIMIT="2", REDIS_URL=redis_jobs, SOCKETIO_CHANNEL=channel)
    office = Listener(server, admin_token)
    office.client.on("run_updated", lambda data: office.heard.put(("run_updated", data, time.monotonic())))
    office.connect()
    try:
        import requests

        body = {"from": MONDAY.isoformat(), "to": MONDAY.isoformat()}
        response = requests.post(f"{server.url}/api/v1/matching/runs", json=body,
                                 headers={"Authorization": f"Bearer {admin_token}"}, timeout=10)  # fmt: skip
        assert response.status_code == 202, response.text
        run_id = response.json()["id"]
        running = office.wait_for("run_updated", timeout=60, where=lambda d: d["id"] == run_id)
        assert running["status"] == "running"
        done = office.wait_for("run_updated", timeout=120, where=lambda d: d["status"] in ENDED)
        assert (done["id"], done["status"], done["offers"]) == (run_id, "done", 2)
        # The planned teachers' offers reached the phones' rooms through Redis too (checked by the row here).
        assert offers(queue_app) == 2
    finally:
        office.disconnect()
