"""Routing-rule conditions: safe expressions over a lead's fields, evaluated by simpleeval.

Never `eval`: simpleeval walks the parsed expression itself and refuses attribute tricks,
imports and unknown functions. A condition is checked when its rule is saved (syntax, names,
a trial evaluation on a sample lead), so a broken rule never reaches a live lead.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from simpleeval import EvalWithCompoundTypes, InvalidExpression

#: the names a condition may use, with a sample value of the right type for the save-time check
LEAD_NAMES: dict[str, Any] = {
    "budget": 600000.0,  # 0 when unknown
    "has_budget": True,
    "industry": "医疗器械",
    "province": "上海",
    "city": "上海",
    "title": "采购总监",
    "company": "上海瑞金医院",
    "channel": "web",
    "channel_kind": "web_form",
    "score": 1.0,
    "intent_score": 0.0,
}

FUNCTIONS = {"len": len, "int": int, "float": float, "str": str}


@lru_cache(maxsize=256)
def _parsed(expression: str) -> ast.AST:
    return EvalWithCompoundTypes().parse(expression)


def lead_names(lead: Any) -> dict[str, Any]:
    channel = getattr(lead, "channel", None)
    return {
        "budget": float(lead.budget) if lead.budget is not None else 0.0,
        "has_budget": lead.budget is not None,
        "industry": lead.industry or "",
        "province": lead.province or "",
        "city": lead.city or "",
        "title": lead.title or "",
        "company": lead.company or "",
        "channel": channel.slug if channel else "",
        "channel_kind": channel.kind if channel else "",
        "score": float(lead.score or 0),
        "intent_score": float(lead.intent_score or 0),
    }


def evaluate(expression: str, names: dict[str, Any]) -> bool:
    """True when the condition holds. Raises InvalidExpression/SyntaxError/TypeError on a bad one
    (callers record the failure and treat the rule as not matching)."""
    evaluator = EvalWithCompoundTypes(names=names, functions=FUNCTIONS)
    return bool(evaluator.eval(expression, previously_parsed=_parsed(expression)))


def check(expression: str) -> str:
    """A user-facing message when the condition is unusable, else ""."""
    if not expression or not expression.strip():
        return _("请填写条件")
    if len(expression) > 1000:
        return _("条件太长(最多 1000 个字符)")
    try:
        evaluate(expression, dict(LEAD_NAMES))
    except SyntaxError:
        return _("条件语法错误,请检查括号、引号和运算符")
    except InvalidExpression as exc:
        return _("条件无法使用:%(error)s。可用字段:%(names)s") % {
            "error": exc,
            "names": ", ".join(LEAD_NAMES),
        }
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        return _("条件计算出错:%(error)s") % {"error": exc}
    return ""
