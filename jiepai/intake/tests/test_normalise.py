from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiepai.intake.normalise import (
    clean_values,
    normalise_budget,
    normalise_email,
    normalise_phone,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "+86 138 0013 8000",
        "0086 138-0013-8000",
        "１３８００１３８０００",
    ],
)
def test_mobile_spellings_become_e164(raw):
    assert normalise_phone(raw) == "+8613800138000"


def test_landline_with_area_code_becomes_e164():
    assert normalise_phone("(021)1234-5678") == "+862112345678"


@pytest.mark.parametrize("raw", ["12345", "abc", "", "1380013800"])
def test_invalid_numbers_raise(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_extension_is_kept_after_the_number():
    assert normalise_phone("021-12345678 转808") == "+862112345678 转808"


def test_email_is_lowercased_and_checked():
    assert normalise_email(" Wang.Lei@Example.COM ") == "wang.lei@example.com"
    with pytest.raises(ValueError):
        normalise_email("wang@")


def test_budget_understands_wan_and_rejects_negative():
    assert normalise_budget("50万") == Decimal("500000.00")
    with pytest.raises(ValueError):
        normalise_budget("-3")


def test_clean_values_reports_errors_per_field_and_keeps_the_rest():
    result = clean_values({"mobile": "123", "name": " 王磊 ", "title": "x" * 51})
    assert result.values == {"name": "王磊"}
    assert set(result.errors) == {"mobile", "title"}


@given(st.text(max_size=40))
def test_cleaning_never_raises(text):
    clean_values({"mobile": text, "email": text, "budget": text, "name": text})
