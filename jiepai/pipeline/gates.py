"""Stage gates (阶段门槛): what must hold before a deal may enter a stage, read from the data.

A gate is the stage's active GateRequirement rows. Each kind checks one thing and uses these
parameters (the model's constraints make sure they are set):

- field         `field_name` is filled. Built-in names are in BUILTIN_FIELDS ("amount" counts
                as filled when it is above zero); "custom.<key>" is a custom field of the deal.
- range         the number in `field_name` lies within [min_value, max_value] (either optional).
- attachment    the deal has a file of `attachment_kind` (报价单, 合同草案, ...) that has not expired.
- contact_role  the deal's account has a contact marked `contact_role` (决策人, ...) on its
                decision chain.
- activity      a follow-up on the deal, of `activity_kind` and with `activity_conclusion` (each
                "any" when blank).
- next_action   a next step is booked ("复盘时间已约"): an open task on the deal due at or after
                the moment of the move, or a follow-up on the deal whose next action is due then
                or later. A booked time in the past does not count: it is no longer a plan.
- condition     `expression` (a simpleeval expression, validated when saved) is true for the
                deal; the names it may use are listed in CONDITION_NAMES.

Rows of one stage that share a non-empty `any_of` key are alternatives (one of them suffices).
Which stages' gates a particular move must pass is decided in jiepai.pipeline.stages.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simpleeval import EvalWithCompoundTypes, InvalidExpression

from jiepai.activities.models import Activity, ActivityKind, ConclusionChoice, Task
from jiepai.customers.models import Contact, ContactRole
from jiepai.customfields.models import FieldDefinition, FieldType
from jiepai.files.models import Attachment, DocumentKind
from jiepai.pipeline.models import GateRequirement, Opportunity, RequirementKind, Stage

#: built-in deal fields a gate may ask for, with their labels
BUILTIN_FIELDS = {
    "amount": gettext_lazy("金额"),
    "expected_close_date": gettext_lazy("预计成交日期"),
    "contact": gettext_lazy("主要联系人"),
    "description": gettext_lazy("说明"),
    "loss_reason": gettext_lazy("输单原因"),
}
NUMERIC_BUILTINS = {"amount"}
NUMERIC_CUSTOM_TYPES = {FieldType.NUMBER, FieldType.MONEY}
CUSTOM_PREFIX = "custom."

#: the names a condition expression may use, with what they mean (shown in the admin help)
CONDITION_NAMES = {
    "amount": gettext_lazy("金额(数字)"),
    "custom": gettext_lazy("自定义字段,如 custom['budget_range'](未填为空字符串)"),
    "has_contact": gettext_lazy("是否已选主要联系人"),
    "industry": gettext_lazy("客户行业"),
    "tier": gettext_lazy("客户分级"),
    "days_to_close": gettext_lazy("距预计成交日期的天数(未填为 None)"),
    "days_in_stage": gettext_lazy("在当前阶段的天数"),
}


class _Blank(dict):  # type: ignore[type-arg]
    """A dict whose missing keys read as "" so conditions on unfilled custom fields are false."""

    def __missing__(self, key: object) -> str:
        return ""


# --- describing requirements ----------------------------------------------------------------


def field_label(field_name: str) -> str:
    if field_name in BUILTIN_FIELDS:
        return str(BUILTIN_FIELDS[field_name])
    if field_name.startswith(CUSTOM_PREFIX):
        definition = custom_definition(field_name)
        if definition is not None:
            return definition.label
        return field_name[len(CUSTOM_PREFIX) :]
    return field_name


def custom_definition(field_name: str) -> FieldDefinition | None:
    key = field_name[len(CUSTOM_PREFIX) :]
    return FieldDefinition.objects.filter(entity="opportunity", key=key, active=True).first()


def _choice_label(choices: type, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def describe(requirement: GateRequirement) -> str:
    """What the user has to do to satisfy `requirement`, in one short sentence."""
    if requirement.help_text:
        return requirement.help_text
    kind = requirement.kind
    if kind == RequirementKind.FIELD:
        return _("填写“%(field)s”") % {"field": field_label(requirement.field_name)}
    if kind == RequirementKind.RANGE:
        label = field_label(requirement.field_name)
        low, high = requirement.min_value, requirement.max_value
        if low is not None and high is not None:
            return _("“%(field)s”须在 %(low)s 至 %(high)s 之间") % {
                "field": label,
                "low": number_format(low, force_grouping=True),
                "high": number_format(high, force_grouping=True),
            }
        if low is not None:
            return _("“%(field)s”须不低于 %(low)s") % {
                "field": label,
                "low": number_format(low, force_grouping=True),
            }
        return _("“%(field)s”须不高于 %(high)s") % {
            "field": label,
            "high": number_format(high, force_grouping=True),
        }
    if kind == RequirementKind.ATTACHMENT:
        return _("上传一份“%(kind)s”") % {
            "kind": _choice_label(DocumentKind, requirement.attachment_kind)
        }
    if kind == RequirementKind.CONTACT_ROLE:
        return _("在客户的联系人中标记一位“%(role)s”") % {
            "role": _choice_label(ContactRole, requirement.contact_role)
        }
    if kind == RequirementKind.ACTIVITY:
        how = (
            _choice_label(ActivityKind, requirement.activity_kind)
            if requirement.activity_kind
            else _("跟进")
        )
        if requirement.activity_conclusion:
            return _("记录一次%(how)s,关键结论“%(conclusion)s”") % {
                "how": how,
                "conclusion": requirement.activity_conclusion,
            }
        return _("记录一次%(how)s") % {"how": how}
    if kind == RequirementKind.NEXT_ACTION:
        return _("约定下一步及时间(待办或跟进记录中的下一步)")
    return _("需满足条件:%(expression)s") % {"expression": requirement.expression}


# --- validating requirements (admin) --------------------------------------------------------


def requirement_errors(requirement: GateRequirement) -> dict[str, list[str]]:
    """Why a requirement row cannot work, by field (empty: it can be saved)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    kind = requirement.kind
    if kind in (RequirementKind.FIELD, RequirementKind.RANGE):
        name = requirement.field_name.strip()
        if not name:
            add("field_name", _("请填写字段"))
        elif name.startswith(CUSTOM_PREFIX):
            definition = custom_definition(name)
            if definition is None:
                add("field_name", _("没有启用的商机自定义字段“%(key)s”") % {"key": name[7:]})
            elif kind == RequirementKind.RANGE and definition.field_type not in (
                NUMERIC_CUSTOM_TYPES
            ):
                add("field_name", _("数值范围只能用于数字或金额字段"))
        elif name not in BUILTIN_FIELDS:
            add(
                "field_name",
                _("可用的内置字段:%(names)s,或 custom.自定义字段键")
                % {"names": "、".join(BUILTIN_FIELDS)},
            )
        elif kind == RequirementKind.RANGE and name not in NUMERIC_BUILTINS:
            add("field_name", _("数值范围只能用于数字或金额字段"))
    if (
        kind == RequirementKind.RANGE
        and requirement.min_value is None
        and requirement.max_value is None
    ):
        add("min_value", _("请至少填写最小值或最大值"))
    if (
        requirement.min_value is not None
        and requirement.max_value is not None
        and requirement.min_value > requirement.max_value
    ):
        add("max_value", _("最大值不能小于最小值"))
    if (
        kind == RequirementKind.ATTACHMENT
        and requirement.attachment_kind not in DocumentKind.values
    ):
        add("attachment_kind", _("请选择文件类型"))
    if kind == RequirementKind.CONTACT_ROLE and requirement.contact_role not in ContactRole.values:
        add("contact_role", _("请选择联系人角色"))
    if (
        kind == RequirementKind.ACTIVITY
        and requirement.activity_kind
        and requirement.activity_kind not in ActivityKind.values
    ):
        add("activity_kind", _("未知的跟进方式"))
    if (
        kind == RequirementKind.ACTIVITY
        and requirement.activity_conclusion
        and not ConclusionChoice.objects.filter(
            label=requirement.activity_conclusion, active=True
        ).exists()
    ):
        add("activity_conclusion", _("关键结论须是跟进表单里启用的选项之一"))
    if kind == RequirementKind.CONDITION:
        message = expression_error(requirement.expression)
        if message:
            add("expression", message)
    return errors


