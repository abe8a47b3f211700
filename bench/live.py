"""Benchmark of live dispatch: 1,500 teachers' phones connected to one server process.

Builds the demo district's places and 1,500 generated teachers (each with a login) in a
fresh database, starts gunicorn as `make run` does, connects one Socket.IO client per
teacher (websocket), then measures:

- latency: an urgent order posted by a school → each offer of its first wave received
  on the teacher's phone (p50, p99, max), orders posted one after another;
- burst: many urgent orders posted at once by several schools: offers pushed per second;
- raw push (with --redis): events emitted through Redis to every teacher's room, the rate
  at which the server process delivers them;
- the server process's memory with every phone connected.

    .venv/bin/python bench/live.py [--teachers 1500] [--orders 100] [--burst 200] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
import socketio  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from config import TestingConfig  # noqa: E402
from dispatch import create_app  # noqa: E402
from dispatch.accounts.auth import issue_token  # noqa: E402
from dispatch.accounts.models import User  # noqa: E402
from dispatch.demo import seed_places, seed_teachers  # noqa: E402
from dispatch.district.service import ensure_district  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.offers.models import Offer  # noqa: E402
from dispatch.schools.models import School  # noqa: E402
from dispatch.teachers.models import Teacher  # noqa: E402
from tests.live_server import Server  # noqa: E402


def build_district(url: str, teachers: int) -> tuple[dict[int, str], list[tuple[str, str, str]]]:
    """Places and teachers in a fresh database; returns teacher tokens and (school, level, operator token)."""
    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        ensure_district()
        seed_places()
        seed_teachers(teachers, random.Random(7))
        password = generate_password_hash("bench", method="pbkdf2:sha256:1000")
        teacher_ids = db.session.scalars(db.select(Teacher.id).order_by(Teacher.id)).all()
        db.session.add_all(
            User(username=f"guru-{tid}", password_hash=password, role="teacher", teacher_id=tid) for tid in teacher_ids
        )
        schools = db.session.scalars(db.select(School).where(School.level.in_(("SD", "SMP"))).order_by(School.npsn))
        schools = list(schools)
        random.Random(11).shuffle(schools)
        operators = []
        for school in schools[:40]:
            user = User(username=f"op-{school.npsn}", password_hash=password, role="school_operator",
                        school_id=school.npsn)  # fmt: skip
            db.session.add(user)
            operators.append((school, user))
        db.session.commit()
        tokens = {
            u.teacher_id: issue_token(u)
            for u in db.session.scalars(db.select(User).where(User.teacher_id.is_not(None)))
        }
        ops = [(s.npsn, s.level, issue_token(u)) for s, u in operators]
    return tokens, ops


class Phones:
    """Every teacher's phone, in one asyncio loop; each offer received is stamped with the time."""

    def __init__(self, url: str, tokens: dict[int, str]):
        self.url, self.tokens = url, tokens
        self.offers: dict[int, list[float]] = {}  # order id -> receive times
        self.received = 0
        self.other = 0
        self.clients: list[socketio.AsyncClient] = []

    def _on_offer(self, data):
        self.offers.setdefault(data["order_id"], []).append(time.monotonic())
        self.received += 1

    def _on_other(self, data):
        self.other += 1

    async def connect_all(self, concurrency: int = 50) -> float:
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()

        async def one(token):
            client = socketio.AsyncClient(reconnection=False)
            client.on("offer", self._on_offer)
            client.on("offer_closed", self._on_other)
            client.on("ping_bench", self._on_other)
            async with gate:
                await client.connect(self.url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
            self.clients.append(client)

        await asyncio.gather(*(one(t) for t in self.tokens.values()))
        return time.monotonic() - started

    async def close(self):
        await asyncio.gather(*(c.disconnect() for c in self.clients), return_exceptions=True)


def order_body(level: str, day: date, start: str) -> dict:
    subject = "MTK" if level == "SMP" else "GK"
    end = f"{int(start[:2]) + 1:02d}{start[2:]}"
    return {"subject": subject, "level": level, "class_name": "Bench", "reason": "substitute", "urgent": True,
            "sessions": [{"date": day.isoformat(), "start": start, "end": end}]}  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(server: Server, tokens, operators, orders: int, burst: int, redis_url: str | None):
    phones = Phones(server.url, tokens)
    connect_seconds = await phones.connect_all()
    rss = server_rss_mb(server)
    day = date.today() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    results = {"connected": len(phones.clients), "connect_s": connect_seconds, "rss_mb": rss}
    async with aiohttp.ClientSession() as http:
        # 1. One urgent order at a time: posted -> first wave on the phones.
        first, every, posted_ms, expected = [], [], [], 0
        for i in range(orders):
            npsn, level, token = operators[i % len(operators)]
            body = order_body(level, day, ["07:00", "09:00", "11:00"][i % 3])
            t0 = time.monotonic()
            async with http.post(f"{server.url}/api/v1/orders", json=body,
                                 headers={"Authorization": f"Bearer {token}"}) as response:  # fmt: skip
                order = await response.json()
                assert response.status == 201, order
            posted_ms.append((time.monotonic() - t0) * 1000)
            count = offers_of(server, order["id"])
            expected += count
            deadline = time.monotonic() + 5
            while len(phones.offers.get(order["id"], [])) < count and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
            got = phones.offers.get(order["id"], [])
            if got:
                if (min(got) - t0) * 1000 > 150:
                    print(
                        f"  slow: order {i} ({npsn}): {(min(got) - t0) * 1000:.0f} ms, POST {posted_ms[-1]:.0f} ms",
                        flush=True,
                    )
                first.append((min(got) - t0) * 1000)
                every.extend((t - t0) * 1000 for t in got)
        results.update(orders=orders, offers_expected=expected, offers_received=sum(len(v) for v in phones.offers.values()),
                       post_ms_p50=statistics.median(posted_ms), first_p50=percentile(first, 0.5),
                       first_p99=percentile(first, 0.99), every_p50=percentile(every, 0.5),
                       every_p99=percentile(every, 0.99), every_max=max(every))  # fmt: skip

        # 2. A burst of urgent orders from many schools at once.
        before = phones.received
        gate = asyncio.Semaphore(16)
        failed: list = []

        async def post(i):
            npsn, level, token = operators[i % len(operators)]
            async with gate:
                body = order_body(level, day + timedelta(days=7), ["07:00", "09:00", "11:00"][i % 3])
                async with http.post(f"{server.url}/api/v1/orders", json=body,
                                     headers={"Authorization": f"Bearer {token}"}) as response:  # fmt: skip
                    answer = await response.json()
                    if response.status != 201:
                        failed.append((response.status, answer.get("message")))
                        return None
                    return answer["id"]

        t0 = time.monotonic()
        ids = await asyncio.gather(*(post(i) for i in range(burst)))
        wanted = sum(offers_of(server, i) for i in ids if i is not None)
        deadline = time.monotonic() + 30
        while phones.received - before < wanted and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        took = time.monotonic() - t0
        results.update(burst_orders=burst, burst_offers=phones.received - before, burst_wanted=wanted,
                       burst_s=took, burst_orders_per_s=burst / took,
                       burst_offers_per_s=(phones.received - before) / took, burst_failed=failed)  # fmt: skip

    # 3. Raw push through Redis: every teacher's room, several rounds.
    if redis_url:
        emitter = socketio.AsyncRedisManager(redis_url, channel=server.env["SOCKETIO_CHANNEL"], write_only=True)
        rounds, before = 10, phones.other
        t0 = time.monotonic()
        for _ in range(rounds):
            for teacher_id in tokens:
                await emitter.emit("ping_bench", {"n": 1}, room=f"teacher:{teacher_id}", namespace="/")
        wanted = rounds * len(tokens)
        deadline = time.monotonic() + 60
        while phones.other - before < wanted and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        took = time.monotonic() - t0
        results.update(raw_events=phones.other - before, raw_wanted=wanted, raw_per_s=(phones.other - before) / took)
    results["rss_after_mb"] = server_rss_mb(server)
    await phones.close()
    return results


_DB_URL = ""


def offers_of(server: Server, order_id: int) -> int:
    """How many offers the server made for the order (read from the database, to count what was lost)."""
    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": _DB_URL})
    global _APP
    if _APP is None:
        _APP = create_app(config)
    with _APP.app_context():
        return db.session.scalar(db.select(db.func.count(Offer.id)).where(Offer.order_id == order_id))


_APP = None


def server_rss_mb(server: Server) -> float:
    """Resident memory of the gunicorn worker (the master's child)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(server.process.pid):
            total += int(fields["VmRSS"].split()[0])
    return total / 1024


def main() -> None:
    global _DB_URL
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=1500)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--database", default="", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--redis", default="", help="a Redis URL: the server uses it, and the raw push is measured")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="guru-bench-"))
    _DB_URL = args.database or f"sqlite:///{workdir / 'bench.db'}"
    started = time.monotonic()
    tokens, operators = build_district(_DB_URL, args.teachers)
    print(f"district built in {time.monotonic() - started:.1f} s: {len(tokens)} teachers, {len(operators)} schools")
    server = Server(_DB_URL, workdir, redis_url=args.redis or None, SERVER_THREADS=str(args.teachers + 500),
                    CLOCK_SECONDS="1").start()  # fmt: skip
    try:
        r = asyncio.run(measure(server, tokens, operators, args.orders, args.burst, args.redis or None))
    finally:
        server.stop()
    print(f"\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"database {'PostgreSQL' if _DB_URL.startswith('postgres') else 'SQLite'}; Redis {'yes' if args.redis else 'no'}")  # fmt: skip
    rows = [
        ("phones connected", f"{r['connected']} in {r['connect_s']:.1f} s"),
        ("server memory, all connected", f"{r['rss_mb']:.0f} MB (after the run: {r['rss_after_mb']:.0f} MB)"),
        ("urgent orders posted one by one", f"{r['orders']} (POST answered in {r['post_ms_p50']:.0f} ms p50)"),
        ("offers made / received", f"{r['offers_expected']} / {r['offers_received']}"),
        ("order posted -> first offer on a phone", f"p50 {r['first_p50']:.0f} ms, p99 {r['first_p99']:.0f} ms"),
        (
            "order posted -> every offer of the wave",
            f"p50 {r['every_p50']:.0f} ms, p99 {r['every_p99']:.0f} ms, max {r['every_max']:.0f} ms",
        ),  # fmt: skip
        (
            "burst: urgent orders at once (16 in flight)",
            f"{r['burst_orders']} in {r['burst_s']:.1f} s = {r['burst_orders_per_s']:.0f} orders/s",
        ),  # fmt: skip
        ("burst: orders refused", f"{len(r['burst_failed'])} {sorted(set(map(str, r['burst_failed'])))[:3]}"),
        (
            "burst: offers pushed",
            f"{r['burst_offers']} of {r['burst_wanted']} = {r['burst_offers_per_s']:.0f} offers/s",
        ),  # fmt: skip
    ]
    if "raw_per_s" in r:
        rows.append(
            ("raw push through Redis", f"{r['raw_events']} of {r['raw_wanted']} = {r['raw_per_s']:.0f} events/s")
        )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
