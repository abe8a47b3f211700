"""Benchmark of the abuse limits under load, against a real server (gunicorn as `make run` starts it).

1. Ratings burst: STUDENTS students rate LESSONS lessons within SECONDS, behind ADDRESSES school
   networks (each network one address, given to the server as X-Forwarded-For through one trusted
   proxy, TRUSTED_PROXIES=1). Each student does what the phone does: opens the QR's page
   `/nilai/<code>` (device token cookie, CSRF token) and taps send (POST /nilai/<code>). Meanwhile
   one flooder behind its own address posts to `POST /api/v1/ratings` with a new `device` string
   each time. Reported: accepted, refused (by status), p50 and p99 of the student's send.
2. Login limiter: wrong passwords for one username from one address, then unknown usernames
   from another address; accepted / 401 / 429, and the mean time of a refused login for a known
   and an unknown username (they should be alike: no listing usernames by timing).

    .venv/bin/python bench/security.py [--students 2000] [--lessons 200] [--addresses 20] [--seconds 120]
                                       [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from config import TestingConfig  # noqa: E402
from dispatch import create_app  # noqa: E402
from dispatch.accounts.models import User  # noqa: E402
from dispatch.district.service import district_now, ensure_district  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.orders.models import LessonSession, Order  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.live_server import Server  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def build(url: str, lessons: int) -> list[str]:
    """A school, a teacher and `lessons` lessons held right now, each with its rating code; an admin."""
    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        ensure_district()
        f.kecamatan()
        school = f.school(npsn="10599999", level="SMP")
        teacher = f.teacher()
        now = district_now()
        minute = now.hour * 60 + now.minute
        start, end = max(0, minute - 30), min(24 * 60 - 1, minute + 50)
        codes = []
        for number in range(lessons):
            order = Order(school_id=school.npsn, subject="MTK", level="SMP", class_name=f"K{number}", reason="vacancy",
                          urgent=False, status="booked")  # fmt: skip
            code = f"B{number:05d}"
            order.sessions = [LessonSession(date=now.date(), start_min=start, end_min=end, periods=2, status="held",
                                            teacher_id=teacher.id, checked_in_at=now, rating_code=code)]  # fmt: skip
            db.session.add(order)
            codes.append(code)
        db.session.add(
            User(username="admin", role="district_admin", password_hash=generate_password_hash("right-password"))
        )
        db.session.commit()
    return codes


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


def student(server: Server, code: str, address: str) -> tuple[int, float]:
    with requests.Session() as phone:
        phone.headers["X-Forwarded-For"] = address
        page = phone.get(f"{server.url}/nilai/{code}", timeout=30)
        token = CSRF.search(page.text)
        if token is None:
            return page.status_code, 0.0
        started = time.perf_counter()
        sent = phone.post(f"{server.url}/nilai/{code}", data={"stars": "4", "tags": "jelas",
                                                               "csrf_token": token.group(1)}, timeout=30)  # fmt: skip
        return sent.status_code, (time.perf_counter() - started) * 1000


def flooder(server: Server, codes: list[str], stop: threading.Event, out: Counter) -> None:
    number = 0
    with requests.Session() as bot:
        bot.headers["X-Forwarded-For"] = "198.51.100.66"
        while not stop.is_set():
            body = {"code": codes[number % len(codes)], "stars": 1, "device": f"bot-device-{number:06d}"}
            out[bot.post(f"{server.url}/api/v1/ratings", json=body, timeout=30).status_code] += 1
            number += 1
            time.sleep(0.02)


def ratings_burst(server: Server, codes: list[str], students: int, addresses: int, seconds: float) -> dict:
    plan = [(codes[i % len(codes)], f"203.0.113.{1 + i % addresses}") for i in range(students)]
    results: list[tuple[int, float]] = []
    flood: Counter = Counter()
    stop = threading.Event()
    flood_thread = threading.Thread(target=flooder, args=(server, codes, stop, flood), daemon=True)
    flood_thread.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=48) as pool:
        futures = []
        for i, (code, address) in enumerate(plan):
            delay = started + seconds * i / students - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(student, server, code, address))
        results = [future.result() for future in futures]
    elapsed = time.monotonic() - started
    stop.set()
    flood_thread.join()
    statuses = Counter(status for status, _ in results)
    latencies = [ms for status, ms in results if status == 201]
    return {"elapsed": elapsed, "statuses": statuses, "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99), "flood": flood}  # fmt: skip


def login_burst(server: Server) -> dict:
    known, unknown = Counter(), Counter()
    known_ms, unknown_ms = [], []
    with requests.Session() as client:
        client.headers["X-Forwarded-For"] = "192.0.2.10"
        for i in range(60):
            started = time.perf_counter()
            response = client.post(
                f"{server.url}/api/v1/auth/token", json={"username": "admin", "password": f"wrong-{i}"}
            )
            known[response.status_code] += 1
            if response.status_code == 401:
                known_ms.append((time.perf_counter() - started) * 1000)
    with requests.Session() as client:
        client.headers["X-Forwarded-For"] = "192.0.2.20"
        for i in range(80):
            started = time.perf_counter()
            response = client.post(f"{server.url}/api/v1/auth/token", json={"username": f"ghost-{i}", "password": "x"})
            unknown[response.status_code] += 1
            if response.status_code == 401:
                unknown_ms.append((time.perf_counter() - started) * 1000)
    right = requests.post(f"{server.url}/api/v1/auth/token", json={"username": "admin", "password": "right-password"},
                          headers={"X-Forwarded-For": "192.0.2.30"})  # fmt: skip
    return {"known": known, "unknown": unknown, "known_ms": statistics.mean(known_ms),
            "unknown_ms": statistics.mean(unknown_ms), "right_elsewhere": right.status_code}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--lessons", type=int, default=200)
    parser.add_argument("--addresses", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        if url.startswith("postgresql"):
            import sqlalchemy as sa

            schema = f"bench_security_{os.getpid()}"
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.begin() as conn:
                conn.execute(sa.text(f'create schema "{schema}"'))
            url = f"{url}?options=-csearch_path%3D{schema}"
        codes = build(url, args.lessons)
        # Production's password hashing (scrypt) so that the timing of refused logins is real.
        server = Server(url, Path(folder), TRUSTED_PROXIES="1", CLOCK_SECONDS="1", SERVER_THREADS="200",
                        SECRET_KEY="bench-secret-key-0123456789")  # fmt: skip
        server.start()
        try:
            print(f"# bench/security.py — {datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {os.cpu_count()} cores, "
                  f"load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}, "
                  f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}")  # fmt: skip
            burst = ratings_burst(server, codes, args.students, args.addresses, args.seconds)
            logins = login_burst(server)
        finally:
            server.stop()
        if url.startswith("postgresql"):
            with engine.begin() as conn:
                conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    statuses = burst["statuses"]
    print(f"\n## Ratings: {args.students} students, {args.lessons} lessons, {args.addresses} addresses, "
          f"{burst['elapsed']:.0f} s\n")  # fmt: skip
    print("| who | accepted (201) | refused | send p50 | send p99 |")
    print("|---|---|---|---|---|")
    refused = ", ".join(f"{n} × {s}" for s, n in sorted(statuses.items()) if s != 201) or "0"
    print(f"| students (page) | {statuses[201]} | {refused} | {burst['p50']:.0f} ms | {burst['p99']:.0f} ms |")
    flood = burst["flood"]
    print(
        f"| flooder (API, new device each time, one address) | {flood[201]} | "
        + ", ".join(f"{n} × {s}" for s, n in sorted(flood.items()) if s != 201)
        + " | | |"
    )
    print("\n## Logins\n")
    print("| attempts | 401 | 429 | mean time of a refusal |")
    print("|---|---|---|---|")
    print(f"| 60 wrong passwords for `admin`, one address | {logins['known'][401]} | {logins['known'][429]} | "
          f"{logins['known_ms']:.0f} ms |")  # fmt: skip
    print(f"| 80 unknown usernames, another address | {logins['unknown'][401]} | {logins['unknown'][429]} | "
          f"{logins['unknown_ms']:.0f} ms |")  # fmt: skip
    print(
        f"\nThe right password for `admin` from a third address meanwhile: {logins['right_elsewhere']} "
        "(the username's limit counts failures: it still refuses until the window moves)."
    )


if __name__ == "__main__":
    main()
