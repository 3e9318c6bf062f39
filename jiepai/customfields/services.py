"""Validating and storing custom-field values by their definitions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.customfields.models import FieldDefinition, FieldType, UniqueValue
from jiepai.events.services import record_event
from jiepai.lib.values import parse_date, parse_datetime, parse_decimal


def definitions_for(entity: str) -> list[FieldDefinition]:
    return list(FieldDefinition.objects.filter(entity=entity, active=True))


def _match_option(definition: FieldDefinition, raw: Any) -> str:
    text = str(raw).strip()
    for option in definition.options:
        names = [str(option["value"]), str(option.get("label", ""))]
        names += [str(s) for s in option.get("synonyms", [])]
        if text in names or text.lower() in (n.lower() for n in names):
            return str(option["value"])
    allowed = "、".join(str(o.get("label") or o["value"]) for o in definition.options)
    raise ValueError(
        _("“%(value)s”不是可选项;可选:%(allowed)s") % {"value": text, "allowed": allowed}
    )


def clean_value(definition: FieldDefinition, raw: Any) -> Any:
    """One value → its stored JSON form, or ValueError with a message for the user."""
    kind = definition.field_type
    if kind == FieldType.TEXT:
        text = str(raw).strip()
        if len(text) > definition.max_length:
            raise ValueError(_("不能超过 %(n)d 个字符") % {"n": definition.max_length})
        return text
    if kind in (FieldType.NUMBER, FieldType.MONEY):
        try:
            number = parse_decimal(raw)
        except ValueError as exc:
            raise ValueError(_("“%(value)s”不是数字") % {"value": raw}) from exc
        if abs(number) >= 10**15:
            raise ValueError(_("数值太大"))
        if kind == FieldType.MONEY:
            return str(number.quantize(Decimal("0.01")))
        return str(number.normalize()) if number != number.to_integral() else str(int(number))
    if kind == FieldType.DATE:
        try:
            return parse_date(raw).isoformat()
        except ValueError as exc:
            raise ValueError(_("“%(value)s”不是有效日期") % {"value": raw}) from exc
    if kind == FieldType.DATETIME:
        try:
            moment = parse_datetime(raw)
        except ValueError as exc:
            raise ValueError(_("“%(value)s”不是有效的日期时间") % {"value": raw}) from exc
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.isoformat()
    if kind == FieldType.SELECT:
        return _match_option(definition, raw)
    if kind == FieldType.MULTISELECT:
        items = (
            raw
            if isinstance(raw, list | tuple)
            else str(raw).replace(",", ",").replace("、", ",").split(",")
        )
        return [_match_option(definition, item) for item in items if str(item).strip()]
    if kind in (FieldType.FILE, FieldType.USER):
        try:
            return int(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(_("“%(value)s”不是有效编号") % {"value": raw}) from exc
    raise ValueError(_("未知字段类型"))


def _is_empty(raw: Any) -> bool:
    return (
        raw is None
        or (isinstance(raw, str | list | tuple) and len(raw) == 0)
        or (isinstance(raw, str) and not raw.strip())
    )


def clean_custom_values(
    entity: str,
    raw: dict[str, Any],
    *,
    existing: dict[str, Any] | None = None,
    partial: bool = False,
    definitions: list[FieldDefinition] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate `raw` against the entity's definitions.

    Returns (values to store, errors by field key). With `partial`, keys absent from `raw` keep
    their existing value and are not checked for `required`. Unknown keys are an error.
    `definitions` lets a bulk writer (imports) load the definitions once for many records.
    """
    definitions_by_key = {
        d.key: d for d in (definitions if definitions is not None else definitions_for(entity))
    }
    values = dict(existing or {})
    errors: dict[str, str] = {}
    for key in raw:
        if key not in definitions_by_key:
            errors[key] = _("没有这个自定义字段")
    for key, definition in definitions_by_key.items():
        if key not in raw:
            if not partial and definition.required and _is_empty(values.get(key)):
                errors[key] = _("%(label)s为必填项") % {"label": definition.label}
            continue
        if _is_empty(raw[key]):
            if definition.required:
                errors[key] = _("%(label)s为必填项") % {"label": definition.label}
            values.pop(key, None)
            continue
        try:
            values[key] = clean_value(definition, raw[key])
        except ValueError as exc:
            errors[key] = f"{definition.label}:{exc}"
    return values, errors


