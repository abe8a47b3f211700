"""Page weight: every page's first load (empty cache), bytes transferred, and its time on a slow phone network.

Starts gunicorn as `make run` does on a fresh SQLite database holding a small district (the tests'
world, with an offer, a booked lesson and a held one), opens each page in the system's headless
Chromium at 360×740 with an empty cache, and sums what the network carried (DevTools
`encodedDataLength`: headers and bodies as sent, API calls and the Socket.IO handshake
included, websocket frames not). The slow network is DevTools' emulation of a weak 3G signal
(400 ms round trip, 400 kbit/s down, 400 kbit/s up). Budget: 150 KB per page.

    .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from config import TestingConfig  # noqa: E402
from dispatch import create_app, workflow  # noqa: E402
from dispatch.district.service import district_now, ensure_district  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.offers.models import Offer  # noqa: E402
from dispatch.orders.models import LessonSession  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.dispatch_world import build_world  # noqa: E402
from tests.live_server import Server  # noqa: E402

BUDGET = 150 * 1024
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1024 / 8, "uploadThroughput": 400 * 1024 / 8}


def build(url: str) -> tuple[int, str]:
    """The small district, with something on every page; returns a held session's id (the QR card) and
    its rating code (the student's page)."""
    app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        db.create_all()
        ensure_district()
        world = build_world()
        now = district_now()
        today = now.date()
        held = LessonSession(
            date=today, start_min=0, end_min=1, periods=1, status="held", teacher_id=world.teacher_1.id
        )
        booked = LessonSession(date=today + timedelta(days=1), start_min=450, end_min=530, periods=2, status="booked",
                               teacher_id=world.teacher_1.id)  # fmt: skip
        f.order(world.school_a, sessions=[held, booked], class_name="IX B")
        db.session.add(Offer(order_id=world.order_a.id, teacher_id=world.teacher_1.id,
                             session_ids=[world.order_a.sessions[0].id], status="open", wave=1,
                             expires_at=now + timedelta(hours=2)))  # fmt: skip
        db.session.commit()
        code, _ = workflow.rating_code(world.op_a, held.id)
        db.session.commit()
        return held.id, code


def weigh(browser, server: Server, username: str | None, path: str, slow: bool) -> tuple[int, int, float]:
    """(requests, bytes, seconds until the network is idle) for the first load of `path`."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID", service_workers="block")
    page = context.new_page()
    if username:
        page.goto(f"{server.url}/masuk")
        page.fill("#username", username)
        page.fill("#password", "secret-password")
        page.click("button.primary")
        page.wait_for_load_state("networkidle")
    fresh = context.new_page()  # a new page: its own memory cache, nothing loaded yet
    page.close()
    cdp = context.new_cdp_session(fresh)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if slow:
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    sizes: list[int] = []
    cdp.on("Network.loadingFinished", lambda e: sizes.append(int(e["encodedDataLength"])))
    started = time.monotonic()
    fresh.goto(f"{server.url}{path}", wait_until="networkidle", timeout=120_000)
    seconds = time.monotonic() - started
    context.close()
    return len(sizes), sum(sizes), seconds


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no Chromium: apt-get install chromium")
    folder = Path(tempfile.mkdtemp(prefix="guru-pages-"))
    url = f"sqlite:///{folder / 'pages.db'}"
    held, code = build(url)
    server = Server(url, folder, CLOCK_SECONDS="0").start()
    pages = [
        (None, "/masuk", "login"),
        ("guru-1", "/guru", "teacher app (offers, open, week, ratings)"),
        ("op-a", "/sekolah", "school: orders and the order form"),
        ("op-a", "/sekolah/guru", "school: favourite and blocked teachers"),
        ("op-a", f"/sekolah/kode/{held}", "school: the rating QR card"),
        ("admin", "/dinas", "district office: shortage, map, plans, what-if"),
        ("admin", "/dinas/laporan", "district office: monthly report (print to PDF)"),
        (None, "/nilai", "student: type a lesson's code"),
        (None, f"/nilai/{code}", "student: rate a lesson (the QR's address)"),
    ]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                  f"load average {os.getloadavg()[0]:.2f} (shared machine)")  # fmt: skip
            print(f"{'page':<28} {'requests':>8} {'KB':>7} {'budget':>7} {'slow 3G s':>9}  what")
            print("-" * 96)
            for username, path, what in pages:
                count, size, _ = weigh(browser, server, username, path, slow=False)
                _, _, slow_seconds = weigh(browser, server, username, path, slow=True)
                verdict = "ok" if size <= BUDGET else "OVER"
                print(f"{path:<28} {count:>8} {size / 1024:>7.1f} {verdict:>7} {slow_seconds:>9.1f}  {what}")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
