"""Chinese time expressions in sales notes → datetimes. No Django here.

    find_times("王总说下周二下午三点看样机", now=...)  →  [TimeMatch(text="下周二下午三点", ...)]

A small rule-based recogniser (regular expressions + Chinese numerals), fast enough to run on every
keystroke (~20 µs per note). It understands what reps actually write: 今天/明天/后天/大后天,
今晚/明早, 周三/下周二/这周五/下下周一, 下周/本周内/周末, 3月5日/2026年3月5日/3/5/15号/下个月5号,
月初/月中/月底/上中下旬/年底, 3天后/两周内/3个工作日内/半小时后, 过两天/尽快, dayparts (上午, 下午,
晚上…) and clock times (10点, 三点半, 15:30, 十点一刻), with 之前/以前/内 as deadline markers.

Interpretations (documented because people disagree about them):
- a bare weekday (周三) is its next occurrence strictly after today; 这周三/本周三 is this calendar
  week's (weeks start on Monday), 下周三 the next calendar week's, 下下周三 the one after;
- a clock time without a daypart: 1–6 点 is afternoon (13–18 h, business hours), 7–12 点 morning;
- a daypart without a clock time is its typical hour (DAYPART_HOURS: 上午 9:00, 下午 14:00 …);
- a time of day with no date is today, or tomorrow when that time has passed;
- 3号 without a month is the next 3rd (this month or next); 3月5日 without a year is this year's,
  or next year's when this year's is more than 90 days ago (a December note about 1月5日);
- 月初/上旬/中旬/下旬/月中 mean the first day of that span, 月底/月末/年底 the last day;
- 本周内 is this Friday (this Sunday at the weekend), 下周 alone is next Monday, 周末 Saturday.
Each match is resolved against `now` (an aware datetime in the user's time zone). A match in the
past or with an impossible date/time (25点, 2月30日) carries a `problem` message instead of being
silently shifted; callers keep whatever else they could read.
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass

#: typical hour for a daypart said without a clock time
DAYPART_HOURS = {
    "凌晨": 5,
    "清晨": 8,
    "早上": 9,
    "早晨": 9,
    "早": 9,
    "上午": 9,
    "中午": 12,
    "午后": 14,
    "下午": 14,
    "傍晚": 18,
    "晚上": 19,
    "晚间": 19,
    "晚": 19,
    "夜里": 21,
    "夜间": 21,
}
_PM_DAYPARTS = {"午后", "下午", "傍晚", "晚上", "晚间", "晚", "夜里", "夜间"}
_NIGHT_DAYPARTS = {"晚上", "晚间", "晚", "夜里", "夜间"}

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "7": 6}
_WEEKDAYS.update({str(i): i - 1 for i in range(1, 7)})

_DAY_WORDS = {
    "大前天": -3,
    "前天": -2,
    "昨天": -1,
    "昨日": -1,
    "今天": 0,
    "今日": 0,
    "今儿": 0,
    "当天": 0,
    "明天": 1,
    "明日": 1,
    "明儿": 1,
    "后天": 2,
    "大后天": 3,
}
_DAY_SHORTS = {
    "今早": (0, "早上"),
    "今晨": (0, "早上"),
    "今晚": (0, "晚上"),
    "今夜": (0, "晚上"),
    "明早": (1, "早上"),
    "明晨": (1, "早上"),
    "明晚": (1, "晚上"),
    "昨晚": (-1, "晚上"),
}
_VAGUE = {
    "过两天": 2,
    "这两天": 2,
    "近两天": 2,
    "过几天": 3,
    "这几天": 3,
    "尽快": 1,
    "今天之内": 0,
    "今天内": 0,
}

_FIXED_HOLIDAYS = {
    "元旦": (1, 1),
    "五一": (5, 1),
    "劳动节": (5, 1),
    "国庆": (10, 1),
    "国庆节": (10, 1),
    "圣诞": (12, 25),
    "圣诞节": (12, 25),
}
# lunar-calendar holidays, 2025–2030 (extend when the table runs out)
_LUNAR = {
    "春节": [
        datetime.date(y, m, d)
        for y, m, d in (
            (2025, 1, 29),
            (2026, 2, 17),
            (2027, 2, 6),
            (2028, 1, 26),
            (2029, 2, 13),
            (2030, 2, 3),
        )
    ],
    "清明": [
        datetime.date(y, 4, d)
        for y, d in ((2025, 4), (2026, 5), (2027, 5), (2028, 4), (2029, 4), (2030, 5))
    ],
    "端午": [
        datetime.date(y, m, d)
        for y, m, d in (
            (2025, 5, 31),
            (2026, 6, 19),
            (2027, 6, 9),
            (2028, 5, 28),
            (2029, 6, 16),
            (2030, 6, 5),
        )
    ],
    "中秋": [
        datetime.date(y, m, d)
        for y, m, d in (
            (2025, 10, 6),
            (2026, 9, 25),
            (2027, 9, 15),
            (2028, 10, 3),
            (2029, 9, 22),
            (2030, 9, 12),
        )
    ],
}
_LUNAR_ALIASES = {
    "春节": ("春节", 0),
    "除夕": ("春节", -1),
    "元宵": ("春节", 14),
    "清明": ("清明", 0),
    "端午": ("端午", 0),
    "中秋": ("中秋", 0),
}

_NUM = "[0-9零〇一二两三四五六七八九十]{1,3}"
_WEEK_PREFIX = "下下个?|下个?|这个?|本|上上个?|上个?"
_MONTH_PREFIX = "下下个?月|下个?月|本月|这个月|当月|上个?月"

_PATTERN = re.compile(
    rf"""
    # every expression starts with one of these characters: a cheap test that lets the engine
    # skip the rest of the note (names, verbs) without trying each alternative there
    (?=[\s的今明昨前大后当上下这本周星礼0-9零〇一二两三四五六七八九十月年半几过近尽元春除清劳端中国圣凌早午傍晚夜])
    (?:
        (?P<dayshort>今早|今晨|今晚|今夜|明早|明晨|明晚|昨晚)
      | (?P<dayword>大前天|前天|昨天|昨日|今天之内|今天内|今天|今日|今儿|当天|大后天|明天|明日|明儿|后天)
      | (?P<wprefix>{_WEEK_PREFIX})?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])(?![0-9])
      | (?P<week>下下周|下下个?星期|下周|下个?星期|下个?礼拜|本周|这周|这个?星期|这个?礼拜|周)(?P<weekpos>内|之内|以内|末)
      | (?P<nextweek>下下周|下周|下个?星期|下个?礼拜)(?![一二三四五六日天1-7内末])
      | (?P<iy>\d{{4}})[-/.年](?P<im>\d{{1,2}})[-/.月](?P<id>\d{{1,2}})[日号]?
      | (?:(?P<y>\d{{4}})年)?(?P<m>{_NUM})月(?P<d>{_NUM})[日号]?
      | (?<![0-9./])(?P<sm>1[0-2]|0?[1-9])/(?P<sd>[12][0-9]|3[01]|0?[1-9])(?![0-9/.%])
      | (?P<mp>{_MONTH_PREFIX}|(?<![0-9一二三四五六七八九十])月)(?P<mpos>初|中旬|上旬|下旬|中|底|末)
      | (?P<mnum>{_NUM})月(?P<mpos2>初|中旬|上旬|下旬|中|底|末)
      | (?P<ymp>今年|明年)?(?P<ypos>年底|年末|年初|年中)
      | (?<![0-9.])(?P<n>{_NUM}|半|几)(?P<ge>个(?:半)?)?(?P<unit>工作日|天|日|周|星期|礼拜|月|小时|钟头|分钟)(?P<odir>以后|之后|后|以内|之内|内)
      | (?P<mprefix>{_MONTH_PREFIX})?(?<![0-9.])(?P<dd>{_NUM})[日号](?![楼线厅馆门口房室院车台码位机])
      | (?P<vague>过两天|这两天|近两天|过几天|这几天|尽快)
      | (?<![0-9.])(?P<dm>1[0-2]|0?[1-9])\.(?P<dmd>[12][0-9]|3[01]|0?[1-9])(?=之前|以前|前|日|号|上午|下午|晚上|中午)
      | (?P<holiday>元旦|春节|除夕|元宵|清明|五一|劳动节|端午|中秋|国庆节|国庆|圣诞节|圣诞)(?!以后|之后|后|节后|假期后)
      | (?P<nextmonth>下下个?月|下个?月)(?![初中底末上下旬0-9零〇一二两三四五六七八九十号])
    )?
    (?:[\s的]{{0,2}}(?P<dpshort>(?<=[天日晚早一二三四五六七天末号])(?:早(?![上晨期日些就点餐饭])|晚(?![上间饭会宴些点餐])))?)?
    (?:[\s的]{{0,2}}(?P<dp>凌晨|清晨|早上|早晨|上午|中午|午后|下午|傍晚|晚上|晚间|夜里|夜间))?
    (?:
        [\s]{{0,2}}(?<![第0-9.])(?P<h>{_NUM})(?:
            (?P<hsep>[点时])(?!要求|意见|建议|问题|顾虑|需求|内容|不足|优势|原因|看法|疑虑|担忧|疑问|理由|改进|共识|好处|结论|考虑|差异|区别|想法|担心|变化)
            (?:(?P<half>半)|(?P<q1>一刻)|(?P<q3>三刻)|(?P<mi>{_NUM})分?)?钟?
          | :(?P<mc>\d{{2}})(?![0-9])
        )
    )?
    (?P<suffix>之前|以前|前|之内|以内|内|左右)?
    """,
    re.VERBOSE,
)

_RANGE_WORDS = {"到", "至", "-", "~", "—", "–", "或", "或者"}

# a bare "一点" is usually "a bit" (便宜一点), not 13:00
_BARE_CLOCK_WORDS = {"一点", "一点钟"}


@dataclass(frozen=True)
class TimeMatch:
    text: str
    start: int
    end: int
    due: datetime.datetime | None  # aware, in now's time zone; None when it could not be resolved
    has_time: bool
    deadline: bool  # 之前/以前/内: "by then" rather than "at then"
    problem: str = ""  # set when the expression is in the past or impossible

    @property
    def past(self) -> bool:
        return self.problem.startswith("past")


def normalize(text: str) -> str:
    """Full-width digits and punctuation → half-width; nothing else changes length much."""
    return unicodedata.normalize("NFKC", text)


def cn_number(text: str) -> int | None:
    """'15' → 15, '十五' → 15, '二十' → 20, '两' → 2, '三十一' → 31, '零五' → 5; else None."""
    if text.isdigit():
        return int(text)
    if text == "半":
        return None
    if "十" in text:
        left, _, right = text.partition("十")
        if "十" in right:
            return None
        tens = 1 if left == "" else _DIGITS.get(left)
        ones = 0 if right == "" else _DIGITS.get(right)
        if tens is None or ones is None or len(left) > 1 or len(right) > 1:
            return None
        return tens * 10 + ones
    value = 0
    for char in text:
        digit = _DIGITS.get(char)
        if digit is None:
            return None
        value = value * 10 + digit
    return value


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_start(day: datetime.date, months: int = 0) -> datetime.date:
    return _add_months(day.replace(day=1), months)


def _month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _month_offset(prefix: str) -> int:
    if prefix.startswith("下下"):
        return 2
    if prefix.startswith("下"):
        return 1
    if prefix.startswith("上"):
        return -1
    return 0


def _week_offset(prefix: str) -> int:
    if prefix.startswith("下下"):
        return 2
    if prefix.startswith("下"):
        return 1
    if prefix.startswith("上上"):
        return -2
    if prefix.startswith("上"):
        return -1
    return 0


def _add_workdays(day: datetime.date, count: int) -> datetime.date:
    while count > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


class _Impossible(ValueError):
    pass


def _span_day(today: datetime.date, base: datetime.date, position: str) -> datetime.date:
    if position in ("底", "末"):
        return _month_end(base)
    return base.replace(day={"初": 1, "上旬": 1, "中旬": 11, "中": 15, "下旬": 21}[position])


def _explicit_date(today: datetime.date, year: int | None, month: int, day: int) -> datetime.date:
    try:
        value = datetime.date(year or today.year, month, day)
    except ValueError as exc:
        raise _Impossible(f"{month}月{day}日") from exc
    if year is None and (today - value).days > 90:
        # "1月5日" written in December is next January, not ten months ago
        try:
            value = value.replace(year=value.year + 1)
        except ValueError as exc:  # 2月29日 of a leap year, looked for in the next year
            raise _Impossible(f"{month}月{day}日") from exc
    return value


def _resolve_date(
    g: dict[str, str | None], today: datetime.date
) -> tuple[datetime.date | None, str]:
    """The calendar day a match names, and a daypart implied by it (今晚 → 晚上)."""
    if g["dayshort"]:
        offset, daypart = _DAY_SHORTS[g["dayshort"]]
        return today + datetime.timedelta(days=offset), daypart
    if g["dayword"]:
        word = g["dayword"]
        offset = _DAY_WORDS.get(word, _VAGUE.get(word, 0))
        return today + datetime.timedelta(days=offset), ""
    if g["wd"]:
        weekday = _WEEKDAYS[g["wd"]]
        prefix = g["wprefix"] or ""
        if not prefix:
            ahead = (weekday - today.weekday()) % 7 or 7
            return today + datetime.timedelta(days=ahead), ""
        monday = today - datetime.timedelta(days=today.weekday())
        monday += datetime.timedelta(weeks=_week_offset(prefix))
        return monday + datetime.timedelta(days=weekday), ""
    if g["week"]:
        week = g["week"]
        monday = today - datetime.timedelta(days=today.weekday())
        if week == "周" and g["weekpos"] == "末":  # 周末 alone: the coming Saturday
            ahead = (5 - today.weekday()) % 7 if today.weekday() != 6 else 6
            return today + datetime.timedelta(days=ahead), ""
        monday += datetime.timedelta(weeks=_week_offset(week))
        if g["weekpos"] == "末":
            return monday + datetime.timedelta(days=5), ""
        friday = monday + datetime.timedelta(days=4)
        if friday < today:  # 本周内 said at the weekend
            return monday + datetime.timedelta(days=6), ""
        return friday, ""
    if g["nextweek"]:
        monday = today - datetime.timedelta(days=today.weekday())
        return monday + datetime.timedelta(weeks=_week_offset(g["nextweek"])), ""
    if g["iy"]:
        try:
            return datetime.date(int(g["iy"]), int(g["im"]), int(g["id"])), ""
        except ValueError as exc:
            raise _Impossible(f"{g['iy']}-{g['im']}-{g['id']}") from exc
    if g["m"]:
        month, day = cn_number(g["m"]), cn_number(g["d"] or "")
        if month is None or day is None:
            raise _Impossible(f"{g['m']}月{g['d']}日")
        year = int(g["y"]) if g["y"] else None
        return _explicit_date(today, year, month, day), ""
    if g["sm"]:
        return _explicit_date(today, None, int(g["sm"]), int(g["sd"] or 0)), ""
    if g["mpos"]:
        base = _month_start(today, _month_offset(g["mp"] or ""))
        return _span_day(today, base, g["mpos"]), ""
    if g["mpos2"]:
        month = cn_number(g["mnum"] or "")
        if month is None or not 1 <= month <= 12:
            raise _Impossible(f"{g['mnum']}月")
        base = _explicit_date(today, None, month, 1)
        return _span_day(today, base, g["mpos2"]), ""
    if g["ypos"]:
        year = today.year + (1 if g["ymp"] == "明年" else 0)
        if g["ypos"] in ("年底", "年末"):
            return datetime.date(year, 12, 31), ""
        if g["ypos"] == "年中":
            return datetime.date(year, 6, 30), ""
        return datetime.date(year + (0 if g["ymp"] else 1), 1, 1), ""  # 年初 alone: next year's
    if g["dd"]:
        day = cn_number(g["dd"])
        if day is None or not 1 <= day <= 31:
            raise _Impossible(f"{g['dd']}号")
        prefix = g["mprefix"] or ""
        base = _month_start(today, _month_offset(prefix))
        if not prefix and day < today.day:
            base = _month_start(today, 1)  # "5号" after the 5th: next month's
        try:
            return base.replace(day=day), ""
        except ValueError as exc:
            raise _Impossible(f"{base.month}月{day}日") from exc
    if g["vague"]:
        return today + datetime.timedelta(days=_VAGUE[g["vague"]]), ""
    if g["dm"]:
        return _explicit_date(today, None, int(g["dm"]), int(g["dmd"] or 0)), ""
    if g["holiday"]:
        return _holiday(today, g["holiday"]), ""
    if g["nextmonth"]:
        return _month_start(today, _month_offset(g["nextmonth"])), ""
    return None, ""


def _holiday(today: datetime.date, name: str) -> datetime.date:
    """The holiday's next day on or after today (lunar ones from a table, see _LUNAR)."""
    if name in _FIXED_HOLIDAYS:
        month, day = _FIXED_HOLIDAYS[name]
        value = datetime.date(today.year, month, day)
        return value if value >= today else value.replace(year=today.year + 1)
    key, shift = _LUNAR_ALIASES[name]
    for value in _LUNAR[key]:
        value += datetime.timedelta(days=shift)
        if value >= today:
            return value
    raise _Impossible(name)  # beyond the table: leave it to the user