def sync_unique_values(entity: str, object_id: int, values: dict[str, Any]) -> None:
    """Keep the UniqueValue guard rows in step; a clash raises ValidationError naming the field.

    Call inside the transaction that saves the record: the unique constraint decides who wins
    when two requests store the same value at once.
    """
    for definition in FieldDefinition.objects.filter(entity=entity, unique=True, active=True):
        UniqueValue.objects.filter(definition=definition, object_id=object_id).delete()
        value = values.get(definition.key)
        if _is_empty(value):
            continue
        key = str(value).strip().lower()[:255]
        try:
            with transaction.atomic():
                UniqueValue.objects.create(
                    definition=definition, value_key=key, object_id=object_id
                )
        except IntegrityError as exc:
            raise ValidationError(
                {
                    definition.key: _("%(label)s“%(value)s”已被其他记录使用")
                    % {"label": definition.label, "value": value}
                }
            ) from exc


def check_definition_change(
    definition: FieldDefinition, records: list[dict[str, Any]]
) -> list[str]:
    """Reasons a changed definition would invalidate stored values (empty list: safe to save).

    `records` are the existing `custom` dicts of the entity.
    """
    problems: list[str] = []
    seen: set[str] = set()
    missing = 0
    for custom in records:
        value = custom.get(definition.key)
        if _is_empty(value):
            missing += 1
            continue
        try:
            cleaned = clean_value(definition, value)
        except ValueError as exc:
            problems.append(
                _("已有值“%(value)s”将不再有效:%(reason)s") % {"value": value, "reason": exc}
            )
            continue
        if definition.unique:
            key = str(cleaned).strip().lower()
            if key in seen:
                problems.append(_("已有重复值“%(value)s”,不能设为唯一") % {"value": value})
            seen.add(key)
    if definition.required and missing:
        problems.append(_("%(n)d 条已有记录没有填写该字段,不能设为必填") % {"n": missing})
    return problems[:20]


def display_values(entity: str, values: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, shown value) of a record's filled custom fields, option values as their labels."""
    shown = []
    for definition in definitions_for(entity):
        value = values.get(definition.key)
        if _is_empty(value):
            continue
        labels = {str(o["value"]): o.get("label") or o["value"] for o in definition.options}
        if definition.field_type == FieldType.FILE:
            from jiepai.files.models import Attachment

            value = Attachment.objects.filter(pk=value).first() or value
        if isinstance(value, list):
            value = "、".join(str(labels.get(str(v), v)) for v in value)
        elif labels:
            value = labels.get(str(value), value)
        shown.append((definition.label, value))
    return shown


def add_option(
    definition: FieldDefinition, *, value: str, synonym_of: str = "", actor: Any = None
) -> FieldDefinition:
    """Add `value` as a new option of a select field, or as a synonym of the option whose value
    is `synonym_of` (an import's unmatched value, added in one click). Adding twice is a no-op."""
    value = str(value).strip()[:100]
    if not value:
        raise ValueError(_("选项不能为空"))
    with transaction.atomic():
        # Lock the definition row: two admins adding options at once must not overwrite each
        # other's read-modify-write of the options list.
        definition = FieldDefinition.objects.select_for_update().get(pk=definition.pk)
        try:
            _match_option(definition, value)
            return definition  # already an option or synonym
        except ValueError:
            pass
        options = [dict(o) for o in definition.options]
        if synonym_of:
            target = next((o for o in options if str(o["value"]) == synonym_of), None)
            if target is None:
                raise ValueError(_("没有这个选项"))
            target["synonyms"] = [*target.get("synonyms", []), value]
        else:
            options.append({"value": value, "label": value, "synonyms": []})
        definition.options = options
        definition.save(update_fields=["options", "updated_at"])
        record_event(
            subject_type="customfield",
            subject_id=definition.pk,
            verb="customfield.option_added",
            actor=actor,
            after={"value": value, "synonym_of": synonym_of},
        )
    return definition
