"""The linkify filter: message text stays text; its web addresses become safe links."""

from markupsafe import Markup

from blueprints.formatting import linkify

REL = 'rel="noopener noreferrer nofollow" target="_blank"'


def test_a_url_becomes_a_safe_link():
    assert linkify("See https://example.com/a?b=1&c=2 now") == Markup(
        f'See <a href="https://example.com/a?b=1&amp;c=2" {REL}>https://example.com/a?b=1&amp;c=2</a>'
        " now")


def test_trailing_punctuation_stays_outside_the_link():
    assert linkify("Go to www.example.com.") == Markup(
        f'Go to <a href="https://www.example.com" {REL}>www.example.com</a>.')
    assert linkify("(http://x.org/a_(b))") == Markup(
        f'(<a href="http://x.org/a_(b)" {REL}>http://x.org/a_(b)</a>)')


def test_script_in_a_message_stays_text():
    html = str(linkify('<script>alert("x")</script> http://e.com/"><script>'))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert f'<a href="http://e.com/" {REL}>http://e.com/</a>&#34;&gt;&lt;script&gt;' in html


def test_no_url_and_no_text():
    assert linkify("Is Rex okay? javascript:alert(1)") == Markup(
        "Is Rex okay? javascript:alert(1)")
    assert linkify("http:// and https://") == Markup("http:// and https://")
    assert linkify(None) == Markup("")
