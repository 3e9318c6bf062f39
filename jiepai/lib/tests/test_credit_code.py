from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiepai.lib.credit_code import (
    ALPHABET,
    check_character,
    credit_code_key,
    is_valid_credit_code,
    normalize_credit_code,
)

# published codes of real companies
REAL = ["914403001922038216", "91110000600037341L", "91350100M000100Y43"]

first17 = st.builds(
    lambda a, d, o: a + d + o,
    st.text(alphabet=ALPHABET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
)


@pytest.mark.parametrize("code", REAL)
def test_real_codes_are_valid(code):
    assert is_valid_credit_code(code)


def test_wrong_check_character_is_invalid():
    assert not is_valid_credit_code("914403001922038217")


def test_spaces_dashes_full_width_and_lower_case_are_normalised():
    assert credit_code_key(" ９１４４ ０３００-1922038216 ") == "914403001922038216"
    assert credit_code_key("91110000600037341l") == "91110000600037341L"


@pytest.mark.parametrize("raw", ["", None, "12345", "9144030019220382161", "91440300192203821I"])
def test_malformed_codes_give_no_key(raw):
    assert credit_code_key(raw) == ""


@given(first17)
def test_computed_check_character_validates(body):
    assert is_valid_credit_code(body + check_character(body))


@given(first17, st.integers(min_value=0, max_value=17), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_detected(body, position, replacement):
    code = body + check_character(body)
    if code[position] == replacement or (2 <= position < 8 and not replacement.isdigit()):
        return
    changed = code[:position] + replacement + code[position + 1 :]
    assert not is_valid_credit_code(changed)


@given(st.text(max_size=30))
def test_normalise_never_raises_and_is_idempotent(text):
    once = normalize_credit_code(text)
    assert normalize_credit_code(once) == once
