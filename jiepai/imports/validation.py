"""Validating the rows of one import: jiepai.core.records.build_record, with what does not change
from row to row worked out once.

build_record runs Model.full_clean on every row. Of a lead's ~35 fields a row sets about a
dozen; the others keep their defaults, and many values repeat (a province, a state, a city).
`RecordBuilder.build` gives the instance and the errors build_record gives — the same values
set the same way, every field full_clean would check checked by the field's own `clean`, the
model's clean() and constraints run when it has any, custom fields through
customfields.clean_custom_values — but a field's clean is run once per distinct value, not once
per row. A test compares the two on valid and invalid rows.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import signals
from django.db.models.base import ModelState

from jiepai.core.entities import entity_of
from jiepai.customfields.models import FieldDefinition
from jiepai.customfields.services import clean_custom_values

#: what build_record never checks with full_clean (owner is set by the services, custom below)
NOT_CHECKED = ("owner", "shared_with", "teams", "custom")
#: values whose check depends on the value alone, so its outcome can be kept
_CACHEABLE = (str, int, float, bool, Decimal, datetime.date, type(None))
#: distinct values remembered per field (unique columns such as names would fill memory)
_PER_FIELD = 5000

_Outcome = tuple[bool, Any]  # (valid, cleaned value or the error list)


class RecordBuilder:
    def __init__(
        self, model: type[models.Model], *, definitions: list[FieldDefinition] | None
    ) -> None:
        self.model = model
        self.definitions = definitions
        meta = model._meta
        self.fields = [f for f in meta.fields if f.name not in NOT_CHECKED and not f.generated]
        self.by_name = {f.name: f for f in meta.concrete_fields}
        self.text_fields = {
            f.name
            for f in meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
        }
        # Text a field takes as it is: a str within max_length is all such a field's clean
        # checks (no choices, no validator but the length), so it needs no call per row.
        self.plain_text = {
            f.name: f.validators[0].limit_value if f.validators else 0
            for f in self.fields
            if isinstance(f, models.CharField | models.TextField)
            and not f.choices
            and f.editable
            and len(f.validators) <= 1
            and all(type(v) is MaxLengthValidator for v in f.validators)
        }
        self.has_clean = model.clean is not models.Model.clean
        self.has_constraints = any(constraints for _m, constraints in model().get_constraints())
        self.entity = entity_of(model())
        # A new instance is a copy of one made here (Model() works out ~35 defaults and sets
        # them one by one); defaults made by a callable (dict, list, now) are made again per
        # row, as Model() does. Models that listen to init signals are made the usual way.
        blank = model()
        self._template = {k: v for k, v in blank.__dict__.items() if k != "_state"}
        self._fresh = [
            (f.attname, f.get_default)
            for f in meta.concrete_fields
            if f.has_default() and callable(f.default)
        ]
        self._copyable = not (
            signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)
        )
        self._custom_seen: dict[tuple[tuple[str, type, Any], ...], tuple[dict, dict]] = {}
        self._checked: dict[tuple[str, ...], list[models.Field]] = {}  # by trusted names
        self._seen: dict[str, dict[tuple[type, Any], _Outcome]] = {f.name: {} for f in self.fields}

    def build(
        self, *, values: dict[str, Any], custom: dict[str, Any], trusted: tuple[str, ...]
    ) -> models.Model:
        """The validated, unsaved instance build_record(model, values=, custom=, definitions=,
        trusted=) returns; raises the ValidationError it raises."""
        instance = self._new()
        self._apply(instance, values)
        errors: dict[str, list[str]] = {}
        checked = self._checked.get(trusted)
        if checked is None:
            checked = self._checked[trusted] = [f for f in self.fields if f.name not in trusted]
        field_errors = self._clean_fields(instance, checked)
        if self.has_clean or self.has_constraints:
            field_errors = self._clean_model(instance, field_errors, set(trusted))
        if field_errors:
            errors.update(ValidationError(field_errors).message_dict)
        cleaned, custom_errors = self._clean_custom(custom or {})
        for key, message in custom_errors.items():
            errors.setdefault(f"custom.{key}", []).append(message)
        instance.custom = cleaned  # type: ignore[attr-defined]
        if errors:
            raise ValidationError(errors)
        return instance

    def _clean_custom(self, custom: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """customfields.clean_custom_values(custom) for a new record. Custom columns hold few
        distinct combinations (an industry, a date), so the outcome of each is kept when it
        is made of plain values only (a row gets its own copy of the dict)."""
        # typed: 1, 1.0 and True are equal but are not the same input
        key: tuple[tuple[str, type, Any], ...] | None = tuple(
            (k, type(v), v) for k, v in custom.items()
        )
        if any(kind not in _CACHEABLE for _k, kind, _v in key):
            key = None
        if key is not None and key in self._custom_seen:
            cleaned, errors = self._custom_seen[key]
            return dict(cleaned), errors
        cleaned, errors = clean_custom_values(
            self.entity, custom, existing={}, partial=False, definitions=self.definitions
        )
        plain = all(type(v) in _CACHEABLE for v in cleaned.values())
        if key is not None and plain and len(self._custom_seen) < _PER_FIELD:
            self._custom_seen[key] = (dict(cleaned), errors)
        return cleaned, errors

    def _new(self) -> models.Model:
        if not self._copyable:
            return self.model()
        instance = self.model.__new__(self.model)
        instance._state = ModelState()
        state = instance.__dict__
        state.update(self._template)
        for attname, make in self._fresh:
            state[attname] = make()
        return instance

    def _apply(self, instance: models.Model, values: dict[str, Any]) -> None:
        # as core.records._apply: text is stripped, a related id goes to the attname
        state = instance.__dict__
        for name, value in values.items():
            if name in self.text_fields:
                state[name] = value.strip() if isinstance(value, str) else value
                continue
            field = self.by_name.get(name) or instance._meta.get_field(name)
            if not field.is_relation and not isinstance(field, models.FileField):
                state[name] = value  # what setattr does for a plain concrete field
                continue
            setattr(instance, name if isinstance(value, models.Model) else field.attname, value)

    def _clean_fields(self, instance: models.Model, checked: list[models.Field]) -> dict[str, Any]:
        """Model.clean_fields(exclude=NOT_CHECKED + trusted) over the `checked` fields (those
        not excluded, in the model's order), each outcome kept per value."""
        errors: dict[str, Any] = {}
        state = instance.__dict__
        for field in checked:
            raw = (
                state[field.attname] if field.attname in state else getattr(instance, field.attname)
            )
            if field.blank and raw in field.empty_values:
                continue
            limit = self.plain_text.get(field.name)
            if limit is not None and type(raw) is str and raw and (not limit or len(raw) <= limit):
                continue  # what field.clean(raw) returns: raw itself
            seen = self._seen[field.name]
            # keyed by type too: 1, 1.0 and True are equal keys but not equal values here
            key = (type(raw), raw) if type(raw) in _CACHEABLE else None
            outcome = seen.get(key) if key is not None else None
            if outcome is None:
                try:
                    outcome = (True, field.clean(raw, instance))
                except ValidationError as exc:
                    outcome = (False, exc.error_list)
                if key is not None and len(seen) < _PER_FIELD:
                    seen[key] = outcome
            valid, result = outcome
            if valid:
                if result is not raw:
                    setattr(instance, field.attname, result)
            else:
                errors[field.name] = result
        return errors

    def _clean_model(
        self, instance: models.Model, errors: dict[str, Any], trusted: set[str]
    ) -> dict[str, Any]:
        """The rest of Model.full_clean(validate_unique=False): clean(), then the constraints
        on the fields that passed."""
        found = ValidationError(errors).update_error_dict({}) if errors else {}
        try:
            instance.clean()
        except ValidationError as exc:
            found = exc.update_error_dict(found)
        exclude = {*NOT_CHECKED, *trusted}
        exclude.update(name for name in found if name != NON_FIELD_ERRORS)
        try:
            instance.validate_constraints(exclude=exclude)
        except ValidationError as exc:
            found = exc.update_error_dict(found)
        return found
