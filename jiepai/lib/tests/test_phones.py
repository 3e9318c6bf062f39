from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiepai.lib.phones import (
    Phone,
    _parse,
    _plain_cn_mobile,
    one_digit_apart,
    parse_phone,
    phone_key,
)

MOBILE = "+8613800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "0086 138-0013-8000",
        "+86-138-0013-8000",
        "１３８００１３８０００",
        "(+86)13800138000",
    ],
)
def test_mobile_written_any_way_gives_one_key(raw):
    assert phone_key(raw) == MOBILE


@pytest.mark.parametrize(
    "raw", ["021-12345678", "(021)1234-5678", "021 1234 5678", "+86 21 1234 5678"]
)
def test_landline_with_area_code_gives_one_key(raw):
    assert phone_key(raw) == "+862112345678"


@pytest.mark.parametrize(
    "raw, extension",
    [
        ("021-12345678 转 808", "808"),
        ("021-12345678转808", "808"),
        ("021-12345678 分机 808", "808"),
        ("021-12345678 ext. 808", "808"),
        ("021-12345678-808", "808"),
    ],
)
def test_extension_is_split_off_the_key(raw, extension):
    phone = parse_phone(raw)
    assert phone is not None
    assert phone.e164 == "+862112345678"
    assert phone.extension == extension
    assert not phone.is_mobile


def test_mobile_is_marked_mobile():
    assert parse_phone("13800138000").is_mobile


def test_service_number_is_valid():
    assert phone_key("4008-123-456") == "+864008123456"


@pytest.mark.parametrize("raw", ["", None, "12345", "1380013800", "电话待补充", "010-8888888"])
def test_invalid_numbers_give_no_key(raw):
    assert phone_key(raw) == ""


def test_one_mistyped_digit_is_one_digit_apart():
    assert one_digit_apart("+8613800138000", "+8613800138001")


def test_swapped_neighbours_are_one_digit_apart():
    assert one_digit_apart("+8613800138000", "+8613800183000")


def test_two_mistyped_digits_are_not_one_digit_apart():
    assert not one_digit_apart("+8613800138000", "+8613811138000")


@given(st.text(max_size=80))
def test_parse_never_raises_on_any_text(text):
    key = phone_key(text)
    assert key == "" or key.startswith("+")


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86", "0086", "+86 "])
)
def test_key_does_not_depend_on_prefix_or_separators(number, prefix):
    spaced = f"{number[:3]} {number[3:7]} {number[7:]}"
    assert phone_key(prefix + number) == phone_key(number) == phone_key(spaced)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_key_is_idempotent(number):
    key = phone_key(number)
    assert key == "" or phone_key(key) == key


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_full_width_digits_give_the_same_key(number):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert phone_key(full_width) == phone_key(number)


# --- the fast path for plain mobiles gives exactly what the whole way gives --------------------


def _whole_way(raw: object) -> Phone | None:
    return _parse(str(raw), "CN")


def test_fast_path_agrees_on_every_five_digit_mobile_prefix():
    rng = random.Random(11)
    for prefix in range(13000, 20000):
        number = f"{prefix}{rng.randrange(10**6):06d}"
        assert parse_phone(number) == _whole_way(number), number
        assert parse_phone(int(number)) == _whole_way(number), number


def test_fast_path_is_taken_for_plain_mobiles():
    assert _plain_cn_mobile("+86 138-0013-8000") == parse_phone("13800138000")
    assert _plain_cn_mobile("13800138000转808") is None  # an extension: the whole way


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.lists(st.tuples(st.integers(0, 11), st.sampled_from([" ", "-", "  ", " - "])), max_size=4),
    st.sampled_from(["", "+86", "+86 ", "+86-", " +86", "+ 86", "86", "0086", "+860", "-"]),
    st.sampled_from(["", " ", "-", "转8", "x12"]),
)
def test_fast_path_agrees_with_the_whole_way_on_written_variants(number, cuts, prefix, tail):
    text = number
    for position, separator in sorted(cuts, reverse=True):
        text = text[:position] + separator + text[position:]
    raw = prefix + text + tail
    assert parse_phone(raw) == _whole_way(raw), raw
