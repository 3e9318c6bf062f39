"""Which fields an import can fill per entity, and how a spreadsheet header finds its field.

A header maps to a field by (in this order) the field's own name, its Chinese label, its English
label, a custom field's label/key, then the alias dictionary (手机号/电话/mobile_phone → mobile).
Headers are compared after normalising width, case, spaces, underscores and "*"/(必填) marks, so
"手机号 *", "Mobile_Phone" and "ＭＯＢＩＬＥ" all find `mobile`.

The built-in fields are the ones the entity's write service accepts (customers.services.
ACCOUNT_FIELDS etc.), so an import can never set a field a form could not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

from jiepai.core.entities import model_for
from jiepai.customers.services import ACCOUNT_FIELDS, CONTACT_FIELDS
from jiepai.customfields.models import FieldDefinition, FieldType
from jiepai.customfields.services import definitions_for
from jiepai.intake.services import LEAD_FIELDS
from jiepai.lib.values import to_half_width
from jiepai.pipeline.services import OPPORTUNITY_FIELDS

ENTITIES = ("account", "contact", "lead", "opportunity")
#: the CLI's plural names
PLURALS = {
    "accounts": "account",
    "contacts": "contact",
    "leads": "lead",
    "opportunities": "opportunity",
}

SERVICE_FIELDS: dict[str, tuple[str, ...]] = {
    "account": ACCOUNT_FIELDS,
    "contact": CONTACT_FIELDS,
    "lead": tuple(f for f in LEAD_FIELDS if f != "source_detail"),
    "opportunity": tuple(f for f in OPPORTUNITY_FIELDS if f != "lead") + ("stage",),
}

#: alias → field, per entity; a header equal to an alias (after normalising) maps to the field.
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "owner": ("负责人", "销售", "跟进人", "归属人", "所属销售", "owner", "sales", "salesrep"),
    "external_id": ("外部编号", "编号", "外部id", "原系统编号", "externalid"),
    "email": ("邮箱", "电子邮件", "电子邮箱", "邮件", "e-mail", "mail", "email"),
    "wechat": ("微信", "微信号", "wechat", "weixin", "wx"),
    "province": ("省", "省份", "所在省", "province", "state"),
    "city": ("市", "城市", "所在城市", "city"),
    "industry": ("行业", "所属行业", "industry"),
    "notes": ("备注", "说明", "remark", "remarks", "note", "notes"),
}
ENTITY_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "lead": {
        "name": ("姓名", "联系人", "联系人姓名", "客户姓名", "name", "contact", "contactname"),
        "mobile": (
            "手机号",
            "手机号码",
            "手机",
            "电话",
            "联系电话",
            "联系方式",
            "移动电话",
            "mobile",
            "mobilephone",
            "cellphone",
            "cell",
            "phone",
            "tel",
            "telephone",
        ),
        "company": (
            "公司",
            "单位",
            "公司名称",
            "单位名称",
            "企业",
            "企业名称",
            "客户名称",
            "医院",
            "company",
            "companyname",
            "organization",
            "org",
        ),
        "title": ("职位", "职务", "头衔", "title", "position", "jobtitle"),
        "budget": ("预算", "预算金额", "budget"),
        "message": ("留言", "需求", "需求描述", "咨询内容", "message", "comment"),
        "channel": ("渠道", "来源", "线索来源", "channel", "source"),
    },
    "account": {
        "name": (
            "客户",
            "客户名称",
            "公司",
            "公司名称",
            "单位",
            "单位名称",
            "企业",
            "企业名称",
            "医院",
            "company",
            "companyname",
            "account",
            "accountname",
            "name",
        ),
        "short_name": ("简称", "客户简称", "shortname"),
        "credit_code": (
            "信用代码",
            "统一社会信用代码",
            "社会信用代码",
            "税号",
            "creditcode",
            "uscc",
        ),
        "phone": ("电话", "座机", "联系电话", "总机", "phone", "tel", "telephone"),
        "address": ("地址", "详细地址", "address"),
        "website": ("网址", "网站", "官网", "website", "url"),
        "tier": ("分级", "客户分级", "客户等级", "等级", "tier", "level"),
    },
    "contact": {
        "name": ("姓名", "联系人", "联系人姓名", "name", "contactname"),
        "account": (
            "客户",
            "客户名称",
            "公司",
            "公司名称",
            "单位",
            "单位名称",
            "企业名称",
            "医院",
            "company",
            "companyname",
            "account",
        ),
        "mobile": (
            "手机号",
            "手机号码",
            "手机",
            "电话",
            "联系电话",
            "移动电话",
            "mobile",
            "mobilephone",
            "cellphone",
            "cell",
        ),
        "phone": ("座机", "办公电话", "固定电话", "phone", "officephone", "telephone", "tel"),
        "title": ("职位", "职务", "头衔", "title", "position", "jobtitle"),
        "department_name": ("科室", "部门", "科室/部门", "department", "dept"),
        "role": ("角色", "决策链角色", "决策角色", "role"),
        "decision_weight": ("决策权重", "权重", "weight", "decisionweight"),
    },
    "opportunity": {
        "name": ("商机", "商机名称", "项目", "项目名称", "opportunity", "deal", "dealname", "name"),
        "account": (
            "客户",
            "客户名称",
            "公司",
            "公司名称",
            "单位",
            "医院",
            "company",
            "account",
        ),
        "contact": ("联系人", "主要联系人", "contact"),
        "amount": ("金额", "商机金额", "预计金额", "合同金额", "amount", "value"),
        "expected_close_date": ("预计成交日期", "成交日期", "预计签约日期", "closedate"),
        "description": ("说明", "描述", "备注", "description"),
        "stage": ("阶段", "销售阶段", "stage"),
    },
}

_MARKS = re.compile(r"[\s_\-*＊·.]|[((](必填|选填|required|optional)[))]")


def normalise_header(text: object) -> str:
    """'手机号 *' → '手机号'; 'Mobile_Phone' → 'mobilephone'; full width folded."""
    return _MARKS.sub("", to_half_width(str(text or "")).lower())


@dataclass
class FieldSpec:
    """One importable field: built-in (`key` = model field name) or custom (`custom.<key>`)."""

    key: str
    label: str
    label_en: str
    kind: str  # text, integer, decimal, float, date, choice, user, account, contact, channel,
    #            stage, or a custom FieldType value
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)  # (stored value, label)
    definition: FieldDefinition | None = None
    max_length: int | None = None

    @property
    def is_custom(self) -> bool:
        return self.definition is not None

    def names(self) -> set[str]:
        found = {normalise_header(self.label), normalise_header(self.label_en)}
        if self.definition is not None:
            found.add(normalise_header(self.definition.key))
        else:
            found.add(normalise_header(self.key))
        return {n for n in found if n}


def _kind_of(model_field: models.Field) -> str:
    if model_field.is_relation:
        target = model_field.related_model._meta.label  # type: ignore[union-attr]
        return {
            "org.User": "user",
            "customers.Account": "account",
            "customers.Contact": "contact",
            "intake.Channel": "channel",
            "pipeline.Stage": "stage",
        }.get(target, "text")
    if model_field.choices:
        return "choice"
    if isinstance(model_field, models.DecimalField):
        return "decimal"
    if isinstance(model_field, models.IntegerField):
        return "integer"
    if isinstance(model_field, models.FloatField):
        return "float"
    if isinstance(model_field, models.DateTimeField):
        return "datetime"
    if isinstance(model_field, models.DateField):
        return "date"
    return "text"


def _english(text: Any, fallback: str) -> str:
    with translation.override("en"):
        english = str(text)
    return english if english != str(text) else fallback.replace("_", " ")


def field_specs(
    entity: str, definitions: Iterable[FieldDefinition] | None = None
) -> list[FieldSpec]:
    """Built-in fields the entity's service accepts, then active custom fields."""
    model = model_for(entity)
    specs: list[FieldSpec] = []
    for name in SERVICE_FIELDS[entity]:
        model_field = model._meta.get_field(name)
        required = not (model_field.blank or model_field.has_default() or model_field.null)
        if name == "owner":
            required = False
        if name == "stage":
            required = False  # a new deal starts in the first open stage
        spec = FieldSpec(
            key=name,
            label=str(model_field.verbose_name),
            label_en=_english(model_field.verbose_name, name),
            kind=_kind_of(model_field),
            required=required,
            max_length=getattr(model_field, "max_length", None),
        )
        if spec.kind == "choice":
            spec.choices = [(str(v), str(label)) for v, label in model_field.choices]
        specs.append(spec)
    for definition in definitions if definitions is not None else definitions_for(entity):
        specs.append(
            FieldSpec(
                key=f"custom.{definition.key}",
                label=definition.label,
                label_en=definition.label_en or definition.key,
                kind=definition.field_type,
                required=definition.required,
                choices=[
                    (str(o["value"]), str(o.get("label") or o["value"])) for o in definition.options
                ],
                definition=definition,
                max_length=definition.max_length,
            )
        )
    return specs


