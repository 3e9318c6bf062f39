"""Pipelines, stages and their gates are configuration an admin edits here (no code).

Opportunities are not edited in the admin: their stage changes only through the gated move.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from jiepai.activities.models import ActivityKind
from jiepai.customers.models import ContactRole
from jiepai.files.models import DocumentKind
from jiepai.pipeline.gates import BUILTIN_FIELDS, CONDITION_NAMES, describe
from jiepai.pipeline.models import GateRequirement, Pipeline, Stage


def _blank(choices: Any, label: str) -> list[tuple[str, str]]:
    return [("", label), *[(c.value, c.label) for c in choices]]


class GateRequirementForm(forms.ModelForm):
    """Pickers for the kind-specific parameters; the model's clean() validates the whole row
    (known field, numeric range, a condition that parses) before it is saved."""

    attachment_kind = forms.ChoiceField(
        label=_("文件类型"), required=False, choices=_blank(DocumentKind, "—")
    )
    contact_role = forms.ChoiceField(
        label=_("联系人角色"), required=False, choices=_blank(ContactRole, "—")
    )
    activity_kind = forms.ChoiceField(
        label=_("跟进方式"), required=False, choices=_blank(ActivityKind, _("任意方式"))
    )

    class Meta:
        model = GateRequirement
        fields = [
            "stage",
            "label",
            "kind",
            "any_of",
            "field_name",
            "min_value",
            "max_value",
            "attachment_kind",
            "contact_role",
            "activity_kind",
            "activity_conclusion",
            "expression",
            "help_text",
            "position",
            "active",
        ]
        widgets = {"expression": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "field_name": _("内置字段:%(names)s;自定义字段写 custom.字段键")
            % {"names": "、".join(BUILTIN_FIELDS)},
            "expression": _("可用名称:%(names)s")
            % {"names": ";".join(f"{k}({v})" for k, v in CONDITION_NAMES.items())},
        }


class GateRequirementInline(admin.TabularInline):
    model = GateRequirement
    form = GateRequirementForm
    extra = 0
    fields = [
        "label",
        "kind",
        "any_of",
        "field_name",
        "min_value",
        "max_value",
        "attachment_kind",
        "contact_role",
        "activity_kind",
        "activity_conclusion",
        "expression",
        "position",
        "active",
    ]


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["name", "position", "probability", "is_won", "is_lost", "stall_hours", "description"]
    show_change_link = True


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "gates_cumulative")
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ("name", "pipeline", "position", "probability", "stall_hours", "gate")
    list_filter = ("pipeline",)
    ordering = ("pipeline", "position")
    inlines = [GateRequirementInline]

    @admin.display(description=_("门槛"))
    def gate(self, obj: Stage) -> str:
        return "、".join(r.label for r in obj.requirements.filter(active=True)) or "—"


@admin.register(GateRequirement)
class GateRequirementAdmin(admin.ModelAdmin):
    form = GateRequirementForm
    list_display = ("label", "stage", "kind", "any_of", "what", "active")
    list_filter = ("stage__pipeline", "stage", "kind", "active")

    @admin.display(description=_("要求"))
    def what(self, obj: GateRequirement) -> str:
        return describe(obj)
