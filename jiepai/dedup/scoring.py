"""How alike two records are, with the reasons a person can check. No Django here.

The score is a sum of evidence in log-odds (the Fellegi–Sunter idea, with weights set by hand
and checked on the benchmarks in bench/): a shared mobile is strong evidence, a shared common
name weak, a different name counts against. `confidence` is the logistic of the sum.

A key shared by many records says little: with `count` records holding it the weight is scaled
by `key_factor(count, generic)`, which is 1 for a key two records share and 0 from `generic`
records on ("a key shared by very many records stops being evidence").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from jiepai.lib.cn_surnames import COMPOUND_SURNAMES
from jiepai.lib.phones import one_digit_apart

Features = Mapping[str, Sequence[str]]
Counter = Callable[[str, str], int]


@dataclass(frozen=True)
class Reason:
    code: str  # "same_mobile", "company_similar", ...
    percent: int = 0  # similarity in %, for the "…92%相似" reasons
    weight: float = 0.0  # its part of the score (negative: counts against)


@dataclass
class Match:
    confidence: float
    reasons: list[Reason] = field(default_factory=list)
    logit: float = 0.0


def confidence_of(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-logit))


def key_factor(count: int, generic: int) -> float:
    """1.0 for a key held by ≤ 2 records, falling (logarithmically) to 0 at `generic` records."""
    if count <= 2:
        return 1.0
    if count >= generic:
        return 0.0
    return max(0.0, 1.0 - math.log(count / 2) / math.log(generic / 2))


def _no_counts(kind: str, value: str) -> int:
    return 2


def _first(features: Features, kind: str) -> str:
    values = features.get(kind) or ()
    return values[0] if values else ""


class _Score:
    def __init__(self, prior: float) -> None:
        self.logit = prior
        self.reasons: list[Reason] = []

    def add(self, weight: float, code: str, percent: int = 0) -> None:
        self.logit += weight
        self.reasons.append(Reason(code, percent, round(weight, 2)))

    def result(self) -> Match:
        self.reasons.sort(key=lambda r: -r.weight)
        return Match(confidence_of(self.logit), self.reasons, self.logit)


def _shared(
    a: Features, b: Features, kind: str, counts: Counter, generic: int
) -> tuple[bool, float]:
    """(do they share a value, the strongest evidence factor of the shared values)."""
    shared = set(a.get(kind) or ()) & set(b.get(kind) or ())
    if not shared:
        return False, 0.0
    return True, max(key_factor(counts(kind, value), generic) for value in shared)


# --- people (contacts and leads) --------------------------------------------------------------

PERSON_PRIOR = -6.0
CHANNELS = (
    # kind, weight when shared, reason
    ("mobile", 9.0, "same_mobile"),
    ("email", 8.0, "same_email"),
    ("wechat", 8.0, "same_wechat"),
    ("landline", 3.0, "same_phone"),  # colleagues share a switchboard
)


#: forms of address that say nothing about the job (张老师 may be anybody named 张)
HONORIFICS = frozenset({"老师", "先生", "女士", "小姐", "师傅", "老板", "姐", "哥", "老"})


def _titles_agree(a: str, b: str) -> bool | None:
    if not a or not b or a in HONORIFICS or b in HONORIFICS:
        return None
    return a == b or a in b or b in a


def _name_evidence(a: Features, b: Features, counts: Counter, score: _Score) -> None:
    name_a, name_b = _first(a, "name"), _first(b, "name")
    if not name_a or not name_b:
        return
    pinyin_a, pinyin_b = set(a.get("pinyin") or ()), set(b.get("pinyin") or ())
    surname_only = _is_surname_only(a) or _is_surname_only(b)
    if name_a == name_b and not surname_only:
        # a common name (张伟) agrees by chance more often: up to 3 points less
        common = min(3.0, math.log10(max(1, counts("name", name_a))))
        score.add(5.0 - common, "same_name")
        return
    if surname_only:
        if name_a[:1] == name_b[:1] or _surname_pinyin(a) == _surname_pinyin(b) != "":
            titles = _titles_agree(_first(a, "title"), _first(b, "title"))
            if titles:
                # "张主任" twice at one hospital is likelier one person than "张主任" and a
                # 张伟 whose title is 主任: a big hospital has several 张 with that title
                both = _is_surname_only(a) and _is_surname_only(b)
                score.add(4.5 if both else 3.5, "same_surname_title")
            elif titles is None:
                score.add(2.0, "same_surname")
            else:
                score.add(0.5, "same_surname")
            return
        score.add(-5.0, "different_name")
        return
    if pinyin_a & pinyin_b:
        score.add(4.0, "same_pinyin")
        return
    best_pinyin = max(
        (fuzz.ratio(x, y) for x in pinyin_a for y in pinyin_b), default=fuzz.ratio(name_a, name_b)
    )
    if best_pinyin >= 85 and fuzz.ratio(name_a, name_b) >= 60:
        score.add(1.5, "similar_name", int(best_pinyin))
    else:
        score.add(-5.0, "different_name")


def _is_surname_only(features: Features) -> bool:
    name = _first(features, "name")
    return len(name) == 1 or name in COMPOUND_SURNAMES


def _surname_pinyin(features: Features) -> str:
    for kind in ("surname_company", "surname_company_full"):
        for value in features.get(kind) or ():
            return value.split("|", 1)[0]
    return ""


def _company_evidence(
    core_a: str, core_b: str, score: _Score, *, equal: float, different: float
) -> None:
    if not core_a or not core_b:
        return
    if core_a == core_b:
        score.add(equal, "same_company")
        return
    ratio = fuzz.ratio(core_a, core_b)
    shorter = min(len(core_a), len(core_b))
    if ratio >= 90:
        score.add(equal - 1.0, "company_similar", int(ratio))
    elif shorter >= 3 and fuzz.partial_ratio(core_a, core_b) >= 95:
        score.add(equal - 1.5, "company_contains")
    elif ratio >= 75:
        score.add(1.0, "company_similar", int(ratio))
    else:
        score.add(different, "different_company")


def score_person(
    a: Features, b: Features, *, counts: Counter = _no_counts, generic: int = 50
) -> Match:
    """Contact/lead vs contact/lead."""
    score = _Score(PERSON_PRIOR)
    for kind, weight, code in CHANNELS:
        shared, factor = _shared(a, b, kind, counts, generic)
        if shared:
            if factor > 0:
                score.add(weight * factor, code)
            else:
                score.add(0.0, f"{code}_generic")
    mobiles_a, mobiles_b = a.get("mobile") or (), b.get("mobile") or ()
    if mobiles_a and mobiles_b and not set(mobiles_a) & set(mobiles_b):
        if any(one_digit_apart(x, y) for x in mobiles_a for y in mobiles_b):
            score.add(4.0, "mobile_one_digit_off")
        else:
            score.add(-3.0, "different_mobile")
    emails_a, emails_b = a.get("email") or (), b.get("email") or ()
    if emails_a and emails_b and not set(emails_a) & set(emails_b):
        score.add(-1.0, "different_email")
    _name_evidence(a, b, counts, score)
    _company_evidence(_first(a, "company"), _first(b, "company"), score, equal=4.0, different=-3.0)
    return score.result()


# --- companies (accounts) ---------------------------------------------------------------------

COMPANY_PRIOR = -5.0


def score_company(
    a: Features, b: Features, *, counts: Counter = _no_counts, generic: int = 50
) -> Match:
    """Account vs account."""
    score = _Score(COMPANY_PRIOR)
    codes_a, codes_b = set(a.get("credit_code") or ()), set(b.get("credit_code") or ())
    if codes_a & codes_b:
        score.add(12.0, "same_credit_code")
    elif codes_a and codes_b:
        score.add(-10.0, "different_credit_code")
    if set(a.get("company_full") or ()) & set(b.get("company_full") or ()):
        score.add(8.0, "same_full_name")
    else:
        cores_a, cores_b = a.get("company_core") or (), b.get("company_core") or ()
        if set(cores_a) & set(cores_b):
            score.add(7.0, "same_core_name")
        elif cores_a and cores_b:
            brands = set(a.get("brand") or ()) & set(b.get("brand") or ())
            ratio = max(fuzz.ratio(x, y) for x in cores_a for y in cores_b)
            contains = any(
                min(len(x), len(y)) >= 2 and (x in y or y in x) for x in cores_a for y in cores_b
            )
            if ratio >= 90:
                score.add(4.0, "name_similar", int(ratio))
            elif contains:
                score.add(3.0, "name_contains")
            elif brands:
                score.add(3.0, "same_brand")
            elif ratio >= 75:
                score.add(1.0, "name_similar", int(ratio))
            else:
                score.add(-5.0, "different_company_name")
    branch_a, branch_b = _first(a, "branch"), _first(b, "branch")
    if branch_a and branch_b and branch_a != branch_b:
        score.add(-6.0, "different_branch")
    elif bool(branch_a) != bool(branch_b):
        score.add(-1.0, "one_is_branch")
    for kind, weight, code in (("phone", 3.0, "same_phone"), ("website", 5.0, "same_website")):
        shared, factor = _shared(a, b, kind, counts, generic)
        if shared and factor > 0:
            score.add(weight * factor, code)
    city_a, city_b = _first(a, "city"), _first(b, "city")
    if city_a and city_b and city_a != city_b:
        score.add(-3.0, "different_city")
    return score.result()


def score(
    entity: str, a: Features, b: Features, *, counts: Counter = _no_counts, generic: int = 50
) -> Match:
    if entity == "account":
        return score_company(a, b, counts=counts, generic=generic)
    return score_person(a, b, counts=counts, generic=generic)


def contradicts(entity: str, a: Features, b: Features) -> bool:
    """Hard evidence that two records are two people (or two companies), whatever else they
    share: used to keep a cluster from chaining them together through a vaguer third record
    ("王丽" without a phone looks like both 王丽 with 137… and 王丽 with 147…)."""
    if entity == "account":
        codes_a, codes_b = set(a.get("credit_code") or ()), set(b.get("credit_code") or ())
        if codes_a and codes_b and not codes_a & codes_b:
            return True
        branch_a, branch_b = _first(a, "branch"), _first(b, "branch")
        return bool(branch_a and branch_b and branch_a != branch_b)
    for kind in ("mobile", "email", "wechat"):
        if set(a.get(kind) or ()) & set(b.get(kind) or ()):
            return False
    mobiles_a, mobiles_b = a.get("mobile") or (), b.get("mobile") or ()
    if mobiles_a and mobiles_b:
        return not any(one_digit_apart(x, y) for x in mobiles_a for y in mobiles_b)
    return False
