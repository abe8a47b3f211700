"""The production deployment degrades and never corrupts: one test per fault of issue 15.

Each runs against `deploy/run` (nginx, two gunicorn processes, honcho) with its own PostgreSQL cluster
and Redis, breaks one part, and asserts outcomes with generous deadlines (never how fast):
- Redis down: bookings still work; live push resumes when it returns and phones resync;
- PostgreSQL restarted: requests fail with 503 (not a hang, not a 500) and recover by themselves;
- a web process killed (master and worker): its phones reconnect and miss nothing, and those that missed
  nothing fetch nothing; it comes back;
- a rolling restart under writes: no 5xx, nothing lost;
- the clock in two processes: every due thing done exactly once;
- the job worker killed mid-plan: the run ends `failed`, the worker comes back and plans again.
After each, the audit of bench/peak/audit.py finds nothing wrong.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psutil
import requests

from bench.peak.audit import audit
from deploy.stack import wait_for
from dispatch.accounts.auth import issue_token
from dispatch.district.service import district_now
from dispatch.extensions import db
from dispatch.offers.models import Offer
from tests import factories as f
from tests.deploy.phones import Phone

_times = itertools.count()
_places = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def build_school(app, teachers: int) -> dict:
    """A school of its own, its operator and `teachers` teachers near it, with tokens. Each school is
    far from the others' (about 45 km), so its urgent orders go to its own teachers only."""
    with app.app_context():
        f.kecamatan()
        npsn = f"{20000000 + uuid.uuid4().int % 9_000_000}"
        lat, lon = -1.2 - 0.4 * next(_places), 102.1
        f.school(npsn=npsn, level="SMP", lat=lat, lon=lon)
        operator = f.user("school_operator", username=f"op-{npsn}", school_id=npsn)
        tokens = []
        for i in range(teachers):
            teacher = f.teacher(name=f"Guru {npsn}-{i}", lat=lat, lon=lon + 0.001 * i)
            tokens.append(
                (teacher.id, issue_token(f.user("teacher", username=f"guru-{npsn}-{i}", teacher_id=teacher.id)))
            )
        db.session.commit()
        return {"npsn": npsn, "operator": issue_token(operator), "teachers": tokens}


