"""Pinyin keys, so a name typed in pinyin ("Zhang Wei", "wei zhang") finds 张伟, no Django here.

Surnames have their own readings (单 is shan, not dan; 曾 is zeng; 解 is xie): pypinyin reads
characters as words, so the surname is looked up here first. Equal pinyin is evidence, not
proof (张伟/章伟, 科达/科大): the matcher uses it as one feature among others.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from jiepai.lib.cn_surnames import COMPOUND_SURNAMES, SURNAMES
from jiepai.lib.names import split_name, surname_of

#: surnames whose reading differs from the character's everyday reading
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha",
    "盖": "ge", "乐": "yue", "秘": "bi", "繁": "po", "缪": "miao", "覃": "qin", "翟": "zhai",
    "种": "chong", "隗": "wei", "员": "yun", "柏": "bai", "褚": "chu", "重": "chong", "都": "du",
    "黑": "he", "能": "nai", "召": "shao", "句": "gou", "那": "na", "宿": "su", "沈": "shen",
    "燕": "yan", "华": "hua", "任": "ren", "尉迟": "yuchi", "万俟": "moqi", "长孙": "zhangsun",
    "单于": "chanyu", "澹台": "tantai", "亓官": "qiguan", "令狐": "linghu", "卜": "bu",
    "薄": "bo", "纪": "ji", "折": "she", "藏": "zang", "臧": "zang", "阚": "kan", "眭": "sui",
    "朝": "chao", "车": "che", "汤": "tang", "贲": "ben", "冼": "xian", "谌": "chen",
}  # fmt: skip

_LATIN = re.compile(r"[a-z]+")


@lru_cache(maxsize=4096)
def _surname_pinyins() -> frozenset[str]:
    readings = {SURNAME_READINGS.get(s) or "".join(lazy_pinyin(s)) for s in SURNAMES}
    readings |= {SURNAME_READINGS.get(s) or "".join(lazy_pinyin(s)) for s in COMPOUND_SURNAMES}
    return frozenset(readings)


@lru_cache(maxsize=65536)
def han_pinyin(name: str) -> str:
    """ "张伟" → "zhangwei", "单雄信" → "shanxiongxin" (toneless, no spaces)."""
    if not name:
        return ""
    surname = surname_of(name)
    head = SURNAME_READINGS.get(surname) or "".join(lazy_pinyin(surname, style=Style.NORMAL))
    tail = "".join(lazy_pinyin(name[len(surname) :], style=Style.NORMAL))
    return _only_letters(head + tail)


def _only_letters(text: str) -> str:
    return "".join(_LATIN.findall(text.lower()))


@lru_cache(maxsize=65536)
def pinyin_keys(raw: str) -> tuple[str, ...]:
    """The pinyin spellings a name may be written in, most likely first.

    A Han name has one ("zhangwei"). A Latin name has its own order and, when it has two parts,
    the reversed one (English order "Wei Zhang" → "zhangwei"), the likelier first: the order
    whose first part is a known surname reading.
    """
    person = split_name(raw or "")
    if not person.name:
        return ()
    if not person.latin:
        return (han_pinyin(person.name),)
    parts = _LATIN.findall(person.name)
    if not parts:
        return ()
    written = "".join(parts)
    if len(parts) != 2:
        return (written,)
    reversed_ = parts[1] + parts[0]
    surnames = _surname_pinyins()
    if parts[0] not in surnames and parts[1] in surnames:
        return (reversed_, written)
    return (written, reversed_)


@lru_cache(maxsize=65536)
def surname_pinyin(raw: str) -> str:
    """The pinyin of the surname alone ("张主任" → "zhang"); for Latin names the likelier part."""
    person = split_name(raw or "")
    if not person.name:
        return ""
    if not person.latin:
        return han_pinyin(person.surname)
    parts = _LATIN.findall(person.name)
    if len(parts) == 2 and parts[0] not in _surname_pinyins() and parts[1] in _surname_pinyins():
        return parts[1]
    return parts[0] if parts else ""
