"""Person names as Chinese sales teams write them → name and title, no Django here.

"张主任" is 张 + 主任, "李总" is 李 + 总, "采购科张主任" is 张 + 主任 in 采购科, "老王" is 王,
"張偉 經理" is 张伟 + 经理. A name reduced to its surname (`surname_only`) still matches a full
name with that surname, more weakly. Latin names ("Zhang Wei") are kept in lower case for the
pinyin keys (jiepai.lib.pinyin_keys).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from jiepai.lib.cn_surnames import COMPOUND_SURNAMES, SURNAMES
from jiepai.lib.text import fold, is_han

#: job titles and honorifics written after a surname or name, longest first
TITLES = tuple(
    sorted(
        {
            "董事长", "副董事长", "总经理", "副总经理", "总裁", "副总裁", "总监", "副总监",
            "院长", "副院长", "主任", "副主任", "科长", "副科长", "处长", "副处长", "局长",
            "副局长", "部长", "副部长", "厅长", "所长", "校长", "副校长", "书记", "主席",
            "经理", "副经理", "主管", "组长", "队长", "店长", "厂长", "行长", "站长", "馆长",
            "老师", "教授", "医生", "大夫", "护士长", "药师", "工程师", "总工", "会计", "律师",
            "博士", "先生", "女士", "小姐", "太太", "老板", "老总", "师傅", "助理", "秘书",
            "专员", "总", "工", "姐", "哥", "老", "董", "局",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip

#: one-character titles are taken only right after a bare surname (李总, 王工), never after a
#: full name, where the character is more likely part of the name itself
_SHORT_TITLES = frozenset(t for t in TITLES if len(t) == 1)
#: functions written in front of a title: "张伟采购经理" is 张伟 + 采购经理
FUNCTIONS = tuple(
    sorted(
        {
            "采购", "设备科", "设备", "技术", "销售", "财务", "市场", "行政", "人事", "信息科",
            "信息", "医务科", "药剂科", "总务", "后勤", "运营", "项目", "生产", "质量", "研发",
            "工程", "商务", "采购科", "科室", "区域", "大区", "客户",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
_DEPARTMENT = re.compile(r"^(.{1,8}?(?:科|部|处|室|组|中心|办公室|办))(?=.{2,})")
_LATIN_TITLES = re.compile(r"\b(mr|mrs|ms|miss|dr|prof)\b\.?", re.IGNORECASE)
_BRACKETED = re.compile(r"[(（\[【]([^)）\]】]*)[)）\]】]")
_NOISE = re.compile(r"[\s\u3000,，.。、;；:：()（）\-_/\\|]+")


@dataclass(frozen=True)
class PersonName:
    name: str  # "张伟", "张" (surname only), "zhang wei" (Latin)
    surname: str  # "张", "欧阳", "" for Latin names
    title: str  # "主任", "总", ""
    department: str = ""  # "采购科" when it was written in front of the name
    latin: bool = False

    @property
    def surname_only(self) -> bool:
        return bool(self.surname) and self.name == self.surname


def surname_of(name: str) -> str:
    """The surname of a Han name: a known compound surname (欧阳), else the first character."""
    if len(name) >= 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def _is_surname(text: str) -> bool:
    return text in SURNAMES or text in COMPOUND_SURNAMES


def _split_title(text: str) -> tuple[str, str]:
    for title in TITLES:
        if not text.endswith(title) or len(text) == len(title):
            continue
        head = text[: -len(title)]
        if title in _SHORT_TITLES:
            if _is_surname(head):
                return head, title
            continue
        for function in FUNCTIONS:
            if head.endswith(function) and len(head) - len(function) >= 1:
                rest = head[: -len(function)]
                if _is_surname(rest) or 2 <= len(rest) <= 4:
                    return rest, function + title
        if _is_surname(head) or 2 <= len(head) <= 4:
            return head, title
    return text, ""


def _is_title(word: str) -> bool:
    """ "经理", "采购经理", "设备科主任": a job title written apart from the name."""
    return len(word) <= 8 and any(word.endswith(t) for t in TITLES if len(t) > 1 or word == t)


@lru_cache(maxsize=65536)
def split_name(raw: str) -> PersonName:
    """See the module docstring. Empty input gives an empty name."""
    text = fold(raw or "")
    if not text:
        return PersonName("", "", "")
    if all(not is_han(c) for c in text):
        latin = _LATIN_TITLES.sub(" ", unicodedata.normalize("NFKD", text))
        latin = " ".join("".join(c for c in latin if c.isalpha() or c == " ").split())
        return PersonName(latin, "", "", latin=True)
    title_text = ""
    # "李娜(采购)": a remark in brackets is a title, not part of the name
    bracket = _BRACKETED.search(text)
    if bracket:
        title_text = _NOISE.sub("", bracket.group(1))
        text = text[: bracket.start()] + text[bracket.end() :]
    han = _NOISE.sub("", text).replace("・", "·")
    # "张伟 经理", "张伟(经理)": a title written apart from the name
    parts = [p for p in _NOISE.split(text) if p]
    if not title_text and len(parts) >= 2 and _is_title(parts[-1]):
        title_text, han = parts[-1], "".join(parts[:-1])
    department = ""
    match = _DEPARTMENT.match(han)
    if match:
        rest_name, rest_title = _split_title(han[match.end() :])
        if rest_title and _is_surname(surname_of(rest_name)):
            department, han = match.group(1), han[match.end() :]
    if han[:1] in "老小阿" and _is_surname(han[1:]):
        return PersonName(han[1:], han[1:], title_text, department)
    name, title = _split_title(han)
    return PersonName(name, surname_of(name), title or title_text, department)


def normalize_title(raw: str) -> str:
    """A job title for comparison: folded, no spaces ("采购科 主任" → "采购科主任")."""
    return _NOISE.sub("", fold(raw or ""))
