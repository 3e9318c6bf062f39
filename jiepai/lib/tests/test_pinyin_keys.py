from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiepai.lib.pinyin_keys import han_pinyin, pinyin_keys, surname_pinyin


def test_han_name_has_one_pinyin_key():
    assert pinyin_keys("张伟") == ("zhangwei",)


@pytest.mark.parametrize("raw", ["Zhang Wei", "zhang wei", "ZHANG WEI", "Wei Zhang", "Zhangwei"])
def test_pinyin_spellings_meet_the_han_key(raw):
    assert "zhangwei" in pinyin_keys(raw)


def test_surname_readings_override_everyday_readings():
    assert han_pinyin("单雄信") == "shanxiongxin"
    assert han_pinyin("曾国藩") == "zengguofan"
    assert han_pinyin("解缙") == "xiejin"


def test_titles_do_not_enter_the_key():
    assert pinyin_keys("张主任") == ("zhang",)
    assert surname_pinyin("张伟") == "zhang"


def test_traditional_characters_give_the_same_key():
    assert pinyin_keys("張偉") == pinyin_keys("张伟")


@given(st.text(max_size=20))
def test_keys_are_lower_case_letters_only(text):
    for key in pinyin_keys(text):
        assert key.isascii() and key.isalpha() and key == key.lower()
