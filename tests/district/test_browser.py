"""The district office's pages in a real browser (headless system Chromium, Playwright) against a real
server on the demo district: the shortage with kecamatan names and the map, at 1366x768 and 360x740;
rollout from the table; a weekly plan started from the page; every export downloaded and parsed.
Screenshots go to tests/screenshots/ (not committed) to be looked at.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook

from dispatch import create_app
from dispatch.demo import seed_demo
from dispatch.extensions import db
from dispatch.schools.models import School
from tests.conftest import make_config
from tests.live_server import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"
DESKTOP, PHONE = {"width": 1366, "height": 768}, {"width": 360, "height": 740}
TOWN = "15.08.03"  # Pasar Muaro Bungo

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt install chromium to run the browser tests")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The whole demo district (1,500 teachers, 28,800 periods a week) in a SQLite file, and a server on it."""
    folder = tmp_path_factory.mktemp("district")
    url = f"sqlite:///{folder / 'demo.db'}"
    app = create_app(make_config(url))
    with app.app_context():
        db.create_all()
        seed_demo(progress=lambda _: None)
        db.session.commit()
        town_school = db.session.scalars(
            db.select(School).where(School.kecamatan_code == TOWN, School.level == "SD").order_by(School.npsn)
        ).first()
    # No clock: these tests are about the pages, and before the job queue a plan running in the server's
    # thread lost SQLite's write lock to the clock's writes (issue 10).
    server = Server(url, folder, MATCHING_TIME_LIMIT="2", MATCHING_WORKERS="1", CLOCK_SECONDS="0").start()
    yield {"server": server, "town_school": town_school.npsn}
    server.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def open_dashboard(browser, server, viewport, **context):
    page = browser.new_page(viewport=viewport, locale="id-ID", **context)
    page.external = []
    page.errors = []
    page.on("request", lambda r: None if r.url.startswith(server.url) else page.external.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{server.url}/masuk")
    page.fill("#username", "admin")
    page.fill("#password", "bungo-admin")
    page.click("button.primary")
    page.wait_for_selector("#kpi-shortage")
    page.wait_for_selector("#live[data-state='on']", timeout=15_000)
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"district-{name}.png"), full_page=True)


def lesson_day() -> date:
    """Two or three days ahead, never a Sunday (the demo's teachers work Monday to Saturday)."""
    day = date.today() + timedelta(days=2)
    return day + timedelta(days=1) if day.weekday() == 6 else day


def token(server, username: str, password: str) -> dict:
    answer = requests.post(f"{server.url}/api/v1/auth/token", json={"username": username, "password": password})
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_dashboard_shows_the_demo_shortage_with_names_and_the_map(demo, browser, viewport):
    server = demo["server"]
    page = open_dashboard(browser, server, viewport)
    # The demo asks 28,800 periods a week with nobody booked: about 1,200 teachers short.
    shortage = float(page.inner_text("#kpi-shortage").replace(".", "").replace(",", "."))
    assert 1150 <= shortage <= 1250
    assert page.locator(".map path.area").count() == 17
    assert page.locator(".map circle.school").count() > 250
    names = page.locator("#table-kecamatan tbody th").all_inner_texts()
    assert len(names) == 17 and "Pasar Muaro Bungo" in names and "Pelepat" in names
    assert not any(re.fullmatch(r"15\.08\.\d\d", n) for n in names)  # names, not codes
    subjects = page.locator("#table-subject tbody th").all_inner_texts()
    assert any(s.startswith("Guru Kelas") for s in subjects)
    # A click on the map gives the numbers of that kecamatan.
    page.locator(f'.map path[data-info="k:{TOWN}"]').dispatch_event("click")
    assert page.inner_text("#info-title").endswith("Pasar Muaro Bungo")
    assert "JP diminta" in page.inner_text("#info")
    # A row leads to its detail: the kecamatan's own numbers.
    page.click(f'#table-kecamatan tr[data-key="{TOWN}"] th a')
    page.wait_for_selector(".filters .chip")
    assert page.locator("#table-school tbody tr").count() >= 1
    assert set(page.locator("#table-kecamatan tbody th").all_inner_texts()) == {"Pasar Muaro Bungo"}
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # nothing wider than the screen
    shot(page, f"dashboard-{'desktop' if viewport is DESKTOP else 'phone'}")
    assert page.external == [] and page.errors == []


