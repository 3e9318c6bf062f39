from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jiepai.intake.conditions import condition_error, condition_holds, sample_names
from jiepai.intake.models import TagRule


def test_seed_condition_is_valid_and_holds_on_plc_pages():
    condition = 'kind == "web_form" and "/product/plc" in page_url'
    assert condition_error(condition) is None
    names = {**sample_names(), "kind": "web_form", "page_url": "https://x.com/product/plc/s7"}
    assert condition_holds(condition, names)


@pytest.mark.parametrize(
    "condition",
    ["kind ==", "shoe_size > 3", '__import__("os").system("x")', "().__class__", ""],
)
def test_bad_conditions_are_reported(condition):
    assert condition_error(condition)


def test_condition_failing_at_run_time_does_not_hold():
    assert not condition_holds("budget > 3", {**sample_names(), "budget": "abc"})


def test_budget_and_list_conditions():
    names = {**sample_names(), "budget": 600000.0, "industry": "医疗器械"}
    assert condition_holds('budget > 500000 or industry in ["半导体"]', names)
    assert condition_holds('industry in ["医疗器械", "半导体"]', names)


def test_rule_with_invalid_condition_fails_validation_on_save():
    rule = TagRule(name="坏规则", condition="page_url ~ 3", tag_name="x")
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert "condition" in caught.value.message_dict
