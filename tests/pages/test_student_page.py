"""The student's rating page in a real browser (headless Chromium, Playwright) on a 360×740 phone,
against a real server with its real headers (CSP, CSRF): a student opens the lesson's QR URL, rates,
sees the thank-you; a second try from the same browser is refused. Screenshots go to
tests/screenshots/ (not committed).
"""

from __future__ import annotations

import pytest
import requests

from dispatch.district.service import district_now
from dispatch.extensions import db
from dispatch.orders.models import LessonSession
from dispatch.ratings.models import Rating
from tests.browser import CHROMIUM, SCREENSHOTS
from tests.dispatch.test_live_server import bearer

PHONE = {"width": 360, "height": 740}


pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt install chromium to run the browser tests"),
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),
]


@pytest.fixture
def lesson_now(shared_app, served_world):
    """A lesson of school A going on right now, taught by teacher 1 and checked in (held)."""
    with shared_app.app_context():
        now = district_now()
        minute = now.hour * 60 + now.minute
        start, end = max(0, minute - 30), min(24 * 60 - 1, minute + 50)
        session = db.session.scalars(db.select(LessonSession).order_by(LessonSession.id)).first()
        session.date, session.start_min, session.end_min = now.date(), start, end
        session.status, session.teacher_id, session.checked_in_at = "held", served_world["teacher_1"], now
        db.session.commit()
        return session.id


def test_a_student_rates_from_the_qr_url_and_cannot_rate_twice(servers, served_world, lesson_now, browser, shared_app):  # noqa: F811
    server = servers()
    code = requests.get(f"{server.url}/api/v1/sessions/{lesson_now}/rating-code",
                        headers=bearer(served_world["tokens"]["user_t1"]), timeout=10).json()  # fmt: skip
    assert "url" in code, code
    assert code["url"] == f"{server.url}/nilai/{code['code']}"

    page = browser.new_page(viewport=PHONE, locale="id-ID")
    external, csp_errors = [], []
    page.on("request", lambda r: None if r.url.startswith(server.url) else external.append(r.url))
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(code["url"])
    page.wait_for_selector("#send")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "rate-form.png"), full_page=True)

    # Big enough to tap: every star, tag and the send button at least 44 px high.
    for selector in (".stars label", ".tags label", "#send"):
        for box in [page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())]:
            assert box["height"] >= 44 and box["width"] >= 44, (selector, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.click("label[for='star-4']")
    page.click("label[for='tag-jelas']")
    page.click("#send")
    page.wait_for_selector("#result")
    assert "Terima kasih" in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / "rate-thanks.png"), full_page=True)

    page.goto(code["url"])  # the same phone again
    assert "sudah menilai" in page.inner_text("main") and page.locator("#send").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "rate-again.png"), full_page=True)

    with shared_app.app_context():
        assert [(r.stars, r.tags) for r in db.session.scalars(db.select(Rating))] == [(4, ["jelas"])]
    assert external == [] and csp_errors == []


def test_a_student_types_the_code(servers, served_world, lesson_now, browser):  # noqa: F811
    server = servers()
    code = requests.get(f"{server.url}/api/v1/sessions/{lesson_now}/rating-code",
                        headers=bearer(served_world["tokens"]["user_t1"]), timeout=10).json()["code"]  # fmt: skip
    page = browser.new_page(viewport=PHONE, locale="id-ID")
    page.goto(f"{server.url}/nilai")
    page.fill("#code", code.lower())
    page.click("button.send")
    page.wait_for_selector("#send")
    assert page.url == f"{server.url}/nilai/{code}"
    page.screenshot(path=str(SCREENSHOTS / "rate-enter-code.png"), full_page=True)
