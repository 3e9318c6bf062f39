"""Company and hospital names → comparable forms, no Django here.

`normalize_company("上海交通大學醫學院附屬瑞金醫院(總院)")` gives
- `full`:   the whole name, half width, simplified, brackets unified, no spaces
            ("上海交通大学医学院附属瑞金医院(总院)") — "企业全称" for uniqueness rules;
- `core`:   what people mean by the name: without the legal form (有限公司, 股份有限公司, 集团),
            "(中国)", the province/city prefix, the branch (上海分公司, 办事处) and the
            affiliation (…大学医学院附属) — "瑞金医院";
- `brand`:  the core without trailing industry words (科技, 网络技术, 医疗器械) — "瑞金";
- `branch`: the branch marker that was removed ("上海分公司"), so two branches can be told apart.

A place prefix is removed only when what remains still says which organisation it is:
上海瑞金医院 → 瑞金医院, but 上海市第一人民医院 stays 上海第一人民医院 (every city has a 第一人民医院).
Well-known abbreviations (工行, 北大, 中石化) map to the same core as their full names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from jiepai.lib.cn_regions import (
    AMBIGUOUS,
    CITY_SUFFIXES,
    PLACES,
    PROVINCE_SUFFIXES,
)
from jiepai.lib.text import fold

LEGAL_FORMS = (
    "集团股份有限公司", "集团有限责任公司", "集团有限公司", "股份有限公司", "有限责任公司",
    "股份合作公司", "有限合伙", "普通合伙", "有限公司", "股份公司", "集团公司", "总公司", "集团",
    "公司", "合伙企业", "个体工商户", "工作室", "事务所", "商行", "经营部", "厂",
    "corporation", "company", "limited", "co", "corp", "inc",
    "coltd", "ltd", "llc", "gmbh", "plc", "group",
)  # fmt: skip

BRANCH_MARKERS = (
    "分公司",
    "办事处",
    "代表处",
    "营业部",
    "分店",
    "分部",
    "分院",
    "分行",
    "支行",
    "分厂",
)

#: industry and type words: they describe what an organisation does, not which one it is
INDUSTRY_WORDS = (
    "网络技术", "信息技术", "科技发展", "医疗器械", "医疗科技", "生物科技", "生物医药",
    "电子商务", "供应链管理", "企业管理", "投资管理", "计算机系统", "软件技术", "智能科技",
    "人民医院", "中医医院", "中医院", "妇幼保健院", "妇幼保健", "卫生院", "门诊部", "研究院",
    "研究所", "大药房", "国际贸易", "进出口",
    "科技", "技术", "信息", "网络", "软件", "电子", "通信", "通讯", "数据", "智能", "计算机",
    "系统", "工程", "实业", "发展", "投资", "贸易", "商贸", "国际", "控股", "医疗", "器械",
    "医药", "生物", "制药", "健康", "教育", "文化", "传媒", "广告", "咨询", "管理", "服务",
    "物流", "供应链", "建设", "建筑", "装饰", "材料", "化工", "能源", "环保", "机械", "设备",
    "制造", "汽车", "零部件", "食品", "餐饮", "农业", "房地产", "置业", "物业", "金融", "保险",
    "证券", "银行", "医院", "大学", "学院", "中学", "小学", "学校", "中心", "人民", "中医",
    "诊所", "药店", "商务", "电器", "家居", "服饰", "印刷", "包装", "塑料", "五金", "钢铁",
    "新材料", "新能源", "光电", "精密", "自动化", "仪器", "仪表", "检测", "环境", "安全",
    "数字", "附属", "医学院", "总院", "本部",
)  # fmt: skip
_INDUSTRY = tuple(sorted(set(INDUSTRY_WORDS), key=len, reverse=True))


def _by_char(words: tuple[str, ...], position: int) -> dict[str, tuple[str, ...]]:
    """Words by their first (0) or last (-1) character, each group in the order of `words`: a
    word can only start (or end) a text at a character it starts (or ends) with, so looking at
    its group alone finds what a scan of all the words in order finds, in the same order."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[position], []).append(word)
    return {char: tuple(group) for char, group in groups.items()}


_INDUSTRY_BY_LAST = _by_char(_INDUSTRY, -1)
_INDUSTRY_RANK = {word: rank for rank, word in enumerate(_INDUSTRY)}
_INDUSTRY_BY_FIRST = _by_char(_INDUSTRY, 0)
_LEGAL_FORMS_BY_LAST = _by_char(LEGAL_FORMS, -1)
_ORDINAL = re.compile(r"第[一二三四五六七八九十百零0-9]+|[0-9]+")

#: abbreviation → the core of the full name (both sides normalised); extend as customers ask
ABBREVIATIONS = {
    "工行": "工商银行",
    "建行": "建设银行",
    "农行": "农业银行",
    "中行": "中国银行",
    "交行": "交通银行",
    "招行": "招商银行",
    "中石化": "石油化工",
    "中石油": "石油天然气",
    "北大": "北京大学",
    "清华": "清华大学",
    "复旦": "复旦大学",
    "上海交大": "上海交通大学",
    "浙大": "浙江大学",
    "中科院": "科学院",
    "阿里": "阿里巴巴",
}

