"""Routing policies and rules travel in the configuration YAML."""

from __future__ import annotations

import pytest

from jiepai.core.config import ConfigError, export_config, import_config
from jiepai.routing.models import RoutingPolicy, RoutingRule
from jiepai.routing.tests.conftest import policy


def test_export_then_import_is_unchanged(team):
    policy("round_robin", departments=[team.east], is_default=True)
    data = export_config()
    exported = {p["key"]: p for p in data["routing_policies"]}
    assert exported["round_robin"]["departments"] == [["节拍科技", "华东大区"]]
    assert data["routing_rules"][0]["policy"] == "capability_match"
    result = import_config(data)
    assert result.sections["routing_policies"].unchanged == len(data["routing_policies"])
    assert result.sections["routing_rules"].unchanged == 1


def test_import_creates_a_policy_and_a_rule(team):
    import_config(
        {
            "routing_policies": [
                {
                    "key": "north_pool",
                    "name": "华北抢单",
                    "kind": "weighted_pool",
                    "departments": [["节拍科技", "华北大区"]],
                    "reps": ["manager"],
                    "offer_count": 2,
                }
            ],
            "routing_rules": [
                {"name": "北方大单", "condition": 'province == "北京"', "policy": "north_pool"}
            ],
        }
    )
    created = RoutingPolicy.objects.get(key="north_pool")
    assert list(created.departments.all()) == [team.north]
    assert list(created.reps.all()) == [team.manager]
    assert created.offer_count == 2
    assert RoutingRule.objects.get(name="北方大单").policy == created


def test_a_bad_rule_condition_in_the_file_is_refused(team):
    with pytest.raises(ConfigError) as raised:
        import_config(
            {"routing_rules": [{"name": "坏", "condition": "budget >", "policy": "round_robin"}]}
        )
    assert "坏" in str(raised.value) or "condition" in str(raised.value)
    assert not RoutingRule.objects.filter(name="坏").exists()


def test_unknown_department_is_refused(team):
    with pytest.raises(ConfigError):
        import_config(
            {
                "routing_policies": [
                    {"key": "x", "name": "x", "kind": "round_robin", "departments": [["火星"]]}
                ]
            }
        )
