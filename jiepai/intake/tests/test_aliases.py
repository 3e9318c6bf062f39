from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiepai.intake.aliases import (
    alias_key,
    check_alias_map,
    check_field_list,
    default_aliases,
    flatten,
    map_fields,
)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("手机号", "mobile"),
        ("电话", "mobile"),
        ("mobile_phone", "mobile"),
        ("phone", "mobile"),
        ("tel", "mobile"),
        ("Mobile Phone", "mobile"),
        ("mobilePhone", "mobile"),
        ("公司", "company"),
        ("单位", "company"),
        ("company_name", "company"),
        ("企业名称", "company"),
        ("姓名", "name"),
        ("name", "name"),
        ("联系人", "name"),
        ("职位", "title"),
        ("title", "title"),
        ("岗位", "title"),
        ("邮箱", "email"),
        ("E-mail", "email"),
        ("微信号", "wechat"),
        ("留言", "message"),
        ("展位号", "booth"),
        ("页面地址", "page_url"),
        ("clue_id", "external_id"),
        ("visitor_id", "visitor_id"),
    ],
)
def test_default_aliases_cover_common_names(name, field):
    assert default_aliases()[alias_key(name)] == field


def test_alias_key_ignores_case_width_and_separators():
    assert (
        alias_key("Mobile-Phone")
        == alias_key("ｍｏｂｉｌｅ＿ｐｈｏｎｅ")
        == alias_key("mobilePhone")
    )


@given(st.text(max_size=30))
def test_alias_key_is_idempotent(name):
    assert alias_key(alias_key(name)) == alias_key(name)


def test_first_non_blank_value_wins():
    mapped = map_fields({"手机": "", "电话": "13800138000", "phone": "13900000000"})
    assert mapped.values == {"mobile": "13800138000"}


def test_nested_objects_are_flattened():
    assert map_fields({"data": {"姓名": "王磊", "extra": {"公司": "恒锐"}}}).values == {
        "name": "王磊",
        "company": "恒锐",
    }


def test_label_value_lists_are_understood():
    payload = {"fields": [{"label": "手机号", "value": "138"}, {"name": "公司", "value": "恒锐"}]}
    assert map_fields(payload).values == {"mobile": "138", "company": "恒锐"}


def test_lists_of_plain_values_are_joined():
    assert flatten({"兴趣": ["PLC", "伺服"]}) == [("兴趣", "PLC, 伺服")]


def test_channel_alias_can_target_a_custom_field():
    mapped = map_fields({"设备台数": "3"}, channel_aliases={"设备台数": "custom.device_count"})
    assert mapped.custom == {"device_count": "3"}


def test_unknown_names_are_reported():
    assert map_fields({"喜欢的颜色": "蓝", "姓名": "王"}).unmapped == ["喜欢的颜色"]


def test_alias_map_to_unknown_field_is_an_error():
    assert check_alias_map({"手机号": "cellphone"})
    assert check_alias_map({"手机号": "mobile", "x": "custom.k"}) is None
    assert check_alias_map(["not", "a", "dict"])


def test_field_list_check():
    assert check_field_list(["company", "title", "mobile"]) is None
    assert check_field_list(["company", "shoe_size"])
    assert check_field_list("company")
