"""The district office's pages in a real browser (headless system Chromium, Playwright) against a real
server *and a real job worker* (as `make run` starts them) on the demo district, with the server's clock
on: the shortage with kecamatan names and the map at 1366x768 and 360x740; rollout from the table, and
what the school's page says about it; a weekly plan and what-if scenarios started from the page, followed
as jobs to their results, scenarios side by side with the numbers of the API; every export downloaded and
parsed; the English pages. Every page is checked against the real Content-Security-Policy (no violation in
the console) and axe-core; screenshots go to tests/screenshots/ (not committed) to be looked at.

Under GURU_REQUIRE_SERVICES (.ci/run) a missing Chromium or axe-core fails the run; elsewhere these tests
skip with the reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook

from dispatch import create_app
from dispatch.demo import seed_demo
from dispatch.extensions import db
from dispatch.schools.models import School
from tests import factories as f
from tests.browser import SCREENSHOTS as SHOTS
from tests.conftest import make_config
from tests.dispatch.conftest import redis_url  # noqa: F401  (a fixture: Redis, or a skip with the reason)
from tests.jobs.worker_process import Worker
from tests.live_server import Server

DESKTOP, PHONE = {"width": 1366, "height": 768}, {"width": 360, "height": 740}
# Small runs plan two kecamatan: the town (nearly all covered) and Pelepat (about 73%: room for hires).
TOWN, SECOND = "15.08.03", "15.08.06"
RUN_TIMEOUT = 240_000  # ms: only catches a run that never ends (the solver has 2 s a week)
# Fast solves for the page tests: the same code paths, a short deterministic budget.
SOLVER = {"MATCHING_TIME_LIMIT": "2", "MATCHING_WHATIF_TIME_LIMIT": "2", "MATCHING_WORKERS": "1"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The whole demo district (1,500 teachers, 28,800 periods a week) in a SQLite file; a gunicorn server
    with its clock running, and the job worker beside it on the same database and queue."""
    folder = tmp_path_factory.mktemp("district")
    url = f"sqlite:///{folder / 'demo.db'}"
    app = create_app(make_config(url))
    with app.app_context():
        db.create_all()
        seed_demo(progress=lambda _: None)
        f.user("district_admin", username="dinas-en", language="en")  # the English pages' reader
        db.session.commit()
        town_school = db.session.scalars(
            db.select(School).where(School.kecamatan_code == TOWN, School.level == "SD").order_by(School.npsn)
        ).first()
    jobs = {"JOBS_URL": f"sqlite:///{folder / 'jobs.db'}", "JOBS_NAME": f"guru-district-{uuid.uuid4().hex[:8]}"}
    server = Server(url, folder, CLOCK_SECONDS="1", **jobs, **SOLVER).start()
    worker = Worker(url, jobs["JOBS_URL"], jobs["JOBS_NAME"], folder, **SOLVER).start()
    yield {"server": server, "worker": worker, "town_school": town_school.npsn, "url": url, "folder": folder}
    worker.stop()
    server.stop()


