"""The reasons a match was proposed, in words a sales rep reads ("同一手机号", "单位名称 92% 相似")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from jiepai.dedup.scoring import Reason

TEXTS = {
    "same_mobile": _("同一手机号"),
    "same_mobile_generic": _("手机号相同,但被很多记录共用,不作为证据"),
    "same_email": _("同一邮箱"),
    "same_email_generic": _("邮箱相同,但被很多记录共用,不作为证据"),
    "same_wechat": _("同一微信号"),
    "same_wechat_generic": _("微信号相同,但被很多记录共用,不作为证据"),
    "same_phone": _("同一电话"),
    "same_phone_generic": _("电话相同(总机,被很多记录共用)"),
    "mobile_one_digit_off": _("手机号仅差一位"),
    "different_mobile": _("手机号不同"),
    "different_email": _("邮箱不同"),
    "same_name": _("姓名相同"),
    "same_surname_title": _("同姓且职位相同"),
    "same_surname": _("同姓"),
    "same_pinyin": _("姓名拼音相同"),
    "similar_name": _("姓名拼音 %(percent)d%% 相似"),
    "different_name": _("姓名不同"),
    "same_company": _("同一单位"),
    "company_similar": _("单位名称 %(percent)d%% 相似"),
    "company_contains": _("单位名称一个包含另一个"),
    "different_company": _("单位不同"),
    "same_credit_code": _("统一社会信用代码相同"),
    "different_credit_code": _("统一社会信用代码不同"),
    "same_full_name": _("企业全称相同"),
    "same_core_name": _("名称相同(忽略地区、括号和公司后缀)"),
    "name_similar": _("名称 %(percent)d%% 相似"),
    "name_contains": _("名称一个包含另一个(简称)"),
    "same_brand": _("字号相同"),
    "different_company_name": _("名称不同"),
    "different_branch": _("不同分支机构"),
    "one_is_branch": _("其中一条是分支机构"),
    "same_website": _("网站相同"),
    "different_city": _("城市不同"),
}


def reason_text(reason: Reason | dict[str, Any]) -> str:
    if isinstance(reason, dict):
        reason = Reason(reason.get("code", ""), int(reason.get("percent", 0)))
    text = TEXTS.get(reason.code)
    if text is None:
        return reason.code
    return str(text) % {"percent": reason.percent} if "%(" in str(text) else str(text)


def reason_texts(
    reasons: Iterable[Reason | dict[str, Any]], *, positive_only: bool = False
) -> list[str]:
    out = []
    for reason in reasons:
        weight = reason.weight if isinstance(reason, Reason) else reason.get("weight", 0)
        if positive_only and weight < 0:
            continue
        out.append(reason_text(reason))
    return out


def reasons_json(reasons: Iterable[Reason]) -> list[dict[str, Any]]:
    return [{"code": r.code, "percent": r.percent, "weight": r.weight} for r in reasons]
