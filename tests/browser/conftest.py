"""Playwright's own sync API driving Debian's Chromium: a browser per run, a page per test.

Our fixtures instead of the pytest-playwright plugin: it pulled in pytest-base-url, whose
session fixture pytest 9.2 deprecates, and we need only these three.
"""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

# An assertion waits up to 15 s for the page to become what it says (5 s by default): on a
# loaded CI machine a debounced htmx request and its answer have taken longer than 5 s. A
# page that never gets there still fails.
expect.set_options(timeout=15_000)

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