def _resolve_offset(
    g: dict[str, str | None], now: datetime.datetime
) -> tuple[datetime.datetime | datetime.date, bool]:
    unit, raw = g["unit"] or "", g["n"] or ""
    half = raw == "半" or (g["ge"] or "").endswith("半")
    count = 3 if raw == "几" else (0 if raw == "半" else cn_number(raw))
    if count is None:
        raise _Impossible(raw)
    if unit in ("小时", "钟头"):
        return now + datetime.timedelta(hours=count, minutes=30 if half else 0), True
    if unit == "分钟":
        return now + datetime.timedelta(minutes=count), True
    today = now.date()
    if unit == "工作日":
        return _add_workdays(today, count), False
    if unit in ("周", "星期", "礼拜"):
        return today + datetime.timedelta(days=7 * count + (3 if half else 0)), False
    if unit == "月":
        return _add_months(today, count) + datetime.timedelta(days=15 if half else 0), False
    return today + datetime.timedelta(days=count), False  # 天 / 日


def _resolve_clock(g: dict[str, str | None], daypart: str) -> tuple[int, int] | None:
    """(hour, minute) on a 24-hour clock, or None when no time of day was said."""
    if g["h"] is None:
        if daypart:
            return DAYPART_HOURS[daypart], 0
        return None
    hour = cn_number(g["h"])
    if g["half"]:
        minute: int | None = 30
    elif g["q1"]:
        minute = 15
    elif g["q3"]:
        minute = 45
    elif g["mi"]:
        minute = cn_number(g["mi"])
    elif g["mc"]:
        minute = int(g["mc"])
    else:
        minute = 0
    if hour is None or minute is None or hour > 24 or minute > 59 or (hour == 24 and minute):
        raise _Impossible(f"{g['h']}点")
    if daypart in _PM_DAYPARTS and hour < 12:
        hour += 12
    elif daypart in _NIGHT_DAYPARTS and hour == 12:
        hour = 24  # 晚上12点 is midnight
    elif daypart == "中午" and hour < 3:
        hour += 12
    elif not daypart and 1 <= hour <= 6:
        hour += 12  # "三点" in a sales note is 15:00
    return hour, minute


