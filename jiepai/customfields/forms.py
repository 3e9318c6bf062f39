"""Custom fields on Django forms: added as `custom__<key>` fields, handed to services as a dict.

The form only shapes the input (widgets, choices); validation is the services' one code path
(jiepai.customfields.services.clean_custom_values), whose errors come back onto these fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Model

from jiepai.customfields.models import FieldDefinition, FieldType
from jiepai.customfields.services import definitions_for
from jiepai.org.models import User

PREFIX = "custom__"


def _form_field(definition: FieldDefinition) -> forms.Field:
    common: dict[str, Any] = {
        "label": definition.label,
        "required": False,  # required-ness is checked by the service, with the same message
        "help_text": definition.help_text,
    }
    kind = definition.field_type
    choices = [(o["value"], o.get("label") or o["value"]) for o in definition.options]
    if kind == FieldType.SELECT:
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if kind == FieldType.MULTISELECT:
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.DATETIME:
        return forms.CharField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common
        )
    if kind in (FieldType.NUMBER, FieldType.MONEY):
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == FieldType.USER:
        return forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), **common)
    if kind == FieldType.FILE:
        return forms.FileField(**common)
    return forms.CharField(max_length=definition.max_length, **common)


def add_custom_fields(form: forms.BaseForm, entity: str, instance: Model | None = None) -> None:
    values = getattr(instance, "custom", None) or {}
    for definition in definitions_for(entity):
        name = PREFIX + definition.key
        form.fields[name] = _form_field(definition)
        if definition.key in values and definition.field_type != FieldType.FILE:
            form.initial[name] = values[definition.key]


def custom_values(form: forms.BaseForm) -> dict[str, Any]:
    """Custom values to hand to a service; uploads are left to `custom_uploads`."""
    values: dict[str, Any] = {}
    for name, value in form.cleaned_data.items():
        if name.startswith(PREFIX) and not isinstance(form.fields[name], forms.FileField):
            values[name[len(PREFIX) :]] = value.pk if isinstance(value, User) else value
    return values


def built_in_values(form: forms.BaseForm) -> dict[str, Any]:
    return {k: v for k, v in form.cleaned_data.items() if not k.startswith(PREFIX)}


def apply_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError onto the form's fields ("custom.key" → custom__key)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, messages in error.message_dict.items():
        name = PREFIX + key[len("custom.") :] if key.startswith("custom.") else key
        if name not in form.fields:
            name = None
        for message in messages:
            form.add_error(name, message)


def custom_uploads(form: forms.BaseForm) -> dict[str, Any]:
    """Files chosen for custom file fields: {key: UploadedFile}."""
    return {
        name[len(PREFIX) :]: value
        for name, value in form.cleaned_data.items()
        if name.startswith(PREFIX) and isinstance(value, UploadedFile)
    }
