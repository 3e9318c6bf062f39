from __future__ import annotations

from django.contrib import admin

from jiepai.dedup.models import DedupPolicy, DuplicateFlag, MergeRecord, ReportSchedule


@admin.register(DedupPolicy)
class DedupPolicyAdmin(admin.ModelAdmin):
    list_display = ["entity", "policy", "show_threshold", "act_threshold", "scan_threshold"]


@admin.register(MergeRecord)
class MergeRecordAdmin(admin.ModelAdmin):
    list_display = ["entity", "survivor_id", "merged_ids", "actor", "created_at", "undone_at"]
    readonly_fields = [f.name for f in MergeRecord._meta.fields]


@admin.register(DuplicateFlag)
class DuplicateFlagAdmin(admin.ModelAdmin):
    list_display = ["entity", "object_id", "candidate_id", "confidence", "status", "created_at"]
    list_filter = ["entity", "status"]


@admin.register(ReportSchedule)
class ReportScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "next_run_at", "last_run_at"]
