"""Saving a record the one way: validate built-in and custom fields, write it, write its Event.

Entity services (customers.services, intake.services, pipeline.services) call these with the
fields they allow to be set; views, the API and imports call those services.
"""

from __future__ import annotations

import datetime
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from jiepai.core.entities import entity_of
from jiepai.customfields.models import FieldDefinition
from jiepai.customfields.services import clean_custom_values, sync_unique_values
from jiepai.events.services import diff, record_event, snapshot

R = TypeVar("R", bound=models.Model)


def _apply(instance: models.Model, values: dict[str, Any]) -> None:
    for name, value in values.items():
        field = instance._meta.get_field(name)
        if isinstance(value, str) and isinstance(field, models.CharField | models.TextField):
            value = value.strip()
        setattr(
            instance,
            field.attname if field.is_relation and not isinstance(value, models.Model) else name,
            value,
        )


def _validate(
    instance: models.Model,
    entity: str,
    custom: dict[str, Any] | None,
    partial: bool,
    definitions: list[FieldDefinition] | None = None,
    trusted: tuple[str, ...] = (),
) -> None:
    errors: dict[str, list[str]] = {}
    try:
        instance.full_clean(
            exclude=["owner", "shared_with", "teams", "custom", *trusted], validate_unique=False
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if custom is not None or not partial:
        values, custom_errors = clean_custom_values(
            entity,
            custom or {},
            existing=getattr(instance, "custom", {}) or {},
            partial=partial,
            definitions=definitions,
        )
        for key, message in custom_errors.items():
            errors.setdefault(f"custom.{key}", []).append(message)
        instance.custom = values  # type: ignore[attr-defined]
    if errors:
        raise ValidationError(errors)


def build_record(
    model: type[R],
    *,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    definitions: list[FieldDefinition] | None = None,
    trusted: tuple[str, ...] = (),
) -> R:
    """The validated, unsaved instance create_record would insert; raises ValidationError.

    For bulk writers (imports) that insert many of these at once and write the same Event.
    `trusted` names foreign keys the caller has already resolved to existing rows, so they are
    not looked up again (one query per row and field otherwise).
    """
    instance = model()
    _apply(instance, values)
    _validate(
        instance,
        entity_of(instance),
        custom,
        partial=False,
        definitions=definitions,
        trusted=trusted,
    )
    return instance


def settable(values: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """`values` unchanged if every key is one the entity service lets callers set."""
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"fields not settable here: {sorted(unknown)}")
    return values


def create_record(
    model: type[R],
    *,
    actor: Any,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
    event_data: dict[str, Any] | None = None,
) -> R:
    """Validate and insert; raises ValidationError with messages per field (custom as custom.key)."""
    instance = model()
    _apply(instance, values)
    entity = entity_of(instance)
    _validate(instance, entity, custom, partial=False)
    with transaction.atomic():
        instance.save()
        sync_unique_values(entity, instance.pk, getattr(instance, "custom", {}))
        fields = [*values.keys()]
        record_event(
            subject=instance,
            verb=f"{entity}.created",
            actor=actor,
            after={
                **snapshot(instance, fields),
                **({"custom": instance.custom} if getattr(instance, "custom", None) else {}),
            },
            data=event_data,
            now=now or timezone.now(),
        )
    return instance


def update_record(
    instance: R,
    *,
    actor: Any,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
    verb: str | None = None,
) -> R:
    """Validate and save changed fields; the Event holds only what changed (before → after)."""
    entity = entity_of(instance)
    fields = list(values.keys())
    before = snapshot(instance, fields)
    before_custom = dict(getattr(instance, "custom", {}) or {})
    _apply(instance, values)
    _validate(instance, entity, custom, partial=True)
    after = snapshot(instance, fields)
    changed_before, changed_after = diff(before, after)
    after_custom = dict(getattr(instance, "custom", {}) or {})
    if before_custom != after_custom:
        changed_before["custom"], changed_after["custom"] = diff(before_custom, after_custom)
    if not changed_after:
        return instance
    with transaction.atomic():
        instance.save()
        if "custom" in changed_after:
            sync_unique_values(entity, instance.pk, after_custom)
        record_event(
            subject=instance,
            verb=verb or f"{entity}.updated",
            actor=actor,
            before=changed_before,
            after=changed_after,
            now=now or timezone.now(),
        )
    return instance
