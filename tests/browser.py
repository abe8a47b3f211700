"""The browser tests' shared parts: the system's Chromium driven by Playwright (never a downloaded
browser), axe-core from npm, and what a missing one means (a skip with the reason; a failure under
GURU_REQUIRE_SERVICES, as in .ci/run). Test modules import the fixtures by name."""

from __future__ import annotations

import shutil

import pytest

from config import TestingConfig
from tests.live_server import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests" / "screenshots"


def missing(reason: str):
    if TestingConfig.REQUIRE_SERVICES:
        pytest.fail(f"GURU_REQUIRE_SERVICES is set: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        missing("no Chromium: apt-get install chromium (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        missing("no axe-core: run `make setup` (npm ci) to install it")
    return AXE.read_text()
