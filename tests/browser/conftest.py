"""Playwright's own sync API driving Debian's Chromium: a browser per run, a page per test.

Our fixtures instead of the pytest-playwright plugin: it pulled in pytest-base-url, whose
session fixture pytest 9.2 deprecates, and we need only these three.
"""

import os

import pytest
from playwright.sync_api import sync_playwright

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, with no calls out of this machine."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()
