"""The pages in a real browser (the system's headless Chromium, driven by Playwright) at 360×740,
against a real server: the whole loop from the school's order form to the teacher's ratings, the
offline queue, a field error on the order form, English; axe-core on every page; a screenshot of
every page in tests/screenshots/.

Under GURU_REQUIRE_SERVICES (.ci/run) a missing Chromium or axe-core fails the run; elsewhere
these tests skip with the reason.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from dispatch.district.models import District
from dispatch.district.service import district_now
from dispatch.extensions import db
from dispatch.orders.models import LessonSession
from dispatch.schools.models import School
from dispatch.sqlite import writing
from dispatch.teachers.models import Teacher
from tests.browser import SCREENSHOTS
from tests.dispatch.test_live_server import bearer, post_urgent_order
from tests.live_server import Server

PHONE = {"width": 360, "height": 740}
SCHOOL = {"lat": -1.4861, "lon": 102.1177}  # tests/factories.school

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # about the pages, not the database


@pytest.fixture
def district(shared_app, served_world):
    """The demo-like district at an hour when lessons happen: the district's clock is set to a zone
    where it is now between 09:00 and 18:00, so a lesson can start in ten minutes whatever the hour."""
    hour = datetime.now(UTC).hour
    shift = (12 - hour + 12) % 24 - 12  # local hour near noon
    zone = f"Etc/GMT{'-' if shift >= 0 else '+'}{abs(shift)}"  # Etc/GMT-7 is UTC+7
    with shared_app.app_context(), writing():
        db.session.scalar(db.select(District)).timezone = zone
        school = db.session.get(School, served_world["school_a"])
        school.name, school.kecamatan_code, school.address = (
            "SMP Negeri 1 Muara Bungo",
            "15.08.03",
            "Jl. Sudirman No. 1",
        )
        for teacher in db.session.scalars(db.select(Teacher)):
            teacher.availability = [{"day": d, "start": "00:00", "end": "23:59"} for d in range(7)]
        db.session.commit()
        now = district_now()
    return {"zone": zone, "now": now}


class Visitor:
    """One person's browser at 360×740: screenshots and axe-core on every page they see."""

    def __init__(self, browser, server: Server, axe: str, who: str, locale="id-ID", geolocation=None):
        options = {"viewport": PHONE, "locale": locale, "service_workers": "allow"}
        if geolocation:
            options |= {"geolocation": geolocation, "permissions": ["geolocation"]}
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.server, self.axe, self.who = server, axe, who
        self.external: list[str] = []
        self.page.on("request", lambda r: None if r.url.startswith(server.url) else self.external.append(r.url))
        self.page.on("dialog", lambda dialog: dialog.accept())

    def log_in(self, username: str, password="secret-password"):
        self.page.goto(f"{self.server.url}/masuk")
        self.look("login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("button.primary")
        self.page.wait_for_selector("#live[data-state=on]", timeout=15_000)
        return self

    def look(self, name: str) -> None:
        """A screenshot, a check that nothing is wider than the phone, and axe-core's verdict."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        assert self.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        self.page.evaluate(self.axe)  # evaluated through the DevTools protocol: not subject to the page's CSP
        result = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]  # fmt: skip
        assert not bad, f"{name}: {json.dumps(bad)}"

    def close(self):
        assert self.external == [], self.external  # nothing from the internet
        self.context.close()


@pytest.fixture
def visitors(browser, axe_source):
    opened: list[Visitor] = []

    def open_(server, who, **kwargs) -> Visitor:
        visitor = Visitor(browser, server, axe_source, who, **kwargs)
        opened.append(visitor)
        return visitor

    yield open_
    for visitor in opened:
        visitor.close()


def open_order_form(page) -> None:
    if page.get_attribute("#order-form-box", "open") is None:  # folded away once the school has orders
        page.click("#order-form-box summary")


def hhmm(moment) -> str:
    return moment.strftime("%H:%M")


def test_the_whole_loop_from_the_order_form_to_the_teachers_ratings(
    shared_app, servers, served_world, district, visitors
):
    server = servers()
    school = visitors(server, "school").log_in("op-a")
    teacher = visitors(server, "teacher", geolocation={"latitude": SCHOOL["lat"] + 0.0005, "longitude": SCHOOL["lon"]})
    teacher.log_in("guru-1")
    teacher.look("teacher-offers-empty")
    school.look("school-orders-empty")

    # The operator posts an order on the page: today, starting in ten minutes, its own times.
    start = district["now"].replace(second=0, microsecond=0) + timedelta(minutes=11)
    end = start + timedelta(minutes=80)
    s = school.page
    open_order_form(s)
    s.fill("#class_name", "IX A")
    s.select_option("#subject", "MTK")
    s.check("input[name=reason][value=substitute]")
    s.check("#own-times")
    s.fill("[data-field=date]", start.date().isoformat())
    s.fill("[data-field=start]", hhmm(start))
    s.fill("[data-field=end]", hhmm(end))
    school.look("school-order-form")
    s.click("#post-order")
    s.wait_for_selector("#message.good", timeout=10_000)
    card = s.locator("#orders > li").first
    order_id = int(card.get_attribute("id").split("-")[1])

    # The teacher's page shows the offer live, with the school's name and the time.
    t = teacher.page
    offer = t.locator("#offers > li[data-offer]").first
    offer.wait_for(timeout=15_000)
    text = offer.inner_text()
    assert "SMP Negeri 1 Muara Bungo" in text and f"{hhmm(start)}–{hhmm(end)}" in text, text
    assert "Pasar Muaro Bungo" in text and "km dari rumah" in text and "MTK" in text and "IX A" in text
    assert "sisa" in offer.locator(".countdown").inner_text()
    teacher.look("teacher-offer")
    offer.locator("[data-accept]").click()
    t.wait_for_selector("#message:text('Diterima')", timeout=10_000)

    # The school's page shows the teacher's name, live.
    s.wait_for_selector(f"#order-{order_id}[data-status=booked]", timeout=10_000)
    assert "Siti Lubis" in s.inner_text(f"#order-{order_id}")
    school.look("school-order-booked")

    # The lesson starts within minutes: it comes first on the teacher's page. A lesson is held only once it
    # has begun (an early check-in waits for the start: tests/dispatch/test_lessons_ratings.py), and ten real
    # minutes are no test: the lesson is moved to have begun a minute ago, then the teacher checks in.
    t.wait_for_selector("#soon [data-checkin]", timeout=10_000)
    teacher.look("teacher-lesson-soon")
    # (writing(): the test's own write takes SQLite's write lock first and waits its turn behind the server's;
    # a read that turned into a write would fail at once if the server had written since: dispatch/sqlite.py.)
    with shared_app.app_context(), writing():
        lesson = db.session.scalar(sa.select(LessonSession).where(LessonSession.order_id == order_id))
        begun = district_now() - timedelta(minutes=1)
        lesson.start_min = begun.hour * 60 + begun.minute
        lesson.end_min = lesson.start_min + 80
        db.session.commit()
    t.reload()
    t.wait_for_selector("#soon [data-checkin]", timeout=10_000)
    t.click("#soon [data-checkin]")
    t.wait_for_selector("#message:text('Absen tercatat')", timeout=10_000)

    # The lesson record, after the lesson (the page offers it once the lesson is held).
    t.click("a[data-tab=minggu]")
    form = t.locator("form[data-record]").first
    form.wait_for(timeout=10_000)
    assert "geo:" in t.get_attribute("#week a.button", "href")  # the map link works offline: coordinates
    teacher.look("teacher-week")
    form.locator("input[name=topic]").fill("Persamaan linear")
    form.locator("input[name=present]").fill("28")
    form.locator("button").click()
    # (No wait_for_function with a string: it evaluates JavaScript, which the pages' CSP forbids.)
    t.locator("#message", has_text="Catatan tersimpan").wait_for(timeout=10_000)

    # The class's rating card: a QR of the rating page's address.
    s.reload()
    session_id = int(s.locator(f"#order-{order_id} .sessions li").first.get_attribute("id").split("-")[1])
    with s.expect_navigation():
        s.click(f"#order-{order_id} a[href='/sekolah/kode/{session_id}']")
    assert s.locator("#rating-code").count() == 1, s.inner_text("main")
    code = s.inner_text("#rating-code")
    assert s.inner_text("#rating-url").endswith(f"/nilai/{code}") and s.locator(".qr-card svg").count() == 1
    school.look("school-rating-card")

    # Time passes: the lesson has begun (moved 15 minutes earlier rather than waiting), so its code works.
    with shared_app.app_context(), writing():
        lesson = db.session.get(LessonSession, session_id)
        lesson.start_min -= 15
        db.session.commit()

    # A student opens the QR's address on their own phone, no login, and rates with two taps and a send.
    student = visitors(server, "student")
    st = student.page
    st.goto(s.inner_text("#rating-url"))
    st.wait_for_selector("#send")
    student.look("student-rate")
    st.click("label[for='star-5']")
    st.click("label[for='tag-jelas']")
    st.click("label[for='tag-sabar']")
    st.click("#send")
    st.wait_for_selector("#result")
    assert "Terima kasih" in st.inner_text("main")
    student.look("student-thanks")

    # The teacher's ratings page shows it.
    t.click("a[data-tab=nilai]")
    t.reload()
    t.wait_for_selector("#score-card", timeout=10_000)
    assert "1 penilaian" in t.inner_text("#ratings") and "jelas" in t.inner_text("#ratings")
    teacher.look("teacher-ratings")
    t.click("a[data-tab=terbuka]")
    teacher.look("teacher-open-orders")

    # The booked lesson is the school's to confirm, and the CSV has the record.
    s.goto(f"{server.url}/sekolah")
    s.wait_for_selector(f"#order-{order_id}")
    school.look("school-orders")
    csv = requests.get(f"{server.url}/api/v1/schools/{served_world['school_a']}/lesson-records.csv",
                       headers=bearer(served_world["tokens"]["op_a"]), params={"from": start.date().isoformat()}, timeout=10)  # fmt: skip
    assert "Persamaan linear" in csv.text and "Siti Lubis" in csv.text
    s.goto(f"{server.url}/sekolah/guru")
    school.look("school-teachers")


def test_an_accept_made_without_signal_is_sent_when_it_returns(servers, served_world, district, visitors):
    server = servers()
    teacher = visitors(server, "teacher").log_in("guru-1")
    t = teacher.page
    order = post_urgent_order(server, served_world["tokens"]["op_a"])
    t.wait_for_selector("#offers > li[data-offer]", timeout=15_000)
    t.evaluate("navigator.serviceWorker.ready.then(() => true)")  # the app is kept on the phone

    teacher.context.set_offline(True)
    t.reload()  # opens with no signal: the kept page, the last known offers, and it says so
    t.wait_for_selector("#offline-note:not([hidden])", timeout=15_000)
    assert "Luring" in t.inner_text("#offline-note") and not t.is_hidden("#net")
    t.click("#offers > li[data-offer] [data-accept]")
    t.wait_for_selector("#queue-note:not([hidden])")
    assert "menunggu sinyal" in t.inner_text("#queue-note")
    teacher.look("teacher-offline-queued")
    [offer] = requests.get(
        f"{server.url}/api/v1/offers", headers=bearer(served_world["tokens"]["user_t1"]), timeout=10
    ).json()
    assert offer["status"] == "open"  # nothing reached the server

    teacher.context.set_offline(False)
    t.wait_for_selector("#message:text('Terkirim setelah sinyal kembali')", timeout=30_000)
    assert "Diterima" in t.inner_text("#message") and t.is_hidden("#queue-note")
    booked = requests.get(
        f"{server.url}/api/v1/orders/{order['id']}", headers=bearer(served_world["tokens"]["op_a"]), timeout=10
    )
    assert [s["teacher_id"] for s in booked.json()["sessions"]] == [served_world["teacher_1"]]


def test_an_offer_taken_while_the_phone_had_no_signal_is_told_plainly(servers, served_world, district, visitors):
    server = servers()
    teacher = visitors(server, "teacher").log_in("guru-1")
    t = teacher.page
    post_urgent_order(server, served_world["tokens"]["op_a"])
    t.wait_for_selector("#offers > li[data-offer]", timeout=15_000)
    teacher.context.set_offline(True)
    t.click("#offers > li[data-offer] [data-accept]")
    t.wait_for_selector("#queue-note:not([hidden])")
    # Meanwhile the other teacher takes it.
    [other] = requests.get(
        f"{server.url}/api/v1/offers", headers=bearer(served_world["tokens"]["user_t2"]), timeout=10
    ).json()
    taken = requests.post(
        f"{server.url}/api/v1/offers/{other['id']}/accept",
        headers=bearer(served_world["tokens"]["user_t2"]),
        timeout=10,
    )
    assert taken.status_code == 200
    teacher.context.set_offline(False)
    t.wait_for_selector("#message:text('Terkirim setelah sinyal kembali')", timeout=30_000)
    assert "tidak bisa diterima" in t.inner_text("#message") and "diambil guru lain" in t.inner_text("#message")
    assert t.locator("#offers > li[data-offer]").count() == 0
    teacher.look("teacher-offer-taken")


def test_an_offer_pushed_while_the_phone_was_fetching_stays_on_screen(servers, served_world, district, visitors):
    """The phone asked for its offers, the order was posted and its offer pushed live, then the older
    answer (with no offer in it) arrived: the offer must stay, not vanish until the next fetch."""
    server = servers()
    teacher = visitors(server, "teacher").log_in("guru-1")
    t = teacher.page
    held = []
    t.route("**/api/v1/offers", lambda route: held.append((route, route.fetch())))  # answered before the order
    t.reload()
    t.wait_for_selector("#live[data-state=on]", timeout=15_000)
    for _ in range(300):  # the page's first fetch and the one on connecting (at most 15 s)
        if len(held) >= 2:
            break
        t.wait_for_timeout(50)
    assert len(held) >= 2, held
    post_urgent_order(server, served_world["tokens"]["op_a"])
    t.wait_for_selector("#offers > li[data-offer]", timeout=15_000)  # pushed live
    fetched_key = f"guru:{t.evaluate('window.guru.DATA.teacher_id')}:fetched_at"
    before = t.evaluate("(key) => localStorage.getItem(key)", fetched_key)
    for route, stale in held:
        assert stale.json() == []
        route.fulfill(response=stale)
    t.wait_for_function("([key, before]) => localStorage.getItem(key) !== before", arg=[fetched_key, before])
    assert t.locator("#offers > li[data-offer]").count() == 1


def test_the_order_form_shows_each_fields_error_beside_it(servers, served_world, district, visitors):
    server = servers()
    school = visitors(server, "school").log_in("op-a")
    s = school.page
    open_order_form(s)
    s.click("#post-order")  # nothing filled in
    s.wait_for_selector("[data-error-for=class_name]:text('wajib diisi')", timeout=10_000)
    assert "wajib diisi" in s.inner_text("[data-error-for=subject]")
    assert "wajib diisi" in s.inner_text("[data-error-for='sessions.0.date']")
    assert s.evaluate("document.activeElement.id") == "class_name"  # focus goes to the first field to fix
    school.look("school-order-form-errors")
    # A date in the past: the service's rule, answered beside that date's row.
    s.fill("#class_name", "VII B")
    s.select_option("#subject", "IPA")
    yesterday = (district["now"] - timedelta(days=1)).date().isoformat()
    s.fill("[data-field=date]", yesterday)
    s.click("#post-order")
    s.wait_for_selector("[data-error-for='sessions.0.date']:text('sudah lewat')", timeout=10_000)
    error = s.inner_text("[data-error-for='sessions.0.date']")
    assert yesterday not in error and error.endswith("sudah lewat"), error  # the day as the page writes days
    assert s.inner_text("[data-error-for=class_name]") == ""
    assert (
        requests.get(f"{server.url}/api/v1/orders", headers=bearer(served_world["tokens"]["op_a"]), timeout=10).json()[
            0
        ]["class_name"]
        != "VII B"
    )


def test_english_on_request(servers, served_world, district, visitors):
    server = servers()
    teacher = visitors(server, "teacher-en", locale="en-GB").log_in("guru-1")
    post_urgent_order(server, served_world["tokens"]["op_a"])
    t = teacher.page
    t.wait_for_selector("#offers > li[data-offer]", timeout=15_000)
    assert t.get_attribute("html", "lang") == "en"
    assert "Teaching offers" in t.inner_text("main") and "km from home" in t.inner_text("#offers")
    assert t.inner_text("#offers [data-accept]") == "Accept"
    teacher.look("teacher-offer-en")
    school = visitors(server, "school-en").log_in("op-a")
    school.page.click("header form button[name=language]")  # the switch: Bahasa Indonesia ↔ English
    school.page.wait_for_selector("html[lang=en]")
    assert "Order a teacher" in school.page.inner_text("main")
    school.look("school-orders-en")


def test_a_phone_back_on_line_fetches_only_if_it_missed_something(servers, served_world, district, visitors, redis_url):
    """With Redis, the page hands back its mark on reconnect (dispatch/live/marks.py): a server restart
    that changed nothing costs no fetch; an order posted through another process meanwhile is fetched."""
    channel = f"guru-test-marks-{uuid.uuid4().hex[:8]}"
    server, other = servers(redis_url=redis_url, channel=channel), servers(redis_url=redis_url, channel=channel)
    teacher = visitors(server, "teacher").log_in("guru-1")
    t = teacher.page
    fetches = []
    t.on("request", lambda r: fetches.append(r.url) if r.url.endswith("/api/v1/offers") else None)
    t.wait_for_selector("#live[data-resumed$=':missed']")  # the first connection: it fetched
    post_urgent_order(server, served_world["tokens"]["op_a"])
    t.wait_for_selector("#offers > li[data-offer]", timeout=15_000)  # pushed, with its mark

    def reconnect_after(restart) -> str:
        before = t.get_attribute("#live", "data-resumed")
        restart()
        t.wait_for_function("(before) => { const live = document.getElementById('live');"
                            " return live.dataset.state === 'on' && live.dataset.resumed !== before; }",
                            arg=before, timeout=30_000)  # fmt: skip
        return t.get_attribute("#live", "data-resumed").split(":")[1]

    counted = len(fetches)
    assert reconnect_after(lambda: (server.kill(worker_too=True), server.start())) == "none"
    t.wait_for_timeout(6000)  # past the 5 s after which a page with no `resume` fetches anyway
    assert len(fetches) == counted  # nothing missed, nothing fetched

    def order_posted_while_away():
        server.kill(worker_too=True)
        post_urgent_order(other, served_world["tokens"]["op_a"], "10:00", "11:20")
        server.start()

    assert reconnect_after(order_posted_while_away) == "missed"
    t.wait_for_function("() => document.querySelectorAll('#offers > li[data-offer]').length === 2", timeout=15_000)
    assert len(fetches) > counted
    teacher.look("teacher-reconnected")