def order_body(urgent: bool = True) -> dict:
    """An order on a day and hour of its own, so no two orders of a test clash for a teacher."""
    n = next(_times)
    day = f.next_weekday(n % 5, weeks_ahead=1 + n // 15)
    start = 7 * 60 + 30 + 90 * ((n // 5) % 3)
    hhmm = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
    return {"subject": "MTK", "level": "SMP", "class_name": f"IX {n}", "reason": "substitute", "urgent": urgent,
            "sessions": [{"date": day.isoformat(), "start": hhmm(start), "end": hhmm(start + 80)}]}  # fmt: skip


def post_order(url: str, token: str, key: str | None = None, timeout: float = 30, body=None) -> requests.Response:
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    return requests.post(f"{url}/api/v1/orders", json=body or order_body(), headers=headers, timeout=timeout)


def open_offers(url: str, token: str) -> list[dict]:
    response = requests.get(f"{url}/api/v1/offers", headers=bearer(token), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def assert_audit_clean(stack, journal=()) -> None:
    problems = audit(stack.database_url, list(journal))
    assert not any(problems.values()), problems


def test_redis_down_bookings_still_work_then_push_resumes_and_phones_resync(healthy, stack_app):
    stack = healthy
    world = build_school(stack_app, teachers=2)
    (t1, token_1), (t2, token_2) = world["teachers"]
    [(_, bystander_token)] = build_school(stack_app, teachers=1)["teachers"]  # far away: offered nothing
    # One phone on each web process, directly: whichever process makes an event, the other one's phone
    # depends on Redis to hear it.
    ports = stack.web_ports()
    phone_1 = Phone(stack.url, token_1).connect(f"http://127.0.0.1:{ports[0]}")
    phone_2 = Phone(stack.url, token_2).connect(f"http://127.0.0.1:{ports[1]}")
    bystander = Phone(stack.url, bystander_token).connect(f"http://127.0.0.1:{ports[0]}")
    journal = []
    try:
        stack.redis.stop()
        # Bookings still work: an urgent order is posted, offered and accepted while Redis is down.
        first = post_order(stack.url, world["operator"])
        assert first.status_code == 201, first.text
        journal.append({"kind": "order", "id": first.json()["id"]})
        offer = wait_for(lambda: [o for o in open_offers(stack.url, token_1) if o["order_id"] == first.json()["id"]],
                         30, "the first wave while Redis is down")[0]  # fmt: skip
        accepted = requests.post(f"{stack.url}/api/v1/offers/{offer['id']}/accept", headers=bearer(token_1), timeout=30)
        assert accepted.status_code == 200, accepted.text
        journal.append({"kind": "accept", "id": offer["id"]})
        during = post_order(stack.url, world["operator"])  # an offer the phones may not hear of live
        assert during.status_code == 201, during.text
        journal.append({"kind": "order", "id": during.json()["id"]})

        stack.redis.start()
        # Each process resubscribes; the one that made the events tells the rooms it could not reach to
        # resync, and the phones there fetch what they missed. The one on the same process heard it live.
        wait_for(lambda: phone_1.resyncs + phone_2.resyncs >= 1, 60, "resync after Redis came back")
        for phone in (phone_1, phone_2):
            wait_for(lambda phone=phone: phone.knows_order(during.json()["id"]), 30, "the offer made while down")
        # Live push works again, across processes.
        after = post_order(stack.url, world["operator"])
        assert after.status_code == 201, after.text
        journal.append({"kind": "order", "id": after.json()["id"]})
        for phone in (phone_1, phone_2):
            wait_for(lambda phone=phone: after.json()["id"] in {o for o in phone.offers_by_order if
                     phone.offers_by_order[o] in phone.pushed}, 30, "a live offer after Redis returned")  # fmt: skip
        # A phone that missed nothing is not sent to fetch: 1,500 at once overloaded the machine (bench/peak).
        assert bystander.resyncs == 0 and bystander.connects == 1
    finally:
        for phone in (phone_1, phone_2, bystander):
            phone.disconnect()
    assert_audit_clean(stack, journal)


def test_postgres_restart_fails_fast_with_503_and_recovers_by_itself(healthy, stack_app):
    stack = healthy
    world = build_school(stack_app, teachers=1)
    workers_before = {i: stack.worker_pids(i) for i in (1, 2)}
    assert stack.get("/api/v1/orders", world["operator"]).status_code == 200

    stack.pg.stop()
    down = stack.get("/api/v1/orders", world["operator"])
    assert down.status_code == 503, down.text
    assert down.json()["code"] == 503 and down.headers["Retry-After"]
    body = order_body()
    refused = post_order(stack.url, world["operator"], key="during-the-restart", body=body)
    assert refused.status_code == 503, refused.text
    assert stack.get("/healthz").status_code == 503

    stack.pg.start()
    wait_for(lambda: stack.get("/api/v1/orders", world["operator"]).status_code == 200, 60, "recovery")
    # The same write retried with its key is done once, now.
    retried = post_order(stack.url, world["operator"], key="during-the-restart", body=body)
    assert retried.status_code == 201, retried.text
    again = post_order(stack.url, world["operator"], key="during-the-restart", body=body)
    assert again.status_code == 201 and again.json()["id"] == retried.json()["id"]
    # Nobody restarted anything: the same processes serve.
    assert {i: stack.worker_pids(i) for i in (1, 2)} == workers_before
    assert_audit_clean(stack, [{"kind": "order", "id": retried.json()["id"]}])


def _phones_per_worker(stack) -> dict[int, int]:
    """Established connections to each web process's port, owned by its worker."""
    counts = {}
    for i, port in enumerate(stack.web_ports(), 1):
        (pid,) = stack.worker_pids(i)
        counts[i] = sum(
            1 for c in psutil.Process(pid).net_connections("tcp") if c.status == "ESTABLISHED" and c.laddr.port == port
        )
    return counts


def _settled_phones_per_worker(stack) -> dict[int, int]:
    """The phones' connections alone: the least of a few looks, since a request or health check passing
    through holds a connection for a moment."""
    looks = []
    for _ in range(5):
        looks.append(_phones_per_worker(stack))
        time.sleep(0.1)
    return {i: min(look[i] for look in looks) for i in looks[0]}


def _phones_placed(stack, before: dict[int, int], count: int) -> dict[int, int]:
    """How many of `count` phones just connected each process holds, once all of them are counted."""
    counts = wait_for(
        lambda: (c := _settled_phones_per_worker(stack)) and sum(c.values()) - sum(before.values()) >= count and c,
        30, "the phones' connections",
    )  # fmt: skip
    return {i: counts[i] - before[i] for i in counts}


def test_web_process_killed_its_phones_reconnect_and_miss_nothing(healthy, stack_app):
    stack = healthy
    world = build_school(stack_app, teachers=8)
    before = _settled_phones_per_worker(stack)
    phones = [Phone(stack.url, token) for _, token in world["teachers"]]
    for phone in phones:
        phone.connect()  # through nginx, which spreads them over the processes
    placed = _phones_placed(stack, before, len(phones))
    wait_for(lambda: all(p.mark.trusted for p in phones), 30, "the phones' first fetch")  # their lists are current
    # The process holding the most phones (at least half of them) is killed.
    victim = max(placed, key=placed.get)
    assert placed[victim] >= len(phones) // 2
    try:
        killed = stack.kill_web(victim)
        # Meanwhile, an urgent order, posted as a phone app does: a 502 (the request reached the process as it
        # died; nginx never resends a POST) is retried with the same Idempotency-Key, which makes it safe.
        body, key = order_body(), str(uuid.uuid4())
        order = wait_for(
            lambda: (r := post_order(stack.url, world["operator"], key=key, body=body)).status_code != 502 and r,
            60, "the order posted",
        )  # fmt: skip
        assert order.status_code == 201, order.text
        order_id = order.json()["id"]
        # Every phone dropped by the kill reconnected, and every phone offered the order knows the offer.
        # (the killed process held at least half of them)
        wait_for(lambda: sum(p.connects >= 2 for p in phones) >= len(phones) // 2, 60, "its phones reconnecting")
        wait_for(lambda: all(p.client.connected for p in phones), 60, "every phone connected again")
        with stack_app.app_context():
            offered = {o.teacher_id for o in db.session.scalars(db.select(Offer).where(Offer.order_id == order_id))}
        assert offered, "the urgent order was offered to somebody"
        tokens = dict(world["teachers"])
        for phone in phones:
            teacher = next(t for t, tok in tokens.items() if tok == phone.token)
            if teacher in offered:
                wait_for(lambda phone=phone: phone.knows_order(order_id), 30, "the offer reaches a reconnected phone")
            elif phone.connects >= 2:
                # Nothing happened to this teacher meanwhile: the phone was told so, and fetched nothing
                # (bench/peak: 750 phones fetching at once kept two cores busy for 20-30 s).
                assert phone.resumes[1:] == [False] * (len(phone.resumes) - 1), phone.resumes
                assert phone.fetches == 1, phone.fetches  # the first connection's
        # The killed process was started again (deploy/respawn) and the rest of the deployment never stopped.
        wait_for(lambda: stack.master_pid(victim) != killed and stack.worker_pids(victim), 60, "web started again")
    finally:
        for phone in phones:
            phone.disconnect()
    stack.wait_healthy()
    assert_audit_clean(stack, [{"kind": "order", "id": order_id}])


def test_a_web_process_back_after_a_kill_takes_its_own_phones_again(healthy, stack_app):
    """Once a killed process serves again, nginx sends it its phones again. With `max_fails=1`, the first
    request after `fail_timeout` is a probe, and a WebSocket probe ends only when its phone leaves: until
    then every other phone of that process was sent to the survivor, which carried the whole deployment's
    reconnects while the restarted process stood idle (bench/peak, 2026-11-28)."""
    stack = healthy
    world = build_school(stack_app, teachers=8)
    nodes = {token: uuid.uuid4().hex for _, token in world["teachers"]}  # each phone's sticky cookie

    def connect_all() -> list[Phone]:
        phones = [Phone(stack.url, token, node=nodes[token]).connect() for token in nodes]
        wait_for(lambda: all(p.mark.trusted for p in phones), 30, "the phones' first fetch")
        return phones

    before = _settled_phones_per_worker(stack)
    phones = connect_all()
    home = _phones_placed(stack, before, len(nodes))
    victim = max(home, key=home.get)
    try:
        killed = stack.kill_web(victim)
        wait_for(lambda: sum(p.connects >= 2 for p in phones) >= home[victim], 60, "its phones reconnecting")
        wait_for(lambda: stack.master_pid(victim) != killed and stack.worker_pids(victim), 60, "web started again")
        stack.wait_healthy()
    finally:
        for phone in phones:
            phone.disconnect()
    wait_for(lambda: sum(_settled_phones_per_worker(stack).values()) <= sum(before.values()), 30, "the phones gone")
    before = _settled_phones_per_worker(stack)
    # The same phones come again, as after a walk out of signal: each to the process its cookie names.
    phones = connect_all()
    try:
        assert _phones_placed(stack, before, len(nodes)) == home
    finally:
        for phone in phones:
            phone.disconnect()
    stack.wait_healthy()


def test_rolling_restart_under_writes_loses_nothing_and_answers_no_5xx(healthy, stack_app):
    stack = healthy
    world = build_school(stack_app, teachers=3)
    phones = [Phone(stack.url, token).connect() for _, token in world["teachers"]]
    statuses: list[int] = []
    journal: list[dict] = []
    done = threading.Event()

    def write_orders():
        while not done.is_set() and len(statuses) < 400:
            try:
                response = post_order(stack.url, world["operator"], key=str(uuid.uuid4()), timeout=60)
            except requests.RequestException as exc:
                statuses.append(599)
                print("request failed:", exc)
                continue
            statuses.append(response.status_code)
            if response.status_code == 201:
                journal.append({"kind": "order", "id": response.json()["id"]})

    writer = threading.Thread(target=write_orders)
    writer.start()
    try:
        wait_for(lambda: len(statuses) >= 5, 60, "writes before the restart")
        output = stack.rolling_restart()
        wait_for(lambda: len(statuses) >= len(journal) + 5 or len(statuses) >= 400, 60, "writes after the restart")
    finally:
        done.set()
        writer.join(120)
        for phone in phones:
            phone.disconnect()
    assert output.count("serving from a new worker") == 2, output
    assert statuses and set(statuses) == {201}, sorted(set(statuses))
    assert_audit_clean(stack, journal)


def test_the_clock_of_two_processes_does_each_due_thing_exactly_once(healthy, stack_app):
    """Both web processes run the clock every 0.2 s; the advisory lock lets one round run at a time. Offers
    that expired all at once are each followed by exactly one next wave (a doubled round would send two)."""
    stack = healthy
    world = build_school(stack_app, teachers=8)
    with stack_app.app_context():
        from dispatch.schools.models import School

        school = db.session.get(School, world["npsn"])
        teacher_ids = [t for t, _ in world["teachers"]]
        past = district_now() - timedelta(minutes=1)
        order_ids = []
        for n in range(20):
            order = f.order(school, urgent=True, sessions=None)
            order.sessions[0].date = f.next_weekday(n % 5, weeks_ahead=3 + n // 5)
            order.sessions[0].status = "offered"
            for teacher_id in teacher_ids[:3]:
                db.session.add(Offer(order_id=order.id, teacher_id=teacher_id, session_ids=[order.sessions[0].id],
                                     status="open", wave=1, expires_at=past))  # fmt: skip
            order_ids.append(order.id)
        db.session.commit()  # all due at once: both clocks see them on their next round

    def settled():
        with stack_app.app_context():
            db.session.expire_all()
            return not db.session.scalar(
                db.select(db.func.count()).where(Offer.order_id.in_(order_ids), Offer.wave == 1, Offer.status == "open")
            ) and all(
                db.session.scalar(db.select(db.func.count()).where(Offer.order_id == o, Offer.wave == 2)) for o in order_ids
            )  # fmt: skip

    wait_for(settled, 60, "the clock expiring the offers and sending the next waves")
    with stack_app.app_context():
        for order_id in order_ids:
            offers = db.session.scalars(db.select(Offer).where(Offer.order_id == order_id)).all()
            waves = sorted(o.wave for o in offers)
            assert waves == [1, 1, 1, 2, 2, 2], (order_id, waves)
            assert len({o.teacher_id for o in offers}) == 6, "a teacher offered the same order twice"
            assert {o.status for o in offers if o.wave == 1} == {"expired"}
    assert_audit_clean(stack)


def test_job_worker_killed_mid_plan_the_run_fails_and_the_worker_comes_back(healthy, stack_app):
    from dispatch.demo import next_monday, seed_demo
    from dispatch.district.service import district_today
    from dispatch.runs.worker import STALE_ERROR

    stack = healthy
    with stack_app.app_context():
        seed_demo(teachers=300, periods=3000, progress=lambda line: None)  # a week with lessons to plan
        admin = issue_token(f.user("district_admin", username=f"kantor-{uuid.uuid4().hex[:6]}"))
        db.session.commit()
        monday = next_monday(district_today())

    def post_run(first, last) -> int:
        response = requests.post(f"{stack.url}/api/v1/matching/runs", json={"from": first.isoformat(),
                                 "to": last.isoformat()}, headers=bearer(admin), timeout=30)  # fmt: skip
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def run(run_id: int) -> dict:
        return stack.get(f"/api/v1/matching/runs/{run_id}", admin).json()

    hold = Path(stack.env["GURU_SOLVER_HOLD_FILE"])
    hold.touch()
    run_id = post_run(monday, monday + timedelta(days=6))
    (worker,) = stack.job_worker_pids()

    def solving():
        state = run(run_id)
        assert state["status"] in ("queued", "running"), state  # ended before the kill: say why
        return state["status"] == "running" and psutil.Process(worker).children()

    wait_for(solving, 180, "the plan in the solver")
    solvers = [p.pid for p in psutil.Process(worker).children()]
    os.kill(worker, signal.SIGKILL)
    hold.unlink()  # the next worker's runs plan at once
    # deploy/respawn starts the worker again; on start it fails the run its predecessor left running.
    try:
        ended = wait_for(lambda: (r := run(run_id))["status"] in ("done", "failed", "cancelled") and r, 120, "the run")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{stack.log(6000)}") from None
    assert (ended["status"], ended["error"]) == ("failed", STALE_ERROR)
    wait_for(lambda: not any(psutil.pid_exists(pid) for pid in solvers), 60, "the orphaned solver ending")
    assert stack.job_worker_pids() and worker not in stack.job_worker_pids()
    # The new worker plans: an empty week ends done.
    far = f.next_weekday(0, weeks_ahead=8)
    again = post_run(far, far)
    assert (
        wait_for(lambda: (r := run(again))["status"] in ("done", "failed") and r, 120, "the next run")["status"]
        == "done"
    )
    stack.wait_healthy()
    assert_audit_clean(stack)
