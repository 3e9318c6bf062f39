"""Stage gates travel in the configuration YAML."""

from __future__ import annotations

import pytest

from jiepai.core.config import ConfigError, dump_yaml, export_config, import_config, load_yaml
from jiepai.pipeline.models import GateRequirement


def test_export_has_the_default_gates(db):
    gates = export_config()["stage_gates"]
    quote = [g for g in gates if g["label"] == "报价单已发送"]
    assert {g["kind"] for g in quote} == {"attachment", "activity"}
    assert all(g["stage"] == "方案演示" and g["any_of"] == "quote_sent" for g in quote)


def test_import_of_the_export_changes_nothing(db):
    data = load_yaml(dump_yaml(export_config()))
    result = import_config(data)
    report = result.sections["stage_gates"]
    assert report.created == 0 and report.updated == 0 and report.unchanged > 0


def test_import_adds_a_gate_and_updates_one(db):
    data = {
        "jiepai_config": 1,
        "stage_gates": [
            {
                "pipeline": "标准销售流程",
                "stage": "报价反馈",
                "label": "金额已确认",
                "kind": "range",
                "field_name": "amount",
                "min_value": 10000,
            },
            {
                "pipeline": "标准销售流程",
                "stage": "输单",
                "label": "输单原因",
                "kind": "field",
                "help_text": "写清楚丢单原因",
            },
        ],
    }
    import_config(data)
    assert GateRequirement.objects.get(label="金额已确认").min_value == 10000
    assert GateRequirement.objects.get(label="输单原因").help_text == "写清楚丢单原因"


@pytest.mark.parametrize(
    "item",
    [
        {"pipeline": "标准销售流程", "stage": "没有这个", "label": "x", "kind": "field"},
        {
            "pipeline": "标准销售流程",
            "stage": "报价反馈",
            "label": "x",
            "kind": "condition",
            "expression": "amount >",
        },
        {"pipeline": "标准销售流程", "stage": "报价反馈", "label": "x", "kind": "field", "oops": 1},
    ],
)
def test_bad_gate_item_is_refused_with_its_name(db, item):
    with pytest.raises(ConfigError) as error:
        import_config({"jiepai_config": 1, "stage_gates": [item]})
    assert "stage_gates" in str(error.value)
    assert not GateRequirement.objects.filter(label="x").exists()
