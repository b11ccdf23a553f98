"""On a phone the reply area stays at the foot of the screen, so it keeps short while the
timeline is read: each sentence on the line a reply answers from keeps to one line until the
reply box holds words (static/ergonomics.css). On a wide screen they are always whole."""

import pytest

from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, PHONE, seed_world

pytestmark = pytest.mark.browser
SENTENCES = ("#route-hint", "#route-warning")


def heights(page) -> dict[str, float]:
    return {s: page.locator(s).bounding_box()["height"] for s in (*SENTENCES, ".composer")}


def test_on_a_phone_the_line_sentences_keep_to_one_line_until_a_reply_is_written(
        live_app, live_url, browser):
    world = seed_world(live_app)  # a sitter's window, and the client last texted the pool line
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, live_url, world.org.staff_email)
    page.goto(f"{live_url}/threads/{world.thread}")
    warning = page.locator("#route-warning")
    words = warning.inner_text()
    assert words.startswith("This reply comes from a different number:")  # what one line shows

    reading = heights(page)
    page.get_by_label("Reply").focus()
    assert heights(page) == reading  # a touch in the box moves nothing yet
    page.get_by_label("Reply").fill("On")
    writing = heights(page)

    for sentence in SENTENCES:  # one line (cut, the words all there) while reading, whole after
        line = page.locator(sentence).evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
        assert reading[sentence] < 2 * line, (sentence, reading)
        assert writing[sentence] - reading[sentence] > 0.9 * line, (sentence, reading, writing)
    assert warning.inner_text() == words
    assert writing[".composer"] - reading[".composer"] > line
    page.get_by_label("Reply").fill("")
    assert heights(page) == reading
    context.close()


def test_on_a_wide_screen_the_line_sentences_are_always_whole(live_app, live_url, browser):
    world = seed_world(live_app)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, live_url, world.org.staff_email)
    page.goto(f"{live_url}/threads/{world.thread}")
    reading = heights(page)
    page.get_by_label("Reply").fill("On")
    assert heights(page) == reading  # nor does the first word move the reply area
    context.close()
