from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiepai.lib.cn_surnames import SURNAMES
from jiepai.lib.emails import normalize_email
from jiepai.lib.names import TITLES, split_name


@pytest.mark.parametrize(
    "raw, name, title",
    [
        ("张主任", "张", "主任"),
        ("李总", "李", "总"),
        ("王小姐", "王", "小姐"),
        ("张伟主任", "张伟", "主任"),
        ("張偉 經理", "张伟", "经理"),
        ("李娜(采购)", "李娜", "采购"),
        ("欧阳总", "欧阳", "总"),
        ("王建国", "王建国", ""),
        ("张伟采购经理", "张伟", "采购经理"),
        ("宋丽丽 采购主管", "宋丽丽", "采购主管"),
        ("李建平 设备科主任", "李建平", "设备科主任"),
    ],
)
def test_titles_are_split_off(raw, name, title):
    person = split_name(raw)
    assert (person.name, person.title) == (name, title)


def test_department_in_front_is_split_off():
    person = split_name("采购科张主任")
    assert (person.department, person.name, person.title) == ("采购科", "张", "主任")


def test_lao_and_xiao_prefixes_leave_the_surname():
    assert split_name("老王").name == "王"
    assert split_name("小李").name == "李"


def test_surname_only_names_are_marked():
    assert split_name("张主任").surname_only
    assert not split_name("张伟").surname_only


def test_compound_surname_is_recognised():
    assert split_name("欧阳娜娜").surname == "欧阳"


def test_one_character_title_is_not_taken_from_a_full_name():
    # 马工 is 马 + 工 (engineer), but the 工 in a three-character name is part of the name
    assert split_name("马工").title == "工"
    assert split_name("王建工").name == "王建工"


def test_latin_names_are_lower_case_without_honorifics():
    person = split_name("Mr. Wei ZHANG")
    assert person.latin and person.name == "wei zhang"


@given(st.sampled_from(sorted(SURNAMES)), st.sampled_from([t for t in TITLES if len(t) > 1]))
def test_surname_plus_title_always_splits(surname, title):
    person = split_name(surname + title)
    assert person.name == surname and person.title == title


@given(st.text(max_size=30))
def test_split_never_raises(text):
    person = split_name(text)
    assert isinstance(person.name, str)


@given(st.from_regex(r"[a-z0-9._]{1,12}@[a-z0-9]{1,10}\.(com|cn|net)", fullmatch=True))
def test_email_is_lower_cased_and_idempotent(address):
    assert normalize_email(address.upper()) == address
    assert normalize_email(normalize_email(address)) == address


@pytest.mark.parametrize("raw", ["", "none", "a@b", "@x.com", "a@@b.com", "a@b."])
def test_non_addresses_give_no_email_key(raw):
    assert normalize_email(raw) == ""