def test_each_export_downloads_and_parses(demo, browser):
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
        page.click("text=kecamatan CSV")
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "Kode" and len(rows) == 19
    with page.expect_download() as got:
        page.locator("#jp-month").locator("xpath=ancestor::form").locator("button").click()
    hours = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True)
    assert hours.sheetnames[0].startswith("JP ")
    with page.expect_download() as got:
        page.select_option("#lr-format", "csv")
        page.locator("#lr-month").locator("xpath=ancestor::form").locator("button").click()
    header = Path(got.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("Kelas,Kode mapel,Mata pelajaran,Tanggal")
    # The monthly report: a page that prints (to PDF here) with the map, the chart and the tables.
    month = page.input_value("#rep-month")
    report = browser.new_page(viewport=DESKTOP, storage_state=page.context.storage_state())
    report.goto(f"{server.url}/dinas/laporan?bulan={month}")
    assert report.locator(".map path.area").count() == 17 and report.locator(".chart").count() == 1
    assert "Pasar Muaro Bungo" in report.inner_text("body")
    shot(report, "monthly-report")
    pdf = report.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    (SHOTS / "district-monthly-report.pdf").write_bytes(pdf)


def test_a_kecamatan_switched_off_is_shown_so_and_its_schools_orders_wait(demo, browser):
    server = demo["server"]
    page = open_dashboard(browser, server, DESKTOP)
    row = f'#table-kecamatan tr[data-key="{TOWN}"]'
    page.click(f"{row} [data-switch]")
    page.wait_for_selector(f"{row}.off")
    assert "belum aktif" in page.inner_text(row)
    assert page.locator(".map path.off-hatch").count() == 1
    shot(page, "rollout-off")
    # Its school may still post an order; nobody is offered it and no teacher may claim it.
    school = demo["town_school"]
    operator = token(server, f"sekolah-{school}", "bungo-sekolah")
    body = {"subject": "GK", "level": "SD", "class_name": "II B", "reason": "substitute", "urgent": True,
            "sessions": [{"date": lesson_day().isoformat(), "start": "08:00", "end": "09:10"}]}  # fmt: skip
    posted = requests.post(f"{server.url}/api/v1/orders", json=body, headers=operator)
    assert posted.status_code == 201 and posted.json()["sessions"][0]["status"] == "open"
    teacher = token(server, "guru-1", "bungo-guru")
    claim = requests.post(f"{server.url}/api/v1/orders/{posted.json()['id']}/claim", headers=teacher)
    assert claim.status_code == 409 and "not live" in claim.json()["message"]
    # Switched on again from the same table: the waiting urgent order is offered at once.
    page.click(f"{row} [data-switch]")
    page.wait_for_selector(f"{row}:not(.off)")
    order = requests.get(f"{server.url}/api/v1/orders/{posted.json()['id']}", headers=operator).json()
    assert order["sessions"][0]["status"] == "offered"


def test_a_weekly_plan_started_from_the_page_shows_progress_and_results(demo, browser):
    server = demo["server"]
    page = open_dashboard(browser, server, DESKTOP)
    # Plan two kecamatan only (the rest switched off), so that the plan is small.
    admin = token(server, "admin", "bungo-admin")
    codes = [k["code"] for k in requests.get(f"{server.url}/api/v1/kecamatan", headers=admin).json()]
    for code in codes:
        live = code in ("15.08.03", "15.08.05")
        assert requests.patch(f"{server.url}/api/v1/kecamatan/{code}", json={"live": live}, headers=admin).ok
    page.reload()
    page.click("#plan-start")
    page.wait_for_selector("#plan-progress:not([hidden]), #plan-message:not(:empty)")
    assert page.inner_text("#plan-message") == "", page.inner_text("#plan-message")
    page.wait_for_selector("#plan-status:text-matches('antre|berjalan|selesai')")
    page.wait_for_selector("#plan-message:not(:empty)", timeout=180_000)
    assert page.inner_text("#plan-message") == "selesai", server.log()
    result = page.inner_text("#plan-result")
    assert "cakupan" in result and "tawaran dikirim" in result
    assert page.locator("#plan-areas tbody tr").count() >= 2  # by kecamatan, with names
    assert "Pasar Muaro Bungo" in page.inner_text("#plan-areas")
    page.wait_for_selector("#plan-history tbody tr[data-status='done']")  # the history, drawn again
    page.wait_for_function("document.querySelector('#kpi-booked').textContent.trim() !== '' ")
    shot(page, "plan-done")
    for code in codes:
        requests.patch(f"{server.url}/api/v1/kecamatan/{code}", json={"live": True}, headers=admin)
