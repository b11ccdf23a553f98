"""Keyword matching: the whole body is the keyword, any case, trimmed, surrounding punctuation
ignored; anything more is an ordinary message."""

import pytest

from pawline.consent import HELP, OPT_IN, OPT_OUT, Keyword, keyword


@pytest.mark.parametrize("word", ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                                  "REVOKE", "OPTOUT"])
def test_each_opt_out_word_opts_out(word):
    assert keyword(word) == Keyword(OPT_OUT, word)
    assert keyword(word.lower()) == Keyword(OPT_OUT, word)


@pytest.mark.parametrize("word", ["START", "UNSTOP", "YES"])
def test_each_opt_in_word_opts_in(word):
    assert keyword(word.capitalize()) == Keyword(OPT_IN, word)


@pytest.mark.parametrize("word", ["HELP", "INFO"])
def test_help_and_info_ask_for_help(word):
    assert keyword(f" {word.lower()}? ") == Keyword(HELP, word)


@pytest.mark.parametrize("body", [
    "STOP.", " stop ", "Stop!", "stop\n", "\tSTOP\r\n", "'stop'", '"STOP"', "(stop)", "¡STOP!",
    "...stop...", "«STOP»", "STOP\u200b", "ＳＴＯＰ", "sToP", "-stop-",
])
def test_case_space_and_surrounding_punctuation_do_not_matter(body):
    assert keyword(body) == Keyword(OPT_OUT, "STOP")


@pytest.mark.parametrize("body", [
    "Stop by at 5?", "STOP please", "please stop", "stop it", "STOP STOP", "S.T.O.P", "st op",
    "stopp", "sto", "stopping", "Don't stop", "OPT OUT", "opt-out", "UN SUBSCRIBE", "yes!!1",
    "yes please", "startle", "helpful", "info@example.com", "HELP ME", "", "   ", "...", None,
    "STOP 🛑", "🛑", "ST0P", "end of walk", "cancel tomorrow's walk", "Quit it Rex",
])
def test_near_misses_are_ordinary_messages(body):
    assert keyword(body) is None
