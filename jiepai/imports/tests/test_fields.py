"""Headers find their fields: labels (zh/en), field names, custom fields, aliases, saved maps."""

from __future__ import annotations

import pytest

from jiepai.customfields.models import FieldDefinition
from jiepai.imports import services
from jiepai.imports.fields import auto_map, field_specs, normalise_header
from jiepai.imports.models import ImportMapping


def test_headers_are_compared_without_width_case_marks_or_spacing():
    assert normalise_header("手机号 *") == "手机号"
    assert normalise_header("Mobile_Phone") == "mobilephone"
    assert normalise_header("ＭＯＢＩＬＥ") == "mobile"
    assert normalise_header("姓名(必填)") == "姓名"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("手机号", "mobile"),
        ("电话", "mobile"),
        ("mobile_phone", "mobile"),
        ("公司", "company"),
        ("单位", "company"),
        ("company_name", "company"),
        ("邮箱", "email"),
        ("E-mail", "email"),
        ("负责人", "owner"),
        ("外部编号", "external_id"),
        ("budget", "budget"),
        ("预算", "budget"),
    ],
)
def test_lead_headers_map_by_label_name_and_alias(header, field):
    assert auto_map([header], field_specs("lead"), "lead") == {0: field}


@pytest.mark.django_db
def test_the_same_word_maps_by_entity():
    assert auto_map(["公司"], field_specs("account"), "account") == {0: "name"}
    assert auto_map(["公司"], field_specs("contact"), "contact") == {0: "account"}
    assert auto_map(["电话"], field_specs("account"), "account") == {0: "phone"}


@pytest.mark.django_db
def test_custom_fields_map_by_label_english_label_and_key():
    FieldDefinition.objects.create(
        entity="lead",
        key="industry_detail",
        label="细分行业",
        label_en="Sub-industry",
        field_type="text",
    )
    specs = field_specs("lead")
    assert auto_map(["细分行业", "x"], specs, "lead") == {0: "custom.industry_detail"}
    assert auto_map(["sub industry"], specs, "lead") == {0: "custom.industry_detail"}
    assert auto_map(["industry_detail"], specs, "lead") == {0: "custom.industry_detail"}


@pytest.mark.django_db
def test_a_field_is_taken_by_the_first_column_only():
    assert auto_map(["手机", "手机号"], field_specs("lead"), "lead") == {0: "mobile"}


@pytest.mark.django_db
def test_a_saved_mapping_is_applied_to_the_next_file(people, sheet):
    ImportMapping.objects.create(
        entity="lead", name="展会表", columns={"扫码手机": "mobile", "客户称呼": "name"}
    )
    path = sheet([["客户称呼", "扫码手机"], ["张三", "13800138000"]])
    job = services.create_job(
        actor=people.marketing,
        entity="lead",
        filename=path.name,
        source_path=str(path),
        mapping_name="展会表",
    )
    assert job.mapping == {"0": "name", "1": "mobile"}
