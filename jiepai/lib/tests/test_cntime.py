"""Chinese time expressions, resolved against a fixed Monday 2 March 2026, 10:00 (Shanghai)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from jiepai.lib.cntime import cn_number, find_times

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def first(text: str, now: datetime.datetime = MONDAY):
    found = find_times(text, now=now)
    assert found, f"no time found in {text!r}"
    return found[0]


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("明天上午10点", datetime.datetime(2026, 3, 3, 10, 0), True),
        ("后天", datetime.datetime(2026, 3, 4), False),
        ("下周二", datetime.datetime(2026, 3, 10), False),
        ("周五之前", datetime.datetime(2026, 3, 6), False),
        ("3天后", datetime.datetime(2026, 3, 5), False),
        ("三天后", datetime.datetime(2026, 3, 5), False),
        ("月底前", datetime.datetime(2026, 3, 31), False),
        ("3月17日下午", datetime.datetime(2026, 3, 17, 14, 0), True),
        ("下午三点半", datetime.datetime(2026, 3, 2, 15, 30), True),
        ("今晚", datetime.datetime(2026, 3, 2, 19, 0), True),
        ("下个月初", datetime.datetime(2026, 4, 1), False),
        ("本周内", datetime.datetime(2026, 3, 6), False),
        ("周三下午三点", datetime.datetime(2026, 3, 4, 15, 0), True),
        ("下下周一上午", datetime.datetime(2026, 3, 16, 9, 0), True),
        ("3个工作日内", datetime.datetime(2026, 3, 5), False),
        ("半小时后", datetime.datetime(2026, 3, 2, 10, 30), True),
        ("两周内", datetime.datetime(2026, 3, 16), False),
        ("15号前", datetime.datetime(2026, 3, 15), False),
        ("下个月5号", datetime.datetime(2026, 4, 5), False),
        ("3/20前", datetime.datetime(2026, 3, 20), False),
        ("4.15前", datetime.datetime(2026, 4, 15), False),
        ("2026年3月20日", datetime.datetime(2026, 3, 20), False),
        ("十点一刻", datetime.datetime(2026, 3, 2, 10, 15), True),
        ("15:30", datetime.datetime(2026, 3, 2, 15, 30), True),
        ("明晚8点", datetime.datetime(2026, 3, 3, 20, 0), True),
        ("晚上12点", datetime.datetime(2026, 3, 3, 0, 0), True),
        ("年底前", datetime.datetime(2026, 12, 31), False),
        ("五一前", datetime.datetime(2026, 5, 1), False),
        ("中秋", datetime.datetime(2026, 9, 25), False),
        ("下个月", datetime.datetime(2026, 4, 1), False),
        ("周末", datetime.datetime(2026, 3, 7), False),
    ],
)
def test_expression_resolves(text: str, expected: datetime.datetime, has_time: bool) -> None:
    match = first(text)
    assert match.due == expected.replace(tzinfo=SHANGHAI)
    assert match.has_time is has_time
    assert match.problem == ""


def test_explicit_date_two_weeks_ago_is_reported_as_past_not_moved_to_next_year() -> None:
    match = first("2月17日下午")  # 13 days before 2 March; only > 90 days rolls to next year
    assert match.due == datetime.datetime(2026, 2, 17, 14, tzinfo=SHANGHAI)
    assert match.past


def test_january_date_written_in_december_is_next_year() -> None:
    december = datetime.datetime(2026, 12, 20, 20, tzinfo=SHANGHAI)
    assert first("1月5日", now=december).due.date() == datetime.date(2027, 1, 5)


def test_bare_weekday_on_that_weekday_means_next_week() -> None:
    friday = datetime.datetime(2026, 3, 27, 9, tzinfo=SHANGHAI)
    assert first("周五之前", now=friday).due.date() == datetime.date(2026, 4, 3)


def test_time_of_day_already_passed_today_means_tomorrow() -> None:
    late = datetime.datetime(2026, 2, 12, 16, 30, tzinfo=SHANGHAI)
    assert first("下午三点半", now=late).due == datetime.datetime(
        2026, 2, 13, 15, 30, tzinfo=SHANGHAI
    )


def test_yesterday_is_past() -> None:
    assert first("昨天").past


def test_25_oclock_is_impossible_but_the_day_is_kept() -> None:
    match = first("明天25点")
    assert match.problem.startswith("impossible_time")
    assert match.due == datetime.datetime(2026, 3, 3, tzinfo=SHANGHAI)
    assert match.has_time is False


def test_february_30_is_impossible() -> None:
    match = first("2月30日")
    assert match.problem.startswith("impossible_date")
    assert match.due is None


def test_a_bit_and_numbered_points_are_not_times() -> None:
    assert find_times("价格再便宜一点", now=MONDAY) == []
    assert find_times("客户提了三点要求", now=MONDAY) == []
    assert find_times("第三点", now=MONDAY) == []


def test_time_range_counts_once_from_its_start() -> None:
    found = find_times("明天上午9点到10点开会", now=MONDAY)
    assert len(found) == 1
    assert found[0].due == datetime.datetime(2026, 3, 3, 9, tzinfo=SHANGHAI)


def test_full_width_digits_are_read() -> None:
    assert first("明天上午１０点").due == datetime.datetime(2026, 3, 3, 10, tzinfo=SHANGHAI)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        find_times("明天", now=datetime.datetime(2026, 3, 2))


@pytest.mark.parametrize(
    ("text", "value"),
    [("15", 15), ("十五", 15), ("二十", 20), ("两", 2), ("三十一", 31), ("十", 10), ("零五", 5)],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert cn_number(text) == value
