from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiepai.lib.companies import (
    _INDUSTRY,
    _ORDINAL,
    _UNAMBIGUOUS_PLACE,
    INDUSTRY_WORDS,
    LEGAL_FORMS,
    _brand,
    _distinctive,
    _is_place,
    _strip_legal_form,
    normalize_company,
)


def core(name: str) -> str:
    return normalize_company(name).core


@pytest.mark.parametrize(
    "variant",
    ["上海交通大学医学院附属瑞金医院", "上海瑞金医院", "瑞金医院", "上海市瑞金医院", "瑞金醫院"],
)
def test_ruijin_hospital_variants_share_one_core(variant):
    assert core(variant) == "瑞金医院"


def test_generic_hospital_keeps_its_city():
    assert core("上海市第一人民医院") == core("上海第一人民医院") == "上海第一人民医院"
    assert core("北京市第一人民医院") != core("上海市第一人民医院")


@pytest.mark.parametrize(
    "variant",
    [
        "北京字节跳动科技有限公司",
        "字节跳动科技有限公司",
        "北京字节跳动科技股份有限公司",
        "字节跳动科技(北京)有限公司",
    ],
)
def test_legal_forms_and_places_are_removed(variant):
    assert core(variant) == "字节跳动科技"


def test_china_in_brackets_is_removed_full_width_or_not():
    assert core("西门子(中国)有限公司") == core("西门子（中国）有限公司") == "西门子"


def test_traditional_characters_are_simplified():
    assert normalize_company("西門子（中國）有限公司").full == "西门子(中国)有限公司"


def test_branch_is_split_off_and_kept():
    name = normalize_company("华为技术有限公司上海分公司")
    assert name.core == core("华为技术有限公司") == "华为技术"
    assert name.branch == "上海分公司"


def test_office_marker_is_a_branch():
    assert normalize_company("某某医疗器械有限公司北京办事处").branch == "北京办事处"


def test_brand_drops_industry_words():
    assert normalize_company("北京字节跳动科技有限公司").brand == "字节跳动"


def test_place_is_never_a_brand():
    assert normalize_company("中国银行").brand == "中国银行"
    assert normalize_company("北京大学").brand == "北京大学"


@pytest.mark.parametrize(
    "short, full",
    [
        ("工行", "中国工商银行股份有限公司"),
        ("北大", "北京大学"),
        ("中石化", "中国石油化工股份有限公司"),
    ],
)
def test_common_abbreviations_share_the_core(short, full):
    assert core(short) == core(full)


def test_ambiguous_place_word_is_kept_without_city_suffix():
    assert core("复旦大学附属中山医院") == "中山医院"
    assert core("阿里巴巴网络技术有限公司").startswith("阿里巴巴")


def test_latin_names_lose_legal_form_and_country():
    assert core("IBM (China) Co., Ltd.") == "ibm"


def test_empty_name_gives_empty_forms():
    assert normalize_company("  ") == normalize_company("")
    assert normalize_company("").core == ""


@given(st.text(max_size=60))
def test_normalise_never_raises(text):
    name = normalize_company(text)
    assert (name.core == "") == (name.full == "")


@given(st.text(alphabet="凌云创汇华强科技网络医疗器械", min_size=2, max_size=8))
def test_legal_suffix_does_not_change_core(stem):
    assert core(stem + "有限公司") == core(stem + "股份有限公司") or core(stem).endswith("股份")


@given(st.text(alphabet="凌云创汇华强科技网络医疗器械", min_size=2, max_size=8))
def test_full_width_and_half_width_brackets_are_one_name(stem):
    assert normalize_company(f"{stem}（上海）").full == normalize_company(f"{stem}(上海)").full


# --- the indexed word lookups find what a scan of every word in order finds --------------------

_PIECES = [*INDUSTRY_WORDS, *LEGAL_FORMS, "上海", "瑞金", "华为", "第一", "a", "科", "技", "有限"]


def _distinctive_by_scan(text: str) -> bool:
    rest = _UNAMBIGUOUS_PLACE.sub("", _ORDINAL.sub("", text), count=1)
    for word in _INDUSTRY:
        rest = rest.replace(word, "")
    return len(rest) >= 2


def _brand_by_scan(core: str) -> str:
    brand, changed = core, True
    while changed:
        changed = False
        for word in _INDUSTRY:
            if brand.endswith(word) and len(brand) - len(word) >= 2:
                brand, changed = brand[: -len(word)], True
                break
    if brand != core and (_is_place(brand) or not _distinctive_by_scan(brand)):
        return core
    return brand


def _legal_form_by_scan(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for form in LEGAL_FORMS:
            if text.endswith(form) and len(text) > len(form):
                text, changed = text[: -len(form)].rstrip(" .,-&"), True
                break
    return text


@given(st.lists(st.sampled_from(_PIECES), max_size=6))
def test_indexed_word_lookups_agree_with_a_scan_of_every_word(pieces):
    text = "".join(pieces)
    assert _distinctive(text) == _distinctive_by_scan(text)
    assert _brand(text) == _brand_by_scan(text)
    assert _strip_legal_form(text) == _legal_form_by_scan(text)
