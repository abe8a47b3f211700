"""Benchmark: schools' and teachers' writes while a weekly plan runs, on the default SQLite.

Builds the demo district (1,500 teachers, 28,800 periods of orders in the demo week) in a fresh
SQLite file, starts gunicorn and the job worker as `make run` does, and runs a steady load:
school operators posting orders (POST /api/v1/orders) and teachers accepting offers
(POST /api/v1/offers/<id>/accept, real bookings, each re-checked). Both are measured twice in
one run: first for `--quiet` seconds with nothing else going on, then while a weekly plan of the
demo week (MATCHING_TIME_LIMIT, default 60 s, solver and offers) runs in the worker. The
benchmark's own orders and offers lie two weeks later, so the plan neither sees nor touches them:
a 409 or 5xx during the plan would be the plan's doing (the lock), not a lost race.

    .venv/bin/python bench/jobs.py [--quiet 60] [--time-limit 60] [--rate 4]

Prints p50, p99 and max per endpoint and phase, the ratio of the p99s (target: within 2x), the
409s and 5xx, what the plan did, and the load average (the machine is shared: say so).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from config import TestingConfig  # noqa: E402
from dispatch import create_app  # noqa: E402
from dispatch.accounts.auth import issue_token  # noqa: E402
from dispatch.demo import next_monday, seed_demo  # noqa: E402
from dispatch.district.service import district_now, district_today, ensure_district  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.offers.models import Offer  # noqa: E402
from dispatch.orders.models import LessonSession, Order  # noqa: E402
from dispatch.schools.models import School  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.jobs.worker_process import Worker  # noqa: E402
from tests.live_server import Server  # noqa: E402

SLOTS = [(day, start) for day in range(6) for start in (420, 510, 600, 690, 780)]  # 60-minute lessons
SLOT_MINUTES = 60


def build(url: str, acceptors: int, operators: int) -> dict:
    """The demo district, plus the benchmark's own teachers with open offers two weeks ahead (one per
    slot, at the school they live at) and school operators; returns tokens and the offers to accept."""
    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        ensure_district()
        seed_demo(progress=lambda line: print(" ", line, flush=True))
        plan_monday = next_monday(district_today())
        bench_monday = plan_monday + timedelta(days=14)
        schools = db.session.scalars(db.select(School).where(School.level == "SMP").order_by(School.npsn)).all()
        expires = district_now() + timedelta(days=2)
        offers: dict[str, list[int]] = {}
        for i in range(acceptors):
            school = schools[i % len(schools)]
            teacher = f.teacher(name=f"Bench {i}", lat=school.lat, lon=school.lon, subjects=["MTK"], levels=["SMP"],
                                max_periods=60, availability=[{"day": d, "start": "06:00", "end": "18:00"} for d in range(7)])  # fmt: skip
            user = f.user("teacher", username=f"bench-guru-{i}", teacher_id=teacher.id)
            ids = []
            for day, start in SLOTS:
                session = LessonSession(date=bench_monday + timedelta(days=day), start_min=start,
                                        end_min=start + SLOT_MINUTES, periods=1, status="offered")  # fmt: skip
                order = Order(school_id=school.npsn, subject="MTK", level="SMP", class_name=f"B{i}-{day}-{start}",
                              reason="vacancy", urgent=False, status="open", sessions=[session])  # fmt: skip
                db.session.add(order)
                db.session.flush()
                offer = Offer(order_id=order.id, teacher_id=teacher.id, session_ids=[session.id], status="open",
                              wave=1, expires_at=expires)  # fmt: skip
                db.session.add(offer)
                db.session.flush()
                ids.append(offer.id)
            offers[issue_token(user)] = ids
        ops = []
        for i in range(operators):
            school = schools[-1 - i]
            ops.append(issue_token(f.user("school_operator", username=f"bench-op-{i}", school_id=school.npsn)))
        admin = issue_token(f.user("district_admin", username="bench-admin"))
        db.session.commit()
        sessions = db.session.scalar(
            db.select(db.func.count())
            .select_from(LessonSession)
            .where(LessonSession.date.between(plan_monday, plan_monday + timedelta(days=6)))
        )
    return {"offers": offers, "operators": ops, "admin": admin, "plan_monday": plan_monday,
            "bench_monday": bench_monday, "plan_sessions": sessions}  # fmt: skip


class Load:
    """Clients at a steady pace, each on its own connection; every answer kept with its phase."""

    def __init__(self, url: str, data: dict, rate: float):
        self.url, self.data, self.interval = url, data, 1.0 / rate
        self.phase = "warm-up"
        self.stop = threading.Event()
        self.results: list[tuple[str, str, float, int, float]] = []  # (endpoint, phase, ms, status, began)
        self.lock = threading.Lock()
        self.order_count = 0

    def record(self, endpoint: str, started: float, status: int, phase: str) -> None:
        with self.lock:
            self.results.append((endpoint, phase, (time.perf_counter() - started) * 1000, status, started))

    def _paced(self, step) -> None:
        with requests.Session() as http:
            next_at = time.monotonic()
            while not self.stop.is_set():
                if not step(http):
                    return
                next_at += self.interval
                self.stop.wait(max(0.0, next_at - time.monotonic()))

    def orders(self, token: str, n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}

        def step(http) -> bool:
            with self.lock:
                self.order_count += 1
                k = self.order_count
            day = self.data["bench_monday"] + timedelta(days=k % 6)
            body = {"subject": "MTK", "level": "SMP", "class_name": f"Bench {n}-{k}", "reason": "vacancy",
                    "sessions": [{"date": day.isoformat(), "start": "07:00", "end": "08:20"}]}  # fmt: skip
            phase, started = self.phase, time.perf_counter()
            status = http.post(f"{self.url}/api/v1/orders", json=body, headers=headers, timeout=120).status_code
            self.record("POST /orders", started, status, phase)
            return True

        self._paced(step)

    def accepts(self, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        queue = list(self.data["offers"][token])

        def step(http) -> bool:
            if not queue:
                return False
            offer_id = queue.pop(0)
            phase, started = self.phase, time.perf_counter()
            status = http.post(f"{self.url}/api/v1/offers/{offer_id}/accept", headers=headers, timeout=120).status_code
            self.record("accept offer", started, status, phase)
            return True

        self._paced(step)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quiet", type=float, default=60.0, help="seconds measured without a plan")
    parser.add_argument("--time-limit", type=float, default=60.0, help="the plan's MATCHING_TIME_LIMIT")
    parser.add_argument("--rate", type=float, default=1.0, help="requests a second per client")
    parser.add_argument("--clients", type=int, default=4, help="clients per endpoint")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="guru-bench-jobs-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    jobs_url = f"sqlite:///{workdir / 'jobs.db'}"
    started = time.monotonic()
    # Enough offers for every acceptor at the chosen pace through both phases (plan up to 3x its limit).
    per_acceptor = int(args.rate * (args.quiet + 3 * args.time_limit + 30)) + 1
    acceptors = args.clients * max(1, -(-per_acceptor // len(SLOTS)))
    data = build(url, acceptors, args.clients)
    print(f"district built in {time.monotonic() - started:.0f} s; {data['plan_sessions']} sessions in the plan's week")
    env = {"MATCHING_TIME_LIMIT": str(args.time_limit), "JOBS_URL": jobs_url, "JOBS_NAME": "bench"}
    server = Server(url, workdir, CLOCK_SECONDS="1", **env).start()
    worker = Worker(url, jobs_url, "bench", workdir, MATCHING_TIME_LIMIT=str(args.time_limit),
                    MATCHING_WORKERS=os.environ.get("MATCHING_WORKERS", "2")).start()  # fmt: skip
    load = Load(server.url, data, args.rate)
    tokens = list(data["offers"])
    threads = [threading.Thread(target=load.orders, args=(t, n)) for n, t in enumerate(data["operators"])]
    # Each accepting client works through the offers of its share of the benchmark's teachers.
    groups = [tokens[i :: args.clients] for i in range(args.clients)]
    threads += [
        threading.Thread(target=lambda g=g: [load.accepts(t) for t in g if not load.stop.is_set()]) for g in groups
    ]
    load_before = os.getloadavg()
    try:
        for t in threads:
            t.start()
        time.sleep(5)
        load.phase = "no plan"
        time.sleep(args.quiet)
        admin = {"Authorization": f"Bearer {data['admin']}"}
        body = {"from": data["plan_monday"].isoformat(), "to": (data["plan_monday"] + timedelta(days=6)).isoformat()}
        run = requests.post(f"{server.url}/api/v1/matching/runs", json=body, headers=admin, timeout=60).json()
        load.phase = "plan running"
        plan_began = time.monotonic()
        load_during, timeline = [], []  # (perf_counter, the run's phase)
        while run["status"] in ("queued", "running") and time.monotonic() - plan_began < 5 * args.time_limit + 300:
            time.sleep(0.5)
            load_during.append(os.getloadavg()[0])
            run = requests.get(f"{server.url}/api/v1/matching/runs/{run['id']}", headers=admin, timeout=60).json()
            timeline.append((time.perf_counter(), run["phase"] or run["status"]))
        plan_wall = time.monotonic() - plan_began
        load.phase = "after"
    finally:
        load.stop.set()
        for t in threads:
            t.join(180)
        worker.stop()
        server.stop()
    report(args, load, run, plan_wall, load_before, load_during, timeline)


def report(args, load: Load, run: dict, plan_wall: float, load_before, load_during, timeline) -> None:
    print(f"\nmachine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; SQLite; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; during the plan: "
          f"max {max(load_during, default=0):.2f}, mean {sum(load_during) / max(1, len(load_during)):.2f}")  # fmt: skip
    print(f"plan: {run['status']} {run.get('error') or ''} in {plan_wall:.0f} s wall ({run['seconds']:.0f} s in the "
          f"worker), {run['sessions']} open sessions, coverage {run['coverage']:.4f} (bound {run['bound']}), "
          f"{run['offers']} offers written; {args.clients} clients per endpoint at {args.rate}/s each")  # fmt: skip
    print(f"\n{'endpoint':<14} {'phase':<13} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'409':>4} {'5xx':>4}")
    p99 = {}
    for endpoint in ("POST /orders", "accept offer"):
        for phase in ("no plan", "plan running"):
            rows = [(ms, status) for e, p, ms, status, _ in load.results if e == endpoint and p == phase]
            times = [ms for ms, _ in rows]
            p99[endpoint, phase] = percentile(times, 0.99)
            conflicts = sum(1 for _, s in rows if s == 409)
            errors = sum(1 for _, s in rows if s >= 500)
            other = sorted({s for _, s in rows if s not in (200, 201, 409) and s < 500})
            print(f"{endpoint:<14} {phase:<13} {len(rows):>5} {percentile(times, 0.5):>8.0f} {p99[endpoint, phase]:>8.0f} "
                  f"{max(times, default=float('nan')):>8.0f} {conflicts:>4} {errors:>4}" + (f"  other: {other}" if other else ""))  # fmt: skip
    for endpoint in ("POST /orders", "accept offer"):
        ratio = p99[endpoint, "plan running"] / p99[endpoint, "no plan"]
        print(f"p99 with a plan / without, {endpoint}: {ratio:.2f}x (target within 2x)")
    slowest = sorted((r for r in load.results if r[1] == "plan running"), key=lambda r: -r[2])[:5]
    print("slowest during the plan, with the run's phase when each began:")
    for endpoint, _, ms, status, began in slowest:
        phase = next((p for t, p in reversed(timeline) if t <= began), "queued")
        print(f"  {endpoint:<14} {ms:>7.0f} ms  {status}  {phase}")


if __name__ == "__main__":
    main()