# Bracketed remarks that say nothing about which organisation it is: (中国) (集团) (上海) (总院)
_BRACKET = re.compile(r"\(([^()]*)\)")
_SPACES = re.compile(r"[\s\u3000·・,，.。、\"'“”‘’《》<>\[\]【】{}]+")
_PLACE_SUFFIX = "|".join(map(re.escape, (*PROVINCE_SUFFIXES, *CITY_SUFFIXES)))
#: a place at the start, with its administrative suffix if written (上海市, 广东省, 阿里地区)
_LEADING_PLACE = re.compile(rf"^(中国|{'|'.join(map(re.escape, PLACES))})({_PLACE_SUFFIX})?")
_TRAILING_PLACE = re.compile(rf"({'|'.join(map(re.escape, PLACES))})$")
_UNAMBIGUOUS_PLACE = re.compile(
    rf"^({'|'.join(map(re.escape, [p for p in PLACES if p not in AMBIGUOUS]))})"
)
_AFFILIATED = re.compile(r"^.{2,}?(?:大学|学院|医科大学).{0,6}?附属(.+)$")


@dataclass(frozen=True)
class CompanyName:
    full: str
    core: str
    brand: str
    branch: str = ""


def _unify(raw: str) -> str:
    text = fold(raw)
    text = text.replace("（", "(").replace("）", ")").replace("[", "(").replace("]", ")")
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    return text


def _strip_legal_form(text: str) -> str:
    changed = True
    while changed and text:
        changed = False
        for form in _LEGAL_FORMS_BY_LAST.get(text[-1], ()):
            if text.endswith(form) and len(text) > len(form):
                text = text[: -len(form)].rstrip(" .,-&")
                changed = True
                break
    return text


def _is_place(word: str) -> bool:
    base = word
    for suffix in (*PROVINCE_SUFFIXES, *CITY_SUFFIXES):
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    return base in PLACES or base in ("中国", "china", "prc")


def _distinctive(text: str) -> bool:
    """Does `text` still name one organisation once industry and ordinal words are gone?"""
    rest = _UNAMBIGUOUS_PLACE.sub("", _ORDINAL.sub("", text), count=1)
    # Removing words never brings in a character that was not there: the words that can occur
    # are those starting with a character of `rest` now, taken in the order of _INDUSTRY.
    present = {word for char in set(rest) for word in _INDUSTRY_BY_FIRST.get(char, ())}
    for word in sorted(present, key=_INDUSTRY_RANK.__getitem__):
        rest = rest.replace(word, "")
    return len(rest) >= 2


def _leading_place(text: str) -> str:
    """The place prefix of `text` ("上海市", "广东省深圳市", "中国"), or ""."""
    taken = ""
    rest = text
    while True:
        match = _LEADING_PLACE.match(rest)
        if not match or (match.group(1) in AMBIGUOUS and not match.group(2)):
            break
        step = match.group(0)
        taken, rest = taken + step, rest[len(step) :]
        if step.endswith("市"):
            district = re.match(r"^[\u4e00-\u9fff]{1,4}?(?:新区|区|县)", rest)
            if district and _distinctive(rest[district.end() :]):
                taken, rest = taken + district.group(0), rest[district.end() :]
    return taken


def _strip_place(text: str) -> str:
    place = _leading_place(text)
    if not place:
        return text
    rest = text[len(place) :]
    if _distinctive(rest):
        return rest
    # Not distinctive without the place (上海市第一人民医院): keep the place, drop 市/省.
    short = place
    for suffix in (*PROVINCE_SUFFIXES, *CITY_SUFFIXES):
        short = short.replace(suffix, "")
    return short + rest


def _split_branch(text: str) -> tuple[str, str]:
    for marker in BRANCH_MARKERS:
        index = text.rfind(marker)
        if index <= 0 or index + len(marker) != len(text):
            continue
        head = text[:index]
        # "华为技术有限公司上海分公司": the branch place sits between the legal form and marker
        for form in LEGAL_FORMS:
            cut = head.rfind(form)
            if cut > 0 and form in ("有限公司", "有限责任公司", "股份有限公司", "公司", "集团"):
                return head[: cut + len(form)], head[cut + len(form) :] + marker
        trailing = _TRAILING_PLACE.search(head)
        place = trailing.group(1) if trailing and trailing.start() > 0 else ""
        if place:
            return head[: -len(place)], place + marker
        return head, marker
    return text, ""


def _brackets(text: str) -> str:
    """Drop bracketed places, legal forms and remarks; keep other bracketed words unbracketed."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        if not inner or _is_place(inner) or inner in LEGAL_FORMS or inner in INDUSTRY_WORDS:
            return ""
        if inner in ("总院", "本部", "总部", "总店", "普通合伙", "有限合伙"):
            return ""
        return inner

    return _BRACKET.sub(replace, text).replace("(", "").replace(")", "")


def _brand(core: str) -> str:
    brand = core
    changed = True
    while changed and brand:
        changed = False
        for word in _INDUSTRY_BY_LAST.get(brand[-1], ()):
            if brand.endswith(word) and len(brand) - len(word) >= 2:
                brand = brand[: -len(word)]
                changed = True
                break
    # "中国银行" → "中国", "北京大学" → "北京": a place is not a brand
    if brand != core and (_is_place(brand) or not _distinctive(brand)):
        return core
    return brand


@lru_cache(maxsize=65536)
def normalize_company(raw: str) -> CompanyName:
    """See the module docstring. An empty or unreadable name gives empty strings."""
    unified = _unify(raw or "")
    full = _SPACES.sub("", unified)
    if not full:
        return CompanyName("", "", "")
    text, branch = _split_branch(full)
    text = _strip_legal_form(text)
    text = _brackets(text)
    text = _strip_legal_form(text)
    affiliated = _AFFILIATED.match(text)
    if affiliated and _distinctive(affiliated.group(1)):
        text = affiliated.group(1)
    text = _strip_place(text)
    text = ABBREVIATIONS.get(text, text)
    core = text or full
    return CompanyName(full=full, core=core, brand=_brand(core), branch=branch)
