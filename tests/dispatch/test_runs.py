"""Solver runs through the API, in-process: Huey's immediate mode runs each job right after the
request's commit, through the same code the worker runs (tests/jobs/ run the real worker process)."""

from datetime import timedelta

import pytest

from dispatch.extensions import db
from dispatch.idempotency import IdempotencyRecord
from dispatch.jobs import jobs
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession
from dispatch.runs.models import MatchingRun
from dispatch.runs.worker import STALE_ERROR, execute_run, recover_runs
from matching import planner
from tests import factories as f
from tests.factories import next_weekday

MONDAY = next_weekday(0)


def post_run(client, world, first=MONDAY, last=MONDAY, key=None):
    body = {"from": first.isoformat(), "to": last.isoformat()}
    headers = {**world.headers("admin"), **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/matching/runs", json=body, headers=headers)


def get_run(client, world, run_id):
    response = client.get(f"/api/v1/matching/runs/{run_id}", headers=world.headers("admin"))
    assert response.status_code == 200
    return response.get_json()


def test_run_plans_the_week_and_sends_offers(client, world):
    booked = world.order_b.sessions[0]
    booked.status, booked.teacher_id = "booked", world.teacher_2.id
    db.session.commit()
    response = post_run(client, world)
    assert response.status_code == 202
    assert response.get_json()["status"] == "queued"  # answered before the job ran
    run = get_run(client, world, response.get_json()["id"])
    assert (run["status"], run["kind"], run["error"], run["phase"]) == ("done", "plan", None, None)
    assert run["started_at"] and run["finished_at"]
    # order_a's session is open; teacher 2 is booked at that hour elsewhere, so teacher 1 gets the offer.
    assert (run["sessions"], run["assigned"], run["coverage"], run["offers"]) == (1, 1, 1.0, 1)
    assert run["bound"] >= run["coverage"]
    [offer] = db.session.scalars(db.select(Offer)).all()
    assert (offer.teacher_id, offer.session_ids) == (world.teacher_1.id, [world.order_a.sessions[0].id])
    assert db.session.get(LessonSession, world.order_a.sessions[0].id).status == "offered"
    accepted = client.post(f"/api/v1/offers/{offer.id}/accept", headers=world.headers("user_t1"))
    assert accepted.status_code == 200


def test_run_input_and_roles(client, world):
    bad = client.post(
        "/api/v1/matching/runs", json={"from": "2026-03-10", "to": "2026-03-01"}, headers=world.headers("admin")
    )
    assert bad.status_code == 422 and "to" in bad.get_json()["errors"]["json"]
    long = client.post(
        "/api/v1/matching/runs", json={"from": "2026-03-01", "to": "2026-05-01"}, headers=world.headers("admin")
    )
    assert long.status_code == 422
    missing = client.post("/api/v1/matching/runs", json={"to": "2026-03-01"}, headers=world.headers("admin"))
    assert missing.status_code == 422 and "from" in missing.get_json()["errors"]["json"]
    assert (
        client.post(
            "/api/v1/matching/runs", json={"from": "2026-03-01", "to": "2026-03-02"}, headers=world.headers("op_a")
        ).status_code
        == 403
    )
    assert client.get("/api/v1/matching/runs/999", headers=world.headers("admin")).status_code == 404
    assert client.post("/api/v1/matching/runs/999/cancel", headers=world.headers("admin")).status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(MatchingRun)) == 0


def test_a_retried_post_queues_one_run(client, world, monkeypatch):
    queued = []
    monkeypatch.setattr(jobs(), "enqueue_run", queued.append)
    first = post_run(client, world, key="plan-1")
    again = post_run(client, world, key="plan-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    # The run row and the key's record were committed together, and the job queued once, after.
    assert queued == [first.get_json()["id"]]
    assert db.session.scalar(db.select(db.func.count()).select_from(MatchingRun)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(IdempotencyRecord)) == 1


def test_an_empty_range_ends_done_with_nothing_planned(client, world):
    far = next_weekday(0, weeks_ahead=3)
    run = get_run(client, world, post_run(client, world, far, far + timedelta(days=6)).get_json()["id"])
    assert (run["status"], run["sessions"], run["assigned"], run["offers"], run["error"]) == ("done", 0, 0, 0, None)
    assert run["coverage"] == 0.0


def test_a_fully_booked_range_ends_done_without_asking_the_planner(client, world):
    for order, teacher in ((world.order_a, world.teacher_1), (world.order_b, world.teacher_2)):
        order.sessions[0].status, order.sessions[0].teacher_id = "booked", teacher.id
    db.session.commit()
    run = get_run(client, world, post_run(client, world).get_json()["id"])
    assert (run["status"], run["sessions"], run["coverage"], run["bound"], run["offers"]) == ("done", 0, 1.0, 1.0, 0)


def test_a_failing_solver_fails_the_run_with_the_reason(client, world, monkeypatch):
    def broken(inst, **options):
        raise ValueError("candidate tables are broken")

    monkeypatch.setattr(planner, "build_candidates", broken)  # the forked solver inherits it
    run = get_run(client, world, post_run(client, world).get_json()["id"])
    assert run["status"] == "failed"
    assert "candidate tables are broken" in run["error"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Offer)) == 0