def watch(page, server):
    """What must stay empty: requests to the internet, script errors, CSP violations (the real header)."""
    page.external, page.errors, page.csp = [], [], []
    page.on("request", lambda r: None if r.url.startswith(server.url) else page.external.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.csp.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def clean(page) -> None:
    assert page.external == [] and page.errors == [] and page.csp == [], (page.external, page.errors, page.csp)


def log_in(browser, server, viewport, username="admin", password="bungo-admin", **context):
    page = watch(browser.new_page(viewport=viewport, locale="id-ID", **context), server)
    page.goto(f"{server.url}/masuk")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button.primary")
    page.wait_for_selector("#live[data-state='on']", timeout=15_000)
    return page


def open_dashboard(browser, server, viewport, **context):
    page = log_in(browser, server, viewport, **context)
    page.wait_for_selector("#kpi-shortage")
    return page


def look(page, name: str, axe: str | None = None) -> None:
    """A screenshot to look at, nothing wider than the screen, and axe-core's verdict when given."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"district-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], name
    if axe:
        page.evaluate(axe)  # through the DevTools protocol: not subject to the page's CSP
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]  # fmt: skip
        assert not bad, f"{name}: {json.dumps(bad)}"


def lesson_day() -> date:
    """Two or three days ahead, never a Sunday (the demo's teachers work Monday to Saturday)."""
    day = date.today() + timedelta(days=2)
    return day + timedelta(days=1) if day.weekday() == 6 else day


def token(server, username: str, password: str) -> dict:
    answer = requests.post(f"{server.url}/api/v1/auth/token", json={"username": username, "password": password})
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def only_live(server, codes: tuple[str, ...]) -> list[str]:
    """Switch every kecamatan off but `codes` (small runs); returns all codes, to switch back on."""
    admin = token(server, "admin", "bungo-admin")
    every = [k["code"] for k in requests.get(f"{server.url}/api/v1/kecamatan", headers=admin).json()]
    for code in every:
        answer = requests.patch(f"{server.url}/api/v1/kecamatan/{code}", json={"live": code in codes}, headers=admin)
        assert answer.status_code == 200, answer.text
    return every


def all_live(server, codes: list[str]) -> None:
    admin = token(server, "admin", "bungo-admin")
    for code in codes:
        requests.patch(f"{server.url}/api/v1/kecamatan/{code}", json={"live": True}, headers=admin)


def number(text: str) -> float:
    """A number as the Indonesian page writes it: 1.234,5 and a minus sign."""
    return float(text.strip().replace("−", "-").replace("+", "").replace(".", "").replace(",", "."))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_dashboard_shows_the_demo_shortage_with_names_and_the_map(demo, browser, axe_source, viewport):
    server = demo["server"]
    page = open_dashboard(browser, server, viewport)
    # The demo asks 28,800 periods a week with nobody booked: about 1,200 teachers short.
    assert 1150 <= number(page.inner_text("#kpi-shortage")) <= 1250
    assert page.locator(".map path.area").count() == 17
    assert page.locator(".map circle.school").count() > 250
    names = page.locator("#table-kecamatan tbody th").all_inner_texts()
    assert len(names) == 17 and "Pasar Muaro Bungo" in names and "Pelepat" in names
    assert not any(re.fullmatch(r"15\.08\.\d\d", n) for n in names)  # names, not codes
    subjects = page.locator("#table-subject tbody th").all_inner_texts()
    assert any(s.startswith("Guru Kelas") for s in subjects)
    name = "desktop" if viewport is DESKTOP else "phone"
    look(page, f"dashboard-{name}", axe_source)
    # A click on the map gives the numbers of that kecamatan.
    page.locator(f'.map path[data-info="k:{TOWN}"]').dispatch_event("click")
    assert page.inner_text("#info-title").endswith("Pasar Muaro Bungo")
    assert "JP diminta" in page.inner_text("#info")
    # A row leads to its detail: the kecamatan's own numbers.
    page.click(f'#table-kecamatan tr[data-key="{TOWN}"] th a')
    page.wait_for_selector(".filters .chip")
    assert page.locator("#table-school tbody tr").count() >= 1
    assert set(page.locator("#table-kecamatan tbody th").all_inner_texts()) == {"Pasar Muaro Bungo"}
    look(page, f"dashboard-kecamatan-{name}")
    # A school's row opens its week: every lesson with its status.
    page.locator("#table-school tbody th a").first.click()
    page.wait_for_selector("#lessons tbody tr")
    assert page.locator("#lessons tbody tr").count() >= 1 and "terbuka" in page.inner_text("#lessons")
    look(page, f"school-week-{name}", axe_source)
    clean(page)


def test_each_export_downloads_and_parses(demo, browser, axe_source):
    server = demo["server"]
    page = open_dashboard(browser, server, DESKTOP, accept_downloads=True)
    with page.expect_download() as got:
        page.click("#export-xlsx")
    assert got.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True)
    assert book.sheetnames == ["Kecamatan", "Sekolah", "Mata pelajaran", "Jenjang", "Minggu"]
    kecamatan = [list(r) for r in book["Kecamatan"].iter_rows(values_only=True)]
    assert kecamatan[0][:2] == ["Kode", "Nama"] and len(kecamatan) == 1 + 17 + 1
    shown = page.inner_text("#kpi-requested").replace(".", "")
    assert kecamatan[-1][0] == "total" and str(kecamatan[-1][6]) == shown  # the total requested periods, as shown
    with page.expect_download() as got:
        page.click("#export-kecamatan-csv")
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "Kode" and len(rows) == 19
    with page.expect_download() as got:
        page.click("#jp-download")
    hours = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True)
    assert hours.sheetnames[0].startswith("JP ")
    with page.expect_download() as got:
        page.select_option("#lr-format", "csv")
        page.click("#lr-download")
    header = Path(got.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("Kelas,Kode mapel,Mata pelajaran,Tanggal")
    # The monthly report: a page that prints (to PDF here) with the map, the chart and the tables.
    month = page.input_value("#rep-month")
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        report = browser.new_page(viewport=viewport, locale="id-ID", storage_state=page.context.storage_state())
        report = watch(report, server)
        report.goto(f"{server.url}/dinas/laporan?bulan={month}")
        assert report.locator(".map path.area").count() == 17 and report.locator(".chart").count() == 1
        assert "Pasar Muaro Bungo" in report.inner_text("main")
        look(report, f"monthly-report-{name}", axe_source)
        clean(report)
    pdf = report.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    (SHOTS / "district-monthly-report.pdf").write_bytes(pdf)
    clean(page)


def test_a_kecamatan_switched_off_is_shown_so_and_its_schools_orders_wait(demo, browser, axe_source):
    server = demo["server"]
    page = open_dashboard(browser, server, DESKTOP)
    row = f'#table-kecamatan tr[data-key="{TOWN}"]'
    page.click(f"{row} [data-switch]")
    page.wait_for_selector(f"{row}.off")
    assert "belum aktif" in page.inner_text(row)
    assert page.locator(".map path.off-hatch").count() == 1
    look(page, "rollout-off")
    # Its school's operator is told what that means, on their own page.
    school = demo["town_school"]
    operator = log_in(browser, server, PHONE, f"sekolah-{school}", "bungo-sekolah")
    note = operator.inner_text("#not-live")
    assert "Pasar Muaro Bungo" in note and "belum aktif" in note and "dihitung" in note
    look(operator, "school-not-live", axe_source)
    # It may still post an order; nobody is offered it and no teacher may claim it.
    headers = token(server, f"sekolah-{school}", "bungo-sekolah")
    body = {"subject": "GK", "level": "SD", "class_name": "II B", "reason": "substitute", "urgent": True,
            "sessions": [{"date": lesson_day().isoformat(), "start": "08:00", "end": "09:10"}]}  # fmt: skip
    posted = requests.post(f"{server.url}/api/v1/orders", json=body, headers=headers)
    assert posted.status_code == 201 and posted.json()["sessions"][0]["status"] == "open"
    teacher = token(server, "guru-1", "bungo-guru")
    claim = requests.post(f"{server.url}/api/v1/orders/{posted.json()['id']}/claim", headers=teacher)
    assert claim.status_code == 409 and "not live" in claim.json()["message"]
    # Switched on again from the same table: the waiting urgent order is offered at once.
    page.click(f"{row} [data-switch]")
    page.wait_for_selector(f"{row}:not(.off)")
    order = requests.get(f"{server.url}/api/v1/orders/{posted.json()['id']}", headers=headers).json()
    assert order["sessions"][0]["status"] == "offered"
    operator.reload()
    assert operator.locator("#not-live").count() == 0
    clean(page)
    clean(operator)


def test_a_weekly_plan_started_from_the_page_shows_progress_and_results(demo, browser):
    server = demo["server"]
    codes = only_live(server, (TOWN, SECOND))  # a small plan
    try:
        page = open_dashboard(browser, server, DESKTOP)
        with page.expect_request(lambda r: r.url.endswith("/api/v1/matching/runs") and r.method == "POST") as sent:
            page.click("#plan-start")
        assert re.fullmatch(r"[0-9a-f]{32}", sent.value.headers["idempotency-key"])  # a retry would do it once
        # While the run is queued or running the start button waits (one look at both, from one moment).
        seen = set()
        page.locator("#plan-status").wait_for()
        for _ in range(RUN_TIMEOUT // 100):
            status, disabled = page.evaluate(
                "[document.getElementById('plan-status').textContent, document.getElementById('plan-start').disabled]"
            )
            if status in ("antre", "berjalan"):
                seen.add(status)
                assert disabled, status
            elif status:
                break
            page.wait_for_timeout(100)
        page.locator("#plan-message", has_text="selesai").wait_for(timeout=RUN_TIMEOUT)
        assert seen, "the page never showed the run queued or running"
        assert page.is_enabled("#plan-start")
        # The result from the server: coverage, ÷ bound, offers sent, by kecamatan with names.
        page.locator("#plan-facts").wait_for()
        facts = page.inner_text("#plan-facts")
        assert "Cakupan sesudah rencana" in facts and "Tawaran dikirim" in facts
        assert page.locator("#plan-areas tbody tr").count() == 2
        assert "Pasar Muaro Bungo" in page.inner_text("#plan-areas")
        page.wait_for_selector("#plan-history tbody tr[data-status='done']")
        run_id = int(page.get_attribute("#plan-history tbody tr[data-status='done']", "data-run"))
        run = requests.get(f"{server.url}/api/v1/matching/runs/{run_id}", headers=token(server, "admin", "bungo-admin"))
        run = run.json()
        assert number(page.inner_text("#plan-result-offers")) == run["offers"] > 0
        # Equity from the same run: its spread and the floor it was planned with.
        equity = run["detail"]["equity"]
        assert page.inner_text("#equity-spread").startswith(f"{round(equity['spread'] * 100)}%")
        # The booked periods on the dashboard follow the plan's offers being accepted: nothing booked yet.
        page.locator("#kpi-booked").wait_for()
        look(page, "plan-done")
        clean(page)
    finally:
        all_live(server, codes)


def test_with_redis_the_plans_progress_reaches_the_page_live(demo, browser, redis_url):  # noqa: F811
    """With REDIS_URL the worker's run_updated reaches the district's room: the page follows a plan to its
    end with its polling of GET /matching/runs/<id> refused."""
    jobs = {
        "JOBS_URL": f"sqlite:///{demo['folder'] / 'jobs-redis.db'}",
        "JOBS_NAME": f"guru-live-{uuid.uuid4().hex[:8]}",
    }
    server = Server(demo["url"], demo["folder"], redis_url=redis_url, CLOCK_SECONDS="1", **jobs, **SOLVER).start()
    worker = Worker(demo["url"], jobs["JOBS_URL"], jobs["JOBS_NAME"], demo["folder"], REDIS_URL=redis_url,
                    SOCKETIO_CHANNEL=server.env["SOCKETIO_CHANNEL"], **SOLVER).start()  # fmt: skip
    codes = only_live(server, (TOWN,))
    try:
        page = open_dashboard(browser, server, DESKTOP)
        refused = []

        def no_polling(route):
            if route.request.method == "GET":
                refused.append(route.request.url)
                return route.abort()
            return route.continue_()

        page.route(re.compile(r".*/api/v1/matching/runs/\d+$"), no_polling)
        page.click("#plan-start")
        page.locator("#plan-message", has_text="selesai").wait_for(timeout=RUN_TIMEOUT)
        assert refused, "the page did not poll at all"
        assert page.inner_text("#plan-coverage") != "–"  # the best coverage came with the events
        page.locator("#plan-history tbody tr[data-status='done']").first.wait_for()
        clean(page)
    finally:
        all_live(server, codes)
        worker.stop()
        server.stop()


def run_what_if(page, count: int, subjects: list[str], levels: list[str], kecamatan: str) -> None:
    page.fill("#wi-count", str(count))
    for box in page.locator("#whatif-form input[name=subjects]").all():
        box.set_checked(box.get_attribute("value") in subjects)
    for box in page.locator("#whatif-form input[name=levels]").all():
        box.set_checked(box.get_attribute("value") in levels)
    page.select_option("#wi-kecamatan", kecamatan)
    page.click("#wi-start")


def test_what_if_scenarios_run_as_jobs_and_compare_side_by_side_with_now(demo, browser, axe_source):
    server, worker = demo["server"], demo["worker"]
    codes = only_live(server, (TOWN, SECOND))
    admin = token(server, "admin", "bungo-admin")
    try:
        page = open_dashboard(browser, server, DESKTOP)
        # A bad count is named beside its field (the API's 422), nothing is queued.
        page.fill("#wi-count", "0")
        page.click("#wi-start")
        page.locator("[data-error-for=count]", has_text=re.compile(r"\S")).wait_for()
        assert page.inner_text("[data-error-for=count]") == "harus antara 1 dan 2000"  # not marshmallow's English
        assert page.is_hidden("#wi-progress")
        # The equity floor out of range: said in Indonesian, without the API's name for the field.
        page.fill("#equity-floor", "1.5")
        page.click("#equity-form button")
        page.locator("#equity-message", has_text=re.compile(r"\S")).wait_for()
        assert page.inner_text("#equity-message") == "harus antara 0 dan 1"
        # No subject chosen: said before anything is sent.
        run_what_if(page, 20, [], ["SD"], TOWN)
        assert page.inner_text("[data-error-for=subjects]") != ""

        # A scenario queued while no worker runs stays queued; the page, opened again, follows it and waits.
        worker.stop()
        run_what_if(page, 30, ["GK"], ["SD"], SECOND)
        page.locator("#wi-status", has_text="antre").wait_for()
        page.reload()
        page.locator("#wi-status", has_text="antre").wait_for()
        assert page.is_disabled("#wi-start")
        worker.start()  # queued runs are queued again at the worker's start
        page.locator("#wi-message", has_text="selesai").wait_for(timeout=RUN_TIMEOUT)
        page.locator("#compare th[data-run]").wait_for()

        # A second scenario: added beside the first, both beside the week as it is now.
        run_what_if(page, 20, ["BING", "PJOK"], ["SMP", "SMA"], TOWN)
        page.locator("#wi-status", has_text=re.compile("antre|berjalan")).wait_for()
        page.locator("#wi-message", has_text="selesai").wait_for(timeout=RUN_TIMEOUT)
        page.locator("#compare th[data-run] >> nth=1").wait_for()
        assert page.locator("#compare thead th.now").count() == 1
        run_ids = [
            int(x) for x in page.eval_on_selector_all("#compare th[data-run]", "ns => ns.map(n => n.dataset.run)")
        ]
        assert len(run_ids) == 2 and run_ids[0] > run_ids[1]  # newest first
        heads = page.locator("#compare thead th[data-run]").all_inner_texts()
        assert "+20 PJOK, BING" in heads[0] and "Pasar Muaro Bungo" in heads[0] and "+30 GK" in heads[1]
        # In periods and teacher-equivalents a week, the API's own numbers (one week planned).
        gains = page.locator("#compare td[data-gain-periods]").all_inner_texts()
        assert gains[0] == "–"  # now
        for run_id, shown in zip(run_ids, gains[1:], strict=True):
            run = requests.get(f"{server.url}/api/v1/matching/runs/{run_id}", headers=admin).json()
            assert run["kind"] == "what_if" and run["status"] == "done"
            assert number(shown) == run["result"]["gain"]["covered_periods"]
        assert number(gains[2]) > 0  # 30 class teachers living in Pelepat, where a quarter is unfilled
        now = requests.get(f"{server.url}/api/v1/matching/runs/{run_ids[0]}", headers=admin).json()["result"]["before"]
        shortage_row = page.locator("#compare tbody tr", has_text="Kekurangan guru")
        assert number(shortage_row.locator("td").first.inner_text()) == round(now["unfilled_teacher_equivalents"], 1)
        # By kecamatan, with names: the two live ones.
        areas = page.locator("#compare-kecamatan tbody th").all_inner_texts()
        assert set(areas) == {"Pasar Muaro Bungo", "Pelepat"}
        page.locator("#simulasi").screenshot(path=str(SHOTS / "district-what-if-desktop.png"))
        look(page, "what-if-desktop", axe_source)
        phone = open_dashboard(browser, server, PHONE)
        phone.locator("#compare").scroll_into_view_if_needed()
        look(phone, "what-if-phone")
        clean(page)
        clean(phone)
    finally:
        all_live(server, codes)


def test_the_district_pages_in_english(demo, browser, axe_source):
    server = demo["server"]
    page = log_in(browser, server, DESKTOP, "dinas-en", "secret-password")
    page.wait_for_selector("#kpi-shortage")
    assert page.evaluate("document.documentElement.lang") == "en"
    text = page.inner_text("main")
    for english in ("Weekly plan", "Teacher shortage", "Periods requested", "By kecamatan, worst first",
                    "Reports and exports"):  # fmt: skip
        assert english in text, english
    for indonesian in ("Rencana mingguan", "Kekurangan guru", "belum terisi", "Simulasi", "Unduh", "Laporan"):
        assert indonesian not in text, indonesian
    page.locator(f'.map path[data-info="k:{TOWN}"]').dispatch_event("click")
    assert "Periods requested" in page.inner_text("#info")
    look(page, "dashboard-english", axe_source)
    page.goto(f"{server.url}/dinas/laporan")
    assert "Monthly report" in page.inner_text("main")
    look(page, "monthly-report-english")
    clean(page)