def _match_to_time(match: re.Match[str], now: datetime.datetime) -> TimeMatch | None:
    text = match.group(0)
    g = match.groupdict()
    has_date = any(
        g[key]
        for key in (
            "dayshort",
            "dayword",
            "wd",
            "week",
            "nextweek",
            "iy",
            "m",
            "sm",
            "mpos",
            "mpos2",
            "ypos",
            "dd",
            "n",
            "vague",
            "dm",
            "holiday",
            "nextmonth",
        )
    )
    daypart_said = g["dp"] or g["dpshort"] or ""
    if not has_date and not daypart_said and (g["h"] is None or text.strip() in _BARE_CLOCK_WORDS):
        return None
    start, end = match.span()
    deadline = bool(g["suffix"] and g["suffix"] != "左右") or (g["odir"] or "").endswith("内")
    tz = now.tzinfo
    today = now.date()

    def result(due: datetime.datetime | None, has_time: bool, problem: str = "") -> TimeMatch:
        return TimeMatch(text.strip(), start, end, due, has_time, deadline, problem)

    try:
        if g["n"] is not None:
            value, _ = _resolve_offset(g, now)
            if isinstance(value, datetime.datetime):
                return result(value.replace(second=0, microsecond=0), True)
            day: datetime.date | None = value
            implied = ""
        else:
            day, implied = _resolve_date(g, today)
    except _Impossible as exc:
        return result(None, False, f"impossible_date:{exc}")
    daypart = daypart_said or implied
    try:
        clock = _resolve_clock(g, daypart)
    except _Impossible as exc:
        # keep the day, leave the time of day to the user
        due = datetime.datetime.combine(day, datetime.time(), tz) if day else None
        return result(due, False, f"impossible_time:{exc}")
    if clock is None:
        if day is None:
            return None
        due = datetime.datetime.combine(day, datetime.time(), tz)
        return result(due, False, "past" if day < today else "")
    hour, minute = clock
    if day is None:
        day = today
        candidate = datetime.datetime.combine(day, datetime.time(hour % 24, minute), tz)
        if hour == 24:
            candidate += datetime.timedelta(days=1)
        if candidate < now:
            candidate += datetime.timedelta(days=1)  # "下午三点" said at 16:00 means tomorrow
        return result(candidate, True)
    due = datetime.datetime.combine(day, datetime.time(hour % 24, minute), tz)
    if hour == 24:
        due += datetime.timedelta(days=1)
    return result(due, True, "past" if due < now else "")


def find_times(text: str, *, now: datetime.datetime) -> list[TimeMatch]:
    """Every time expression in `text`, in order, resolved against `now` (aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    found: list[TimeMatch] = []
    text = normalize(text)
    for match in _PATTERN.finditer(text):
        if match.end() == match.start():
            continue
        if found and text[found[-1].end : match.start()].strip() in _RANGE_WORDS:
            continue  # "9点到10点": the range starts at the first time
        resolved = _match_to_time(match, now)
        if resolved is not None:
            found.append(resolved)
    return found


def problem_message(match: TimeMatch) -> str:
    """A sentence for the user (zh-Hans; the caller translates through its own catalogue)."""
    if match.problem == "past" and match.due is not None:
        when = match.due.strftime("%Y-%m-%d %H:%M" if match.has_time else "%Y-%m-%d")
        return f"“{match.text}”已经过去({when}),请确认时间"
    if match.problem.startswith("impossible_time"):
        return f"“{match.text}”不是有效的时间,请重新填写时间"
    if match.problem.startswith("impossible_date"):
        return f"“{match.text}”不是有效的日期,请重新填写日期"
    return ""
