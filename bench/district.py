"""The district office on the demo district: the what-if "+100 teachers of MTK and IPA living in the
worst-covered kecamatan" (time to answer; coverage before and after per kecamatan), and the dashboard's
load time with a term of lessons (first byte and full load, in a real browser).

    .venv/bin/python bench/district.py [--whatif-limit 20] [--weeks 20] [--db /tmp/bench-district.db]

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
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch import create_app  # noqa: E402
from dispatch.coverage.service import coverage  # noqa: E402
from dispatch.demo import next_monday, seed_demo  # noqa: E402
from dispatch.district.models import Kecamatan  # noqa: E402
from dispatch.district.service import district_today  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.planning import build_week_instance  # noqa: E402
from matching.whatif import what_if  # noqa: E402
from tests.conftest import make_config  # noqa: E402
from tests.live_server import Server  # noqa: E402


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_what_if(app, limit: float) -> None:
    with app.app_context():
        monday = next_monday(district_today())
        week = coverage(monday, monday + timedelta(days=6), "kecamatan", sort="worst")
        worst = week["rows"][0]
        names = {k.code: k.name for k in db.session.scalars(db.select(Kecamatan))}
        spec = {"count": 100, "subjects": ["MTK", "IPA"], "levels": ["SMP", "SMA", "SMK"],
                "kecamatan_code": worst["key"], "radius_km": 15.0, "max_periods": 24}  # fmt: skip
        began = time.monotonic()
        instance = build_week_instance(monday)
        built = time.monotonic() - began
        result = what_if(instance, [spec], time_limit=limit, workers=2)
        seconds = time.monotonic() - began
    print(f"\nWhat-if +100 MTK/IPA teachers (SMP, SMA, SMK) living in {worst['name']} (worst covered, "
          f"{worst['coverage']:.1%}), radius 15 km, 24 JP; solver {limit:g} s in all; load {load()}")  # fmt: skip
    print(f"time to answer: {seconds:.1f} s (instance built in {built:.1f} s)")
    print(f"coverage of the week's weight: {result['current']['coverage'] / result['current']['total_weight']:.4f} -> "
          f"{result['with_added']['coverage'] / result['with_added']['total_weight']:.4f}")  # fmt: skip
    before = {r["key"]: r for r in result["current"]["by_area"]}
    after = {r["key"]: r for r in result["with_added"]["by_area"]}
    # Weight: sessions, urgent ones twice (what the planner maximises).
    print(f"{'kecamatan':24} {'weight':>7} {'before':>7} {'after':>7} {'+covered':>9}")
    for key in sorted(before, key=lambda k: after[k]["covered"] - before[k]["covered"], reverse=True):
        b, a = before[key], after[key]
        print(f"{names.get(key, key)[:24]:24} {b['weight']:7.0f} {b['coverage']:7.3f} {a['coverage']:7.3f} "
              f"{a['covered'] - b['covered']:9.0f}")  # fmt: skip


def term_of_lessons(app, weeks: int) -> int:
    """Copy the demo week's sessions to the weeks before and after it (a term): past weeks mostly held."""
    with app.app_context():
        monday = next_monday(district_today())
        engine = db.engine
        with engine.begin() as conn:
            for k in range(-(weeks // 2), weeks - weeks // 2):
                if k == 0:
                    continue
                status = "CASE WHEN abs(random()) % 100 < 72 THEN 'held' ELSE 'open' END" if k < 0 else "'open'"
                conn.exec_driver_sql(
                    "INSERT INTO lesson_session (order_id, date, start_min, end_min, periods, status, teacher_id) "
                    f"SELECT order_id, date(date, '{7 * k:+d} days'), start_min, end_min, periods, {status}, "
                    f"CASE WHEN {k} < 0 THEN 1 + abs(random()) % 1500 END FROM lesson_session "
                    f"WHERE date BETWEEN '{monday.isoformat()}' AND date('{monday.isoformat()}', '+6 days') "
                    "AND id <= (SELECT max(id) FROM lesson_session)"
                )
            conn.exec_driver_sql("UPDATE lesson_session SET teacher_id = NULL WHERE status = 'open'")
            return conn.exec_driver_sql("SELECT count(*) FROM lesson_session").scalar()


def bench_dashboard(url: str, folder: Path, rounds: int) -> None:
    from playwright.sync_api import sync_playwright

    server = Server(url, folder, CLOCK_SECONDS="0").start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(f"{server.url}/masuk")
            page.fill("#username", "admin")
            page.fill("#password", "bungo-admin")
            page.click("button.primary")
            page.wait_for_selector("#kpi-shortage")
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
    parser.add_argument("--whatif-limit", type=float, default=20.0)
    parser.add_argument("--weeks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", default="/tmp/bench-district.db")
    args = parser.parse_args()
    Path(args.db).unlink(missing_ok=True)
    url = f"sqlite:///{args.db}"
    app = create_app(make_config(url))
    with app.app_context():
        db.create_all()
        seed_demo(progress=lambda _: None)
        db.session.commit()
    print(f"machine: {os.uname().nodename}, {os.cpu_count()} cores; load {load()}")
    bench_what_if(app, args.whatif_limit)
    sessions = term_of_lessons(app, args.weeks)
    print(f"\nterm: {args.weeks} weeks, {sessions} sessions")
    bench_dashboard(url, Path(args.db).parent, args.rounds)


if __name__ == "__main__":
    main()
