"""The note parser: the issue's examples, problems, configuration, and never crashing."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from jiepai.lib.notes import ActionKind, PainPoint, PhraseMeaning, Vocabulary, parse_note

SHANGHAI = ZoneInfo("Asia/Shanghai")
THURSDAY = datetime.datetime(2026, 2, 26, 9, 0, tzinfo=SHANGHAI)


def test_factory_visit_sentence_reads_contact_action_and_wednesday_afternoon() -> None:
    parsed = parse_note("客户李总约周三下午三点看厂", now=THURSDAY)
    assert parsed.as_json() == {
        "contact": "李总",
        "action": {"kind": "factory_visit", "label": "工厂参观"},
        "due": "2026-03-04T15:00:00+08:00",
        "due_has_time": True,
        "keywords": [],
        "phrases": [],
    }


def test_sample_demo_sentence_reads_pain_point_keyword() -> None:
    parsed = parse_note("王主任说下周二看样机, 交付周期太长是主要顾虑", now=THURSDAY)
    assert parsed.contact == "王主任"
    assert parsed.action is not None and parsed.action.label == "样机演示"
    assert parsed.due == datetime.datetime(2026, 3, 3, tzinfo=SHANGHAI)
    assert parsed.due_has_time is False
    assert parsed.keywords == ["交付周期太长"]


def test_phrase_map_suggests_tasks_from_seed_phrases() -> None:
    parsed = parse_note("客户很感兴趣, 但还要比比别家", now=THURSDAY)
    assert [(hit.meaning, hit.task) for hit in parsed.phrases] == [
        ("需验证预算真实性", "确认预算金额与采购时间"),
        ("竞品应对", "推送竞品应对话术包"),
    ]


def test_due_follows_the_user_time_zone_of_now() -> None:
    berlin = THURSDAY.astimezone(ZoneInfo("Europe/Berlin"))
    parsed = parse_note("明天上午10点打电话", now=berlin)
    assert parsed.due is not None and parsed.due.isoformat() == "2026-02-27T10:00:00+01:00"


def test_past_date_returns_the_rest_and_a_message() -> None:
    parsed = parse_note("赵总说2月3日签约", now=THURSDAY)
    assert parsed.contact == "赵总"
    assert parsed.action is not None and parsed.action.kind == "signing"
    assert parsed.due is None
    assert parsed.problems == ["“2月3日”已经过去(2026-02-03),请确认时间"]


def test_impossible_time_keeps_the_day_and_says_so() -> None:
    parsed = parse_note("明天25点电话沟通", now=THURSDAY)
    assert parsed.due == datetime.datetime(2026, 2, 27, tzinfo=SHANGHAI)
    assert parsed.due_has_time is False
    assert "不是有效的时间" in parsed.problems[0]


def test_impossible_date_leaves_due_empty() -> None:
    parsed = parse_note("2月30日签约", now=THURSDAY)
    assert parsed.due is None
    assert "不是有效的日期" in parsed.problems[0]


def test_action_word_inside_a_pain_point_is_not_an_action() -> None:
    parsed = parse_note("客户觉得报价太高", now=THURSDAY)
    assert parsed.action is None
    assert parsed.keywords == ["价格偏高"]


def test_known_contact_names_win_over_title_patterns() -> None:
    parsed = parse_note("和张伟明、李总一起开会", now=THURSDAY, known_contacts=["张伟明"])
    assert parsed.contact == "张伟明"


def test_common_words_are_not_contacts() -> None:
    for text in ("对方总经理下周签约", "需要提高总体效率", "订单总额不变"):
        assert parse_note(text, now=THURSDAY).contact is None, text


def test_configured_vocabulary_replaces_the_defaults() -> None:
    vocabulary = Vocabulary(
        actions=(ActionKind("install", "上门安装", ("装机",)),),
        pain_points=(PainPoint("噪音大", ("噪音*大",)),),
        phrases=(PhraseMeaning(("再说吧",), "意向弱", "转培育"),),
    )
    parsed = parse_note("噪音比较大, 下周一装机, 再说吧", now=THURSDAY, vocabulary=vocabulary)
    assert parsed.action is not None and parsed.action.kind == "install"
    assert parsed.keywords == ["噪音大"]
    assert [hit.meaning for hit in parsed.phrases] == ["意向弱"]


def test_empty_and_unparseable_text_give_an_empty_result() -> None:
    for text in ("", "   ", "已沟通", "😀😀😀", "asdf"):
        parsed = parse_note(text, now=THURSDAY)
        assert parsed.as_json()["action"] is None
        assert parsed.due is None


def test_very_long_text_is_cut_and_still_parsed_fast() -> None:
    parsed = parse_note("客户李总约周三下午三点看厂。" + "已沟通" * 10_000, now=THURSDAY)
    assert parsed.action is not None and parsed.action.kind == "factory_visit"


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(),
            st.sampled_from(
                list("上下周一二三四五六日天月号点半后前内明今晚午十两0123456789:/.总经理王李")
            ),
        ),
        max_size=80,
    ),
    st.datetimes(
        min_value=datetime.datetime(2000, 1, 1),
        max_value=datetime.datetime(2090, 12, 1),
        timezones=st.just(SHANGHAI),
    ),
)
def test_parser_never_crashes_on_any_text(text: str, now: datetime.datetime) -> None:
    parsed = parse_note(text, now=now)
    data = parsed.as_json()
    assert set(data) == {"contact", "action", "due", "due_has_time", "keywords", "phrases"}