def test_a_solver_process_that_dies_fails_the_run(client, world, monkeypatch):
    import os

    monkeypatch.setattr(planner, "build_candidates", lambda inst, **options: os._exit(3))
    run = get_run(client, world, post_run(client, world).get_json()["id"])
    assert run["status"] == "failed" and "exit code 3" in run["error"]


def test_cancel_a_queued_run_and_what_cancel_answers(client, world, monkeypatch):
    queued = []
    monkeypatch.setattr(jobs(), "enqueue_run", queued.append)
    run_id = post_run(client, world).get_json()["id"]
    cancelled = client.post(f"/api/v1/matching/runs/{run_id}/cancel", headers=world.headers("admin"))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    execute_run(run_id)  # its message arrives later: the worker does not run it
    assert get_run(client, world, run_id)["status"] == "cancelled"
    assert db.session.scalar(db.select(db.func.count()).select_from(Offer)) == 0
    again = client.post(f"/api/v1/matching/runs/{run_id}/cancel", headers=world.headers("admin"))
    assert again.status_code == 200
    assert client.post(f"/api/v1/matching/runs/{run_id}/cancel", headers=world.headers("op_a")).status_code == 403

    monkeypatch.undo()
    done_id = post_run(client, world).get_json()["id"]
    assert get_run(client, world, done_id)["status"] == "done"
    late = client.post(f"/api/v1/matching/runs/{done_id}/cancel", headers=world.headers("admin"))
    assert late.status_code == 409 and "done" in late.get_json()["message"]


def test_the_worker_start_fails_stale_runs_and_requeues_queued_ones(app, world):
    stale = MatchingRun(first=MONDAY, last=MONDAY, status="running", detail={}, worker="gone:1")
    waiting = MatchingRun(first=MONDAY, last=MONDAY, status="queued", detail={})
    db.session.add_all([stale, waiting])
    db.session.commit()
    from dispatch.jobs import jobs

    assert recover_runs(jobs().enqueue_run) == (1, 1)
    db.session.expire_all()
    assert (stale.status, stale.error) == ("failed", STALE_ERROR)
    assert waiting.status == "done" and waiting.offers == 2  # queued again, and run: both open sessions offered


def what_if_body(**spec):
    add = {"count": 2, "subjects": ["MTK"], "levels": ["SMP"], "kecamatan_code": "15.08.03", **spec}
    return {"from": MONDAY.isoformat(), "to": MONDAY.isoformat(), "add_teachers": [add]}


def test_what_if_more_teachers_in_a_kecamatan(client, world):
    world.school_a.kecamatan_code = world.school_b.kecamatan_code = "15.08.03"
    world.teacher_1.subjects = world.teacher_2.subjects = ["IPA"]  # nobody teaches MTK now
    for _ in range(2):
        f.order(
            world.school_a, sessions=[LessonSession(date=MONDAY, start_min=600, end_min=680, periods=2, status="open")]
        )
    db.session.commit()
    response = client.post("/api/v1/matching/what-if", json=what_if_body(), headers=world.headers("admin"))
    assert response.status_code == 202, response.get_json()
    assert (response.get_json()["status"], response.get_json()["kind"]) == ("queued", "what_if")
    run = get_run(client, world, response.get_json()["id"])
    assert run["status"] == "done", run
    before, after = run["result"]["before"], run["result"]["after"]
    # Four MTK sessions of two periods each; nobody can take them now, two new teachers take them all.
    assert (before["sessions"], before["periods"], before["covered_periods"], before["coverage"]) == (4, 8, 0, 0.0)
    assert (after["covered_sessions"], after["covered_periods"], after["coverage"]) == (4, 8, 1.0)
    assert after["teachers"] == before["teachers"] + 2 and run["result"]["teachers_added"] == 2
    assert run["result"]["gain"] == {"coverage": 1.0, "covered_periods": 8, "teacher_equivalents": round(8 / 24, 2)}
    [kecamatan] = after["by_kecamatan"]
    assert (kecamatan["key"], kecamatan["periods"], kecamatan["unfilled_periods"]) == ("15.08.03", 8, 0)
    [subject] = before["by_subject"]
    assert (subject["key"], subject["unfilled_teacher_equivalents"]) == ("MTK", round(8 / 24, 2))
    # A what-if writes nothing but its row.
    assert db.session.scalar(db.select(db.func.count()).select_from(Offer)) == 0
    assert {s.status for s in db.session.scalars(db.select(LessonSession))} == {"open"}