def _evaluator(names: dict[str, Any]) -> EvalWithCompoundTypes:
    return EvalWithCompoundTypes(names=names)


def _sample_names() -> dict[str, Any]:
    return {
        "amount": 0.0,
        "custom": _Blank(),
        "has_contact": False,
        "industry": "",
        "tier": "",
        "days_to_close": None,
        "days_in_stage": 0,
    }


def expression_error(expression: str) -> str:
    """A message when `expression` cannot be a condition (syntax, unknown names), else ""."""
    text = expression.strip()
    if not text:
        return _("请填写条件")
    if len(text) > 1000:
        return _("条件太长(最多 1000 个字符)")
    try:
        _evaluator(_sample_names()).eval(text)
    except InvalidExpression as exc:
        return _("条件无效:%(reason)s") % {"reason": exc}
    except SyntaxError:
        return _("条件有语法错误")
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError):
        # A type mismatch on the sample values (None compared with a number, ...) is not an
        # error in the expression itself; evaluation on a real deal decides.
        return ""
    return ""


# --- checking -------------------------------------------------------------------------------


def _raw_value(opportunity: Opportunity, field_name: str) -> Any:
    if field_name.startswith(CUSTOM_PREFIX):
        return (opportunity.custom or {}).get(field_name[len(CUSTOM_PREFIX) :])
    if field_name == "contact":
        return opportunity.contact_id
    return getattr(opportunity, field_name, None)


