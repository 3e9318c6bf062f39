"""Admin-written conditions for tag rules, evaluated with simpleeval (never eval).

A condition is an expression over the names below, e.g.
    kind == "web_form" and "/product/plc" in page_url
    budget >= 500000 or industry in ["医疗器械", "半导体"]
It is parsed once per distinct text and checked when a rule is saved: a syntax error or an unknown
name is reported to the admin, not found out on the first lead.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

import simpleeval
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

#: name → what it is (shown to admins next to the condition box)
CONDITION_NAMES: dict[str, str] = {
    "channel": "渠道标识 (slug)",
    "channel_name": "渠道名称",
    "kind": "渠道类型: web_form, mini_program, trade_show, phone, short_video, api, manual, import",
    "page_url": "提交页面网址",
    "referrer": "来路网址",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_term": "utm_term",
    "utm_content": "utm_content",
    "keyword": "搜索关键词",
    "booth": "展位/展区",
    "ad_id": "广告/创意编号",
    "form_name": "表单名称",
    "name": "姓名",
    "title": "职位",
    "company": "公司",
    "industry": "行业",
    "province": "省份",
    "city": "城市",
    "message": "留言",
    "budget": "预算 (数字,未填为 0)",
    "has_mobile": "有手机号 (True/False)",
    "has_email": "有邮箱 (True/False)",
}
MAX_CONDITION_LENGTH = 2000

_FUNCTIONS = {
    "lower": lambda s: str(s).lower(),
    "contains": lambda s, part: str(part) in str(s),
    "startswith": lambda s, prefix: str(s).startswith(str(prefix)),
    "endswith": lambda s, suffix: str(s).endswith(str(suffix)),
}


def sample_names() -> dict[str, Any]:
    names: dict[str, Any] = dict.fromkeys(CONDITION_NAMES, "")
    names.update(budget=0.0, has_mobile=False, has_email=False)
    return names


def _evaluator(names: Mapping[str, Any]) -> simpleeval.EvalWithCompoundTypes:
    return simpleeval.EvalWithCompoundTypes(names=dict(names), functions=_FUNCTIONS)


@functools.lru_cache(maxsize=512)
def _parsed(condition: str) -> Any:
    return _evaluator({}).parse(condition)


def condition_error(condition: str) -> str | None:
    """Why the condition cannot be used (syntax, unknown name, a type error on sample values),
    or None when it is fine."""
    text = (condition or "").strip()
    if not text:
        return _("请填写条件")
    if len(text) > MAX_CONDITION_LENGTH:
        return _("条件太长(最多 %(n)d 个字符)") % {"n": MAX_CONDITION_LENGTH}
    try:
        parsed = _parsed(text)
        _evaluator(sample_names()).eval(text, previously_parsed=parsed)
    except SyntaxError as exc:
        return _("条件语法错误:%(error)s") % {"error": exc.msg}
    except simpleeval.NameNotDefined as exc:
        return _("未知名称“%(name)s”;可用:%(names)s") % {
            "name": exc.name,
            "names": ", ".join(CONDITION_NAMES),
        }
    except simpleeval.InvalidExpression as exc:
        return _("条件不被允许:%(error)s") % {"error": exc}
    except Exception as exc:  # noqa: BLE001 — any evaluation failure is the admin's to fix
        return _("条件无法计算:%(error)s") % {"error": exc}
    return None


def condition_holds(condition: str, names: Mapping[str, Any]) -> bool:
    """Evaluate a saved condition; a condition that fails at run time counts as not holding
    (and is logged), so one bad rule never blocks intake."""
    text = condition.strip()
    try:
        return bool(_evaluator(names).eval(text, previously_parsed=_parsed(text)))
    except Exception:  # noqa: BLE001
        logger.warning("tag rule condition failed: %r", text, exc_info=True)
        return False
