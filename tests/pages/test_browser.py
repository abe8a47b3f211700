"""The pages in a real browser (headless Chromium driven by Playwright) on a phone-sized screen,
against a real server: a school sees its order change live, a teacher takes an offer with one tap.

Skipped, with the reason, where Chromium is not installed (Debian: `apt install chromium`).
"""

from __future__ import annotations

import shutil

import pytest
import requests

from tests.dispatch.test_live_server import bearer, post_urgent_order
from tests.live_server import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PHONE = {"width": 360, "height": 640}

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt install chromium to run the browser tests"),
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),  # about the pages, not the database
]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


def open_as(browser, server: Server, username: str):
    page = browser.new_page(viewport=PHONE, locale="id-ID")
    external = []
    page.on("request", lambda r: None if r.url.startswith(server.url) else external.append(r.url))
    page.goto(f"{server.url}/masuk")
    page.fill("#username", username)
    page.fill("#password", "secret-password")
    page.click("button.primary")
    page.wait_for_selector("#live:text('tersambung')", timeout=10_000)
    return page, external


def test_school_sees_its_order_booked_live_as_a_teacher_taps_accept(servers, served_world, browser):
    server = servers()
    school, school_external = open_as(browser, server, "op-a")
    teacher, teacher_external = open_as(browser, server, "guru-1")

    order = post_urgent_order(server, served_world["tokens"]["op_a"])
    card = f"#order-{order['id']}"
    school.wait_for_selector(f"{card} .badge.offered", timeout=10_000)  # appeared without a reload
    teacher.wait_for_selector("#offers > li [data-accept]", timeout=10_000)
    teacher.click("#offers > li [data-accept]")
    teacher.wait_for_selector("#message:text('Diterima')", timeout=10_000)
    school.wait_for_selector(f"{card}[data-status='booked']", timeout=10_000)
    assert "terisi" in school.inner_text(card)
    # The other teacher's offer went: the API agrees.
    assert requests.get(f"{server.url}/api/v1/offers", headers=bearer(served_world["tokens"]["user_t2"])).json() == []
    # Fits a small phone: nothing wider than the screen.
    assert school.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert school_external == [] and teacher_external == []  # nothing from the internet


def test_a_teacher_page_that_lost_its_connection_shows_offers_made_meanwhile(servers, served_world, browser):
    server = servers()
    teacher, _ = open_as(browser, server, "guru-1")
    teacher.context.set_offline(True)
    teacher.wait_for_selector("#live:not(:text('tersambung'))", timeout=60_000)
    order = post_urgent_order(server, served_world["tokens"]["op_a"])
    teacher.context.set_offline(False)
    teacher.wait_for_selector("#offers > li", timeout=30_000)
    assert teacher.locator("#offers > li").count() == 1
    [offer] = requests.get(f"{server.url}/api/v1/offers", headers=bearer(served_world["tokens"]["user_t1"])).json()
    assert offer["order_id"] == order["id"] and teacher.locator(f"#offer-{offer['id']}").count() == 1