def _is_filled(field_name: str, value: Any) -> bool:
    if value is None:
        return False
    if field_name == "amount":
        return Decimal(value) > 0
    if isinstance(value, str | list | tuple | dict):
        return bool(value.strip() if isinstance(value, str) else value)
    return True


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def condition_names(opportunity: Opportunity, now: datetime.datetime) -> dict[str, Any]:
    today = timezone.localtime(now).date()
    entered = opportunity.stage_entered_at or now
    return {
        "amount": float(opportunity.amount or 0),
        "custom": _Blank(opportunity.custom or {}),
        "has_contact": opportunity.contact_id is not None,
        "industry": opportunity.account.industry,
        "tier": opportunity.account.tier,
        "days_to_close": (
            (opportunity.expected_close_date - today).days
            if opportunity.expected_close_date
            else None
        ),
        "days_in_stage": max((now - entered).days, 0),
    }


def is_satisfied(
    requirement: GateRequirement, opportunity: Opportunity, *, now: datetime.datetime
) -> bool:
    kind = requirement.kind
    if kind == RequirementKind.FIELD:
        if requirement.field_name.startswith(CUSTOM_PREFIX) and not custom_definition(
            requirement.field_name
        ):
            return False  # the field was removed: the gate fails visibly rather than silently
        return _is_filled(requirement.field_name, _raw_value(opportunity, requirement.field_name))
    if kind == RequirementKind.RANGE:
        number = _number(_raw_value(opportunity, requirement.field_name))
        if number is None:
            return False
        if requirement.min_value is not None and number < requirement.min_value:
            return False
        return not (requirement.max_value is not None and number > requirement.max_value)
    if kind == RequirementKind.ATTACHMENT:
        today = timezone.localtime(now).date()
        return (
            Attachment.objects.filter(
                entity="opportunity", object_id=opportunity.pk, kind=requirement.attachment_kind
            )
            .exclude(expires_on__lt=today)
            .exists()
        )
    if kind == RequirementKind.CONTACT_ROLE:
        return Contact.objects.filter(
            account_id=opportunity.account_id,
            role=requirement.contact_role,
            merged_into__isnull=True,
        ).exists()
    if kind == RequirementKind.ACTIVITY:
        activities = Activity.objects.filter(opportunity=opportunity)
        if requirement.activity_kind:
            activities = activities.filter(kind=requirement.activity_kind)
        if requirement.activity_conclusion:
            activities = activities.filter(conclusion=requirement.activity_conclusion)
        return activities.exists()
    if kind == RequirementKind.NEXT_ACTION:
        return (
            Task.objects.filter(
                opportunity=opportunity, done_at__isnull=True, due_at__gte=now
            ).exists()
            or Activity.objects.filter(opportunity=opportunity, next_action_due__gte=now).exists()
        )
    if kind == RequirementKind.CONDITION:
        try:
            return bool(_evaluator(condition_names(opportunity, now)).eval(requirement.expression))
        except Exception:  # noqa: BLE001 - a broken condition blocks, it never crashes a move
            return False
    return False


@dataclass(frozen=True)
class Missing:
    """One unmet part of a gate: a requirement, or a group of alternatives (any one will do)."""

    stage: Stage
    label: str
    options: tuple[GateRequirement, ...]

    @property
    def key(self) -> str:
        first = self.options[0]
        return f"{self.stage.pk}:{first.any_of or first.pk}"

    def describe(self) -> list[str]:
        return [describe(option) for option in self.options]

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage.pk,
            "stage_name": self.stage.name,
            "label": self.label,
            "any_of": [
                {
                    "requirement": option.pk,
                    "kind": option.kind,
                    "field": option.field_name or None,
                    "what": describe(option),
                }
                for option in self.options
            ],
        }


def requirements_of(stages: Iterable[Stage]) -> list[GateRequirement]:
    ids = [stage.pk for stage in stages]
    return list(
        GateRequirement.objects.filter(stage_id__in=ids, active=True)
        .select_related("stage")
        .order_by("stage__position", "stage_id", "position", "id")
    )


def _groups(requirements: list[GateRequirement]) -> list[list[GateRequirement]]:
    groups: dict[tuple[int, str], list[GateRequirement]] = {}
    for requirement in requirements:
        key = (requirement.stage_id, requirement.any_of or f"#{requirement.pk}")
        groups.setdefault(key, []).append(requirement)
    return list(groups.values())


def missing_for(
    opportunity: Opportunity, stages: Iterable[Stage], *, now: datetime.datetime | None = None
) -> list[Missing]:
    """The unmet parts of the gates of `stages` for `opportunity` (empty: they all pass)."""
    now = now or timezone.now()
    missing = []
    for group in _groups(requirements_of(stages)):
        if any(is_satisfied(option, opportunity, now=now) for option in group):
            continue
        missing.append(Missing(stage=group[0].stage, label=group[0].label, options=tuple(group)))
    return missing
