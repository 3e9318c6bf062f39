"""The create/edit page every entity uses: form → service → redirect, or the form again with
field-level errors (the service's ValidationError mapped back onto the fields)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jiepai.core.records import update_record
from jiepai.customfields.forms import (
    add_custom_fields,
    apply_service_errors,
    built_in_values,
    custom_uploads,
    custom_values,
)
from jiepai.files.services import attach_file

Save = Callable[[dict[str, Any], dict[str, Any]], Model]


def edit_page(
    request: HttpRequest,
    *,
    form_class: type[forms.ModelForm],
    entity: str,
    save: Save,
    title: str,
    instance: Model | None = None,
    cancel_url: str = "",
    template: str = "core/form_page.html",
    form_kwargs: dict[str, Any] | None = None,
    extra_context: dict[str, Any] | None = None,
) -> HttpResponse:
    # The form never touches `instance`: it is bound to a throwaway model instance and only
    # shapes input; the service compares before → after on the real record for the trace.
    initial = model_to_dict(instance, fields=list(form_class.base_fields)) if instance else {}
    initial.update((form_kwargs or {}).pop("initial", {}) if form_kwargs else {})
    form = form_class(
        request.POST or None, request.FILES or None, initial=initial, **(form_kwargs or {})
    )
    add_custom_fields(form, entity, instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_with_files(request, form, save)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("已保存"))
            return redirect(saved.get_absolute_url())  # type: ignore[attr-defined]
    context = {"form": form, "title": title, "cancel_url": cancel_url, "instance": instance}
    return render(
        request, template, {**context, **(extra_context or {})}, status=400 if form.errors else 200
    )


# Stands in for a required custom file field until its upload, attached to the just-created
# record in the same transaction, replaces it with the attachment's id.
PENDING_FILE = -1


def _save_with_files(request: HttpRequest, form: forms.BaseForm, save: Save) -> Model:
    uploads = custom_uploads(form)
    with transaction.atomic():
        saved = save(
            built_in_values(form), {**custom_values(form), **dict.fromkeys(uploads, PENDING_FILE)}
        )
        if uploads:
            ids = {
                key: attach_file(
                    record=saved, upload=upload, actor=request.user, field=f"custom.{key}"
                ).pk
                for key, upload in uploads.items()
            }
            update_record(saved, actor=request.user, values={}, custom=ids)
    return saved


def keep_owner(values: dict[str, Any], instance: Model) -> dict[str, Any]:
    """A form without an owner choice (a rep's) leaves the record's owner as it is."""
    if values.get("owner") is None:
        return {k: v for k, v in values.items() if k != "owner"}
    return values
