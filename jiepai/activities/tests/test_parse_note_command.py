"""`jiepai parse-note`: the issue's JSON shape, the configured vocabulary, clear errors."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.utils import translation

from jiepai.activities.models import NextActionKind

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("parse-note", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_has_exactly_the_documented_shape() -> None:
    out, err = run("客户李总约周三下午三点看厂", "--now", "2026-02-26T09:00+08:00", "--json")
    assert json.loads(out) == {
        "contact": "李总",
        "action": {"kind": "factory_visit", "label": "工厂参观"},
        "due": "2026-03-04T15:00:00+08:00",
        "due_has_time": True,
        "keywords": [],
        "phrases": [],
    }
    assert err == ""


def test_keywords_and_phrases_in_json() -> None:
    out, _err = run(
        "王主任说下周二看样机, 交付周期太长是主要顾虑, 还要比比别家",
        "--now",
        "2026-02-26T09:00+08:00",
        "--json",
    )
    data = json.loads(out)
    assert data["due"] == "2026-03-03T00:00:00+08:00" and data["due_has_time"] is False
    assert data["keywords"] == ["交付周期太长"]
    assert data["phrases"] == [
        {"phrase": "比比别家", "meaning": "竞品应对", "task": "推送竞品应对话术包"}
    ]


def test_naive_now_is_read_in_the_site_time_zone() -> None:
    out, _err = run("明天上午10点", "--now", "2026-03-02T10:00", "--json")
    assert json.loads(out)["due"] == "2026-03-03T10:00:00+08:00"


def test_problems_go_to_stderr_and_json_keeps_its_shape() -> None:
    out, err = run("2月30日签约", "--now", "2026-03-02T10:00+08:00", "--json")
    assert json.loads(out)["due"] is None and json.loads(out)["action"]["kind"] == "signing"
    assert "不是有效的日期" in err


def test_admin_vocabulary_is_used() -> None:
    NextActionKind.objects.create(code="golf", label="打高尔夫", triggers=["打球"], position=0)
    out, _err = run("周六和孟总打球", "--now", "2026-03-02T10:00+08:00", "--json")
    assert json.loads(out)["action"] == {"kind": "golf", "label": "打高尔夫"}


def test_human_output() -> None:
    out, _err = run("王主任说下周二看样机", "--now", "2026-02-26T09:00+08:00")
    assert "联系人: 王主任" in out and "2026-03-03 (只有日期)" in out


def test_bad_now_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="ISO-8601"):
        run("明天", "--now", "yesterday")


def test_human_output_and_help_in_english() -> None:
    with translation.override("en"):
        out, _err = run("王主任说下周二看样机", "--now", "2026-02-26T09:00+08:00")
        with pytest.raises(CommandError, match="is not an ISO-8601 time"):
            run("明天", "--now", "yesterday")
        usage = load_command_class("jiepai.activities", "parse-note").create_parser(
            "jiepai", "parse-note"
        )
        assert "Parse one follow-up note" in usage.format_help()
    assert "Contact: 王主任" in out and "2026-03-03 (date only)" in out
