"""Admin screens for the follow-up configuration rows (what is required, conclusions, the action
vocabulary, pain points, the phrase map, closure rules, visit thresholds) and for inspection."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from jiepai.activities.models import (
    Activity,
    ActivitySettings,
    ClosureCheck,
    ClosureRule,
    ConclusionChoice,
    FollowUpRequirement,
    NextActionKind,
    PainPointKeyword,
    PhraseMeaning,
    Task,
    Visit,
    VisitFlag,
)


@admin.register(FollowUpRequirement)
class FollowUpRequirementAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "requires_contact",
        "requires_contact_role",
        "requires_conclusion",
        "requires_next_action",
        "requires_next_action_due",
    ]
    list_editable = list_display[1:]


@admin.register(ConclusionChoice)
class ConclusionChoiceAdmin(admin.ModelAdmin):
    list_display = ["label", "position", "active"]
    list_editable = ["position", "active"]


@admin.register(NextActionKind)
class NextActionKindAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "generic", "position", "active"]
    list_editable = ["position", "active"]
    search_fields = ["label", "code"]


@admin.register(PainPointKeyword)
class PainPointKeywordAdmin(admin.ModelAdmin):
    list_display = ["label", "triggers", "active"]
    list_editable = ["active"]


@admin.register(PhraseMeaning)
class PhraseMeaningAdmin(admin.ModelAdmin):
    list_display = ["meaning", "triggers", "task_title", "task_kind", "active"]
    list_editable = ["active"]


@admin.register(ClosureRule)
class ClosureRuleAdmin(admin.ModelAdmin):
    list_display = ["action_kind", "evidence_kinds", "grace_days", "active"]


@admin.register(ActivitySettings)
class ActivitySettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:  # one row (pk 1)
        return not ActivitySettings.objects.exists()


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "owner", "account", "lead", "next_action", "source"]
    list_filter = ["kind", "source"]
    raw_id_fields = ["owner", "account", "lead", "opportunity", "contact", "audio"]
    date_hierarchy = "occurred_at"


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "owner", "due_at", "done_at", "remind_at"]
    list_filter = ["kind"]
    raw_id_fields = ["owner", "account", "lead", "opportunity", "activity"]


@admin.register(ClosureCheck)
class ClosureCheckAdmin(admin.ModelAdmin):
    list_display = ["task", "owner", "action_kind", "check_at", "result"]
    list_filter = ["result"]
    raw_id_fields = ["task", "owner", "opportunity", "account"]


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["started_at", "owner", "account", "lead", "start_geo_status", "ended_at"]
    list_filter = ["start_geo_status"]
    raw_id_fields = ["owner", "account", "lead", "opportunity", "activity"]


@admin.register(VisitFlag)
class VisitFlagAdmin(admin.ModelAdmin):
    list_display = ["created_at", "rep", "kind", "status", "message"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["rep", "visit", "reviewed_by"]

    @admin.display(description=_("说明"))
    def message(self, flag: VisitFlag) -> str:
        return flag.message
