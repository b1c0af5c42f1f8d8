"""The first look for fixed strings that several filters share."""
import pytest

from pipeline.text.substrings import any_of


def test_any_of_finds_each_string_in_any_script_and_nothing_else():
    has = any_of("ewsletter", "ookie", "会員", "Ctrl+Enter", "it's \"quoted\"")
    for text in ["Sign up for our newsletter", "Wir verwenden Cookies", "有料会員の方のみ", "press Ctrl+Enter",
                 "and it's \"quoted\" here", "Newsletter: Ü"]:
        assert has(text), text
    for text in ["The company launched a letter", "Bake the biscuits", "会社", "", "Ctrl + Enter"]:
        assert not has(text), text


def test_any_of_with_strings_of_one_kind_only():
    assert any_of("会員")("有料会員") and not any_of("会員")("member")
    assert any_of("ookie")("cookies, 会員") and not any_of("ookie")("会員")


def test_any_of_needs_a_string():
    with pytest.raises(ValueError):
        any_of()
