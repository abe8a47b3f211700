"""The district office on the demo district: the what-if "+100 teachers of MTK and IPA living in the
worst-covered kecamatan" through a real server and the real job worker (time to answer; coverage before
and after per kecamatan), and the dashboard's load time with a term of lessons (first byte and full load,
in a real browser, the server's clock running).

    .venv/bin/python bench/district.py [--whatif-limit 60] [--weeks 20] [--db /tmp/bench-district.db]

Prints tables for bench/RESULTS.md. The machine is shared: note the load average printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from dispatch import create_app  # noqa: E402
from dispatch.demo import next_monday, seed_demo  # noqa: E402
from dispatch.district.service import district_today  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from tests.conftest import make_config  # noqa: E402
from tests.jobs.worker_process import Worker  # noqa: E402
from tests.live_server import Server  # noqa: E402


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_what_if(url: str, folder: Path, limit: float, monday: date) -> None:
    """The what-if as the district office runs it: POST /api/v1/matching/what-if to a real server, the
    job worker (`flask jobs-worker`, as `make run` starts it) solves it; polled until done."""
    jobs = {"JOBS_URL": f"sqlite:///{folder / 'bench-district-jobs.db'}", "JOBS_NAME": "bench-district"}
    solver = {"MATCHING_WHATIF_TIME_LIMIT": f"{limit:g}", "MATCHING_WORKERS": "2"}
    server = Server(url, folder, **jobs, **solver).start()
    worker = Worker(url, jobs["JOBS_URL"], jobs["JOBS_NAME"], folder, **solver).start()
    try:
        admin = {"Authorization": "Bearer " + requests.post(
            f"{server.url}/api/v1/auth/token", json={"username": "admin", "password": "bungo-admin"}
        ).json()["token"]}  # fmt: skip
        kecamatan = requests.get(f"{server.url}/api/v1/kecamatan", headers=admin).json()
        names = {k["code"]: k["name"] for k in kecamatan}
        week = {"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}
        worst = requests.get(f"{server.url}/api/v1/coverage", params={**week, "by": "kecamatan", "sort": "worst"},
                             headers=admin).json()["rows"][0]  # fmt: skip
        spec = {"count": 100, "subjects": ["MTK", "IPA"], "levels": ["SMP", "SMA", "SMK"],
                "kecamatan_code": worst["key"], "radius_km": 15.0, "max_periods": 24}  # fmt: skip
        began = time.monotonic()
        posted = requests.post(f"{server.url}/api/v1/matching/what-if", json={**week, "add_teachers": [spec]},
                               headers={**admin, "Idempotency-Key": "bench-what-if"})  # fmt: skip
        queued = time.monotonic() - began
        assert posted.status_code == 202, posted.text
        phases = []
        while True:
            run = requests.get(f"{server.url}/api/v1/matching/runs/{posted.json()['id']}", headers=admin).json()
            if run["phase"] and (not phases or phases[-1][1] != run["phase"]):
                phases.append((time.monotonic() - began, run["phase"]))
            if run["status"] in ("done", "failed", "cancelled"):
                break
            time.sleep(0.5)
        seconds = time.monotonic() - began
    finally:
        worker.stop()
        server.stop()
    assert run["status"] == "done", run
    result = run["result"]
    before, after = result["before"], result["after"]
    print(f"\nWhat-if +100 MTK/IPA teachers (SMP, SMA, SMK) living in {worst['name']} (worst covered this week, "
          f"{worst['coverage']:.1%}, {worst['unfilled_periods']} JP unfilled), radius 15 km, 24 JP; through the "
          f"job worker, MATCHING_WHATIF_TIME_LIMIT={limit:g} s per plan (two plans); load {load()}")  # fmt: skip
    print(f"202 after {queued * 1000:.0f} ms; time to answer (POST to done): {seconds:.1f} s "
          f"(the worker's own count: {run['seconds']:.1f} s)")  # fmt: skip
    for at, phase in phases:
        print(f"  {at:6.1f} s  {phase}")
    print(f"coverage: {before['coverage']:.4f} -> {after['coverage']:.4f} (+{result['gain']['coverage'] * 100:.2f} points); "
          f"periods filled {before['covered_periods']} -> {after['covered_periods']} "
          f"(+{result['gain']['covered_periods']} JP, +{result['gain']['teacher_equivalents']} teacher-equivalents); "
          f"bound {before['bound']} -> {after['bound']}")  # fmt: skip
    rows_after = {r["key"]: r for r in after["by_kecamatan"]}
    print(f"{'kecamatan':24} {'JP':>6} {'before':>7} {'after':>7} {'+JP':>5}")
    rows = sorted(before["by_kecamatan"],
                  key=lambda r: (rows_after[r["key"]]["covered_periods"] - r["covered_periods"], -r["coverage"]),
                  reverse=True)  # fmt: skip
    for b in rows:
        a = rows_after[b["key"]]
        print(f"{names.get(b['key'], b['key'])[:24]:24} {b['periods']:6} {b['coverage']:7.3f} {a['coverage']:7.3f} "
              f"{a['covered_periods'] - b['covered_periods']:5}")  # fmt: skip


def term_of_lessons(app, weeks: int) -> int:
    """Copy the demo week's sessions to the weeks before and after it (a term): past weeks mostly held."""
    with app.app_context():
        monday = next_monday(district_today())
        engine = db.engine
        with engine.begin() as conn:
            for k in range(-(weeks // 2), weeks - weeks // 2):
                if k == 0:
                    continue
                # Past weeks as the clock leaves them: held, or expired when nobody took the lesson (left
                # open, the server's clock would expire tens of thousands at its first tick).
                status = "CASE WHEN abs(random()) % 100 < 72 THEN 'held' ELSE 'expired' END" if k < 0 else "'open'"
                conn.exec_driver_sql(
                    "INSERT INTO lesson_session (order_id, date, start_min, end_min, periods, status, teacher_id) "
                    f"SELECT order_id, date(date, '{7 * k:+d} days'), start_min, end_min, periods, {status}, "
                    f"CASE WHEN {k} < 0 THEN 1 + abs(random()) % 1500 END FROM lesson_session "
                    f"WHERE date BETWEEN '{monday.isoformat()}' AND date('{monday.isoformat()}', '+6 days') "
                    "AND id <= (SELECT max(id) FROM lesson_session)"
                )
            conn.exec_driver_sql("UPDATE lesson_session SET teacher_id = NULL WHERE status IN ('open', 'expired')")
            return conn.exec_driver_sql("SELECT count(*) FROM lesson_session").scalar()


def bench_dashboard(url: str, folder: Path, rounds: int) -> None:
    from playwright.sync_api import sync_playwright

    server = Server(url, folder, CLOCK_SECONDS="1").start()  # the clock runs, as in production
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(f"{server.url}/masuk")
            page.fill("#username", "admin")
            page.fill("#password", "bungo-admin")
            page.click("button.primary")
            page.wait_for_selector("#kpi-shortage", timeout=120_000)
            first, full, size = [], [], 0
            for _ in range(rounds):
                page.goto(f"{server.url}/dinas", wait_until="load")
                nav = json.loads(page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])"))
                first.append(nav["responseStart"] - nav["requestStart"])
                full.append(nav["loadEventEnd"] - nav["startTime"])
                size = nav["transferSize"]
            browser.close()
    finally:
        server.stop()
    print(f"\nDashboard /dinas with a term of lessons, desktop Chromium, {rounds} loads; load {load()}")
    print(f"{'':12} {'median ms':>10} {'max ms':>8}")
    print(f"{'first byte':12} {statistics.median(first):10.0f} {max(first):8.0f}")
    print(f"{'full load':12} {statistics.median(full):10.0f} {max(full):8.0f}")
    print(f"page size: {size / 1024:.0f} KiB (HTML, uncompressed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--whatif-limit", type=float, default=60.0, help="solver seconds per plan (the default's)")
    parser.add_argument("--weeks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", default="/tmp/bench-district.db")
    parser.add_argument("--no-what-if", action="store_true", help="the dashboard's load only")
    args = parser.parse_args()
    Path(args.db).unlink(missing_ok=True)
    url = f"sqlite:///{args.db}"
    app = create_app(make_config(url))
    with app.app_context():
        db.create_all()
        seed_demo(progress=lambda _: None)
        db.session.commit()
    print(f"machine: {os.uname().nodename}, {os.cpu_count()} cores; load {load()}")
    with app.app_context():
        monday = next_monday(district_today())  # the demo's week
    if not args.no_what_if:
        bench_what_if(url, Path(args.db).parent, args.whatif_limit, monday)
    sessions = term_of_lessons(app, args.weeks)
    print(f"\nterm: {args.weeks} weeks, {sessions} sessions")
    bench_dashboard(url, Path(args.db).parent, args.rounds)


if __name__ == "__main__":
    main()