def _alias_index(entity: str, specs: list[FieldSpec]) -> dict[str, str]:
    keys = {s.key for s in specs}
    index: dict[str, str] = {}
    for source in (ENTITY_ALIASES.get(entity, {}), COMMON_ALIASES):
        for target, aliases in source.items():
            if target not in keys:
                continue
            for alias in aliases:
                index.setdefault(normalise_header(alias), target)
    return index


def match_header(header: object, specs: list[FieldSpec], entity: str) -> str:
    """The field key a header means, or "" when nothing fits."""
    text = normalise_header(header)
    if not text:
        return ""
    for spec in specs:
        if text in spec.names():
            return spec.key
    return _alias_index(entity, specs).get(text, "")


def auto_map(
    headers: list[object], specs: list[FieldSpec], entity: str, saved: dict[str, str] | None = None
) -> dict[int, str]:
    """Column index → field key; each field is taken by the first column that claims it.

    `saved` is a saved mapping (header text → field key) which wins over guessing."""
    valid = {s.key for s in specs}
    saved_norm = {normalise_header(h): k for h, k in (saved or {}).items() if k in valid}
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        key = saved_norm.get(normalise_header(header)) or match_header(header, specs, entity)
        if key and key not in used:
            mapping[index] = key
            used.add(key)
    return mapping


def header_score(cells: list[object], specs: list[FieldSpec], entity: str) -> int:
    return sum(1 for c in cells if match_header(c, specs, entity))


def missing_required(mapping: dict[int, str], specs: list[FieldSpec]) -> list[FieldSpec]:
    mapped = set(mapping.values())
    return [s for s in specs if s.required and s.key not in mapped]


def select_kinds() -> tuple[str, ...]:
    return (FieldType.SELECT, FieldType.MULTISELECT, "choice")


def unknown_mapping_keys(mapping: dict[int, str], specs: list[FieldSpec]) -> list[str]:
    valid = {s.key for s in specs}
    return [k for k in mapping.values() if k not in valid]


def describe(spec: FieldSpec) -> str:
    """The label shown in the mapping drop-down: 手机 (mobile)."""
    suffix = _("必填") if spec.required else ""
    return f"{spec.label}{' *' if suffix else ''}"
