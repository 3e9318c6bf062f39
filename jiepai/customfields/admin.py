from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _

from jiepai.core.entities import model_for
from jiepai.customfields.models import FieldDefinition
from jiepai.customfields.services import check_definition_change


class FieldDefinitionForm(forms.ModelForm):
    class Meta:
        model = FieldDefinition
        fields = [
            "entity",
            "key",
            "label",
            "label_en",
            "field_type",
            "options",
            "required",
            "unique",
            "max_length",
            "help_text",
            "position",
            "show_in_list",
            "active",
        ]

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if self.instance.pk and "key" in self.changed_data:
            raise forms.ValidationError({"key": _("字段键保存后不可修改,已有数据按它存储")})
        definition = FieldDefinition(
            **{
                k: v
                for k, v in cleaned.items()
                if k in {f.name for f in FieldDefinition._meta.fields}
            }
        )
        records = model_for(definition.entity)._default_manager.values_list("custom", flat=True)
        problems = check_definition_change(definition, list(records.iterator()))
        if problems:
            raise forms.ValidationError(problems)
        return cleaned


@admin.register(FieldDefinition)
class FieldDefinitionAdmin(admin.ModelAdmin):
    form = FieldDefinitionForm
    list_display = (
        "label",
        "entity",
        "key",
        "field_type",
        "required",
        "unique",
        "active",
        "position",
    )
    list_filter = ("entity", "field_type", "active")
    list_editable = ("position",)