def test_what_if_input_is_checked_before_anything_is_queued(client, world, monkeypatch):
    queued = []
    monkeypatch.setattr(jobs(), "enqueue_run", queued.append)
    url, admin = "/api/v1/matching/what-if", world.headers("admin")
    unknown = client.post(url, json=what_if_body(kecamatan_code="15.08.99"), headers=admin)
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"]["json"]["add_teachers"]["0"]["kecamatan_code"]
    subject = client.post(url, json=what_if_body(subjects=["XYZ"]), headers=admin)
    assert subject.status_code == 422 and subject.get_json()["errors"]["json"]["add_teachers"]["0"]["subjects"]
    backwards = dict(what_if_body(), to=(MONDAY - timedelta(days=1)).isoformat())
    assert client.post(url, json=backwards, headers=admin).status_code == 422
    assert client.post(url, json=what_if_body(count=0), headers=admin).status_code == 422
    assert client.post(url, json=what_if_body(), headers=world.headers("op_a")).status_code == 403
    assert queued == []
    assert db.session.scalar(db.select(db.func.count()).select_from(MatchingRun)) == 0


@pytest.mark.parametrize("first_day, last_day", [(0, 0), (0, 2)])
def test_the_plan_and_the_what_if_agree_on_the_same_range(client, world, first_day, last_day):
    """One instance builder: the what-if's "before" is the weekly plan's own answer for the range,
    bookings and sessions of the week outside the range included the same way."""
    for day, start in ((0, 600), (1, 450), (2, 450), (2, 600)):
        f.order(world.school_a, sessions=[LessonSession(date=MONDAY + timedelta(days=day), start_min=start,
                                                        end_min=start + 80, periods=2, status="open")])  # fmt: skip
    wednesday = world.order_b.sessions[0]
    wednesday.date, wednesday.status, wednesday.teacher_id = MONDAY + timedelta(days=2), "booked", world.teacher_2.id
    db.session.commit()
    first, last = MONDAY + timedelta(days=first_day), MONDAY + timedelta(days=last_day)
    body = {**what_if_body(subjects=["BIO"]), "from": first.isoformat(), "to": last.isoformat()}
    what_if = client.post("/api/v1/matching/what-if", json=body, headers=world.headers("admin"))
    before = get_run(client, world, what_if.get_json()["id"])["result"]["before"]
    plan = get_run(client, world, post_run(client, world, first, last).get_json()["id"])
    assert plan["status"] == "done"
    in_range = db.session.scalar(
        db.select(db.func.count()).select_from(LessonSession).where(LessonSession.date.between(first, last))
    )
    assert before["sessions"] == in_range
    assert (before["coverage"], before["bound"]) == (plan["coverage"], plan["bound"])


def test_the_worker_writes_progress_after_another_process_wrote(shared_app):
    """SQLite (a file): a worker's session that has read, when another process then writes, cannot
    upgrade its read to a write, not even after waiting; each row write begins afresh instead."""
    from dispatch.runs.worker import Reporter

    with shared_app.app_context():
        run = MatchingRun(first=MONDAY, last=MONDAY, status="running", detail={})
        db.session.add(run)
        db.session.commit()
        run_id = run.id
        db.session.scalar(db.select(MatchingRun.status).where(MatchingRun.id == run_id))  # a read is open
        other = db.create_engine(shared_app.config["SQLALCHEMY_DATABASE_URI"])
        with other.begin() as conn:  # another process (a school's request) writes meanwhile
            conn.execute(db.text("UPDATE district SET name = 'Kabupaten Bungo (uji)'"))
        other.dispose()
        reporter = Reporter(run_id)
        reporter.update(force=True, offers=3)
        assert reporter.pending == {}
        db.session.expire_all()
        assert db.session.get(MatchingRun, run_id).offers == 3


def test_a_queue_that_refuses_the_job_fails_the_run_at_once(client, world, monkeypatch):
    def down(run_id):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(jobs(), "enqueue_run", down)
    response = post_run(client, world)
    assert response.status_code == 202  # the row is committed; the queue refused the job after
    run = get_run(client, world, response.get_json()["id"])
    assert run["status"] == "failed" and "the queue is down" in run["error"]
