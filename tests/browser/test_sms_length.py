"""The reply box counts SMS length and parts as a phone would: GSM-7 (160 in one SMS, 153 per
part, an extension character such as € costs two) or, with any other character, UCS-2 (70 and
67 UTF-16 units, an emoji costs two); a part never splits a pair."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_inbox_breakages import seed_thread
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
A = "a"
SMILE = "\N{GRINNING FACE}"
CASES = [
    ("", "GSM-7", 0, 0),
    (A * 160, "GSM-7", 160, 1),
    (A * 161, "GSM-7", 161, 2),
    (A * 306, "GSM-7", 306, 2),
    (A * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),  # the extension character counts two
    (A * 159 + "€", "GSM-7", 161, 2),
    (A * 152 + "€", "GSM-7", 154, 1),
    (A * 152 + "€" + A * 2, "GSM-7", 156, 1),
    (A * 152 + "€" + A * 10, "GSM-7", 164, 2),  # € does not split: 152 | 2 + 10
    ("Café à 9h, Ñandu: ok", "GSM-7", 20, 1),  # é, à and Ñ are GSM-7 letters
    ("ça va", "UCS-2", 5, 1),  # ç (lower case) is not in GSM-7, Ç is
    (SMILE, "UCS-2", 2, 1),
    (A * 68 + SMILE, "UCS-2", 70, 1),
    (A * 69 + SMILE, "UCS-2", 71, 2),
    (SMILE * 35, "UCS-2", 70, 1),
    (A * 66 + SMILE + A * 66, "UCS-2", 134, 3),  # the emoji moves whole into the second part
]


def test_the_counter_knows_gsm7_and_ucs2(live_app, live_url, page):
    org, thread_id = seed_thread(live_app)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{thread_id}")
    page.wait_for_load_state("load")

    measure = "(t) => { const r = smsLength(t); return [r.encoding, r.units, r.segments]; }"
    got = [page.evaluate(measure, text) for text, *_ in CASES]

    assert got == [[encoding, units, segments] for _, encoding, units, segments in CASES]


def test_the_reply_box_shows_length_and_parts_as_you_type(live_app, live_url, page):
    org, thread_id = seed_thread(live_app)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{thread_id}")
    reply = page.get_by_label("Reply")
    counter = page.locator(".composer .sms-length")

    # under the reply's row, before "Send later": not at the foot of the form, past it
    row, later = (page.locator(".composer-row").bounding_box(),
                  page.locator("details.send-later").bounding_box())
    top = counter.bounding_box()["y"]
    assert row["y"] + row["height"] <= top < later["y"], (row, top, later)

    reply.fill(A * 160)
    expect(counter).to_have_text("160 / 160 · 1 SMS")
    reply.fill(A * 161)
    expect(counter).to_have_text("161 / 306 · 2 SMS")
    reply.fill("See you at 5 " + SMILE)
    expect(counter).to_contain_text("15 / 70 · 1 SMS · Unicode")
    assert reply.get_attribute("aria-describedby") == counter.get_attribute("id")

    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.outbound .bubble")).to_have_text("See you at 5 " + SMILE)
    expect(page.locator(".composer .sms-length")).to_have_text("")
