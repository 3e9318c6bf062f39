from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from jiepai.core.config import ConfigError, dump_yaml, export_config, import_config, load_yaml
from jiepai.customers.services import create_account
from jiepai.customfields.models import FieldDefinition
from jiepai.events.models import Event
from jiepai.intake.models import Channel
from jiepai.org.models import Department
from jiepai.pipeline.models import Pipeline, Stage
from jiepai.tagging.models import Tag


@pytest.fixture
def configured(people):
    Channel.objects.create(
        name="官网表单",
        slug="web",
        kind="web_form",
        weight="1.00",
        required_fields=["company", "title", "mobile"],
        response_window_minutes=15,
        alias_map={"手机号": "mobile"},
    )
    Channel.objects.create(name="展会扫码", slug="expo", kind="trade_show", weight="0.80")
    FieldDefinition.objects.create(
        entity="account",
        key="level",
        label="医院等级",
        field_type="select",
        options=[{"value": "3A", "label": "三甲", "synonyms": ["三级甲等"]}],
    )
    Tag.objects.create(name="高意向", category="意向", ttl_days=30)
    return people


def _counts(result):
    return {name: vars(report) for name, report in result.sections.items()}


def test_export_has_every_section_and_no_secrets(configured):
    data = export_config()
    assert set(data) >= {"jiepai_config", "departments", "channels", "pipelines", "tags"}
    web = next(c for c in data["channels"] if c["slug"] == "web")
    assert web["weight"] == 1 and web["required_fields"] == ["company", "title", "mobile"]
    assert "intake_key" not in web and "id" not in web
    assert ["节拍科技", "华东大区", "上海组"] in [d["path"] for d in data["departments"]]
    assert data["pipelines"][0]["stages"][0]["name"] == "需求确认"


def test_importing_its_own_export_changes_nothing(configured):
    text = dump_yaml(export_config())
    result = import_config(load_yaml(text))
    assert not result.changed
    assert all(r.created == r.updated == 0 for r in result.sections.values())
    assert not Event.objects.filter(verb="config.imported").exists()


def test_round_trip_into_an_empty_configuration(configured):
    text = dump_yaml(export_config())
    Channel.objects.all().delete()
    Tag.objects.all().delete()
    FieldDefinition.objects.all().delete()
    result = import_config(load_yaml(text))
    assert _counts(result)["channels"]["created"] == 2
    assert dump_yaml(export_config()) == text
    assert Event.objects.filter(verb="config.imported").count() == 1


def test_import_twice_is_idempotent(configured):
    data = load_yaml(
        """
channels:
  - {slug: douyin, name: 抖音投放, kind: short_video, weight: 0.7}
tags:
  - {name: 价格敏感, category: 痛点}
pipelines:
  - name: 大客户流程
    stages:
      - {name: 立项, position: 10, probability: 10}
      - {name: 招标, position: 20, probability: 40}
departments:
  - path: [节拍科技, 华南大区]
    manager: manager
"""
    )
    first = import_config(data)
    second = import_config(data)
    assert first.changed and not second.changed
    assert Channel.objects.filter(slug="douyin").count() == 1
    assert Stage.objects.filter(pipeline__name="大客户流程").count() == 2
    assert Department.objects.get(name="华南大区").path.startswith(configured.company.path)


def test_changed_values_update_by_natural_key(configured):
    import_config(
        {"channels": [{"slug": "expo", "name": "展会扫码", "kind": "trade_show", "weight": 0.9}]}
    )
    assert str(Channel.objects.get(slug="expo").weight) == "0.90"
    assert Channel.objects.count() == 2


def test_a_bad_item_rolls_back_the_whole_file_and_is_named(configured):
    data = {
        "channels": [{"slug": "phone", "name": "电话呼入", "kind": "phone"}],
        "tags": [{"name": "好"}, {"name": "坏", "ttl_days": "很久"}],
    }
    with pytest.raises(ConfigError) as error:
        import_config(data)
    assert "tags 第 2 项(坏)" in str(error.value) and "ttl_days" in str(error.value)
    assert not Channel.objects.filter(slug="phone").exists()
    assert not Tag.objects.filter(name="好").exists()


def test_unknown_section_and_unknown_field_are_refused(configured):
    with pytest.raises(ConfigError, match="未知的配置段"):
        import_config({"chanels": []})
    with pytest.raises(ConfigError, match="colour"):
        import_config({"tags": [{"name": "x", "colour": "red"}]})


def test_invalid_choice_is_refused_with_the_field(configured):
    with pytest.raises(ConfigError, match="kind"):
        import_config({"channels": [{"slug": "x", "name": "x", "kind": "pigeon"}]})


def test_stage_error_names_the_pipeline_and_the_stage(configured):
    data = {
        "pipelines": [{"name": "标准销售流程", "stages": [{"name": "赢单", "probability": 300}]}]
    }
    with pytest.raises(ConfigError) as error:
        import_config(data)
    assert "标准销售流程" in str(error.value) and "赢单" in str(error.value)
    assert Stage.objects.get(name="赢单").probability == 100


def test_custom_field_change_that_invalidates_data_is_refused(configured):
    create_account(actor=configured.rep, values={"name": "瑞金"}, custom={"level": "3A"})
    item = {
        "entity": "account",
        "key": "level",
        "label": "医院等级",
        "field_type": "select",
        "options": [{"value": "2A", "label": "二甲"}],
    }
    with pytest.raises(ConfigError, match="custom_fields"):
        import_config({"custom_fields": [item]})
    assert FieldDefinition.objects.get(key="level").option_values() == ["3A"]


def test_department_needs_its_parent_listed_first(configured):
    with pytest.raises(ConfigError, match="上级部门"):
        import_config({"departments": [{"path": ["无此公司", "华西大区"]}]})


def test_bad_yaml_is_a_clear_error(db):
    with pytest.raises(ConfigError, match="YAML"):
        load_yaml("channels: [unclosed")
    with pytest.raises(ConfigError):
        load_yaml("- just a list")


def test_command_exports_and_imports_a_file(configured, tmp_path, capsys):
    path = tmp_path / "config.yaml"
    call_command("config", "export", str(path))
    assert "官网表单" in path.read_text(encoding="utf-8")
    call_command("config", "import", str(path))
    assert "channels: 新增 0,更新 0,未变 2" in capsys.readouterr().out


def test_command_dry_run_saves_nothing(configured, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("tags:\n  - {name: 新标签}\n", encoding="utf-8")
    call_command("config", "import", str(path), "--dry-run")
    assert not Tag.objects.filter(name="新标签").exists()


def test_command_reports_a_bad_file_without_a_traceback(configured, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("tags:\n  - {name: x, ttl_days: -3}\n", encoding="utf-8")
    with pytest.raises(CommandError, match="未做任何修改"):
        call_command("config", "import", str(path))
    assert not Pipeline.objects.filter(name="x").exists()
