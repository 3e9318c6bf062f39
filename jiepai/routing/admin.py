from __future__ import annotations

from django.contrib import admin

from jiepai.routing.models import Assignment, OfferRound, RoutingPolicy, RoutingRule


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0
    fields = ("priority", "name", "condition", "active")


@admin.register(RoutingPolicy)
class RoutingPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "key",
        "kind",
        "is_default",
        "skip_offline",
        "offer_count",
        "claim_minutes",
        "max_reassignments",
        "active",
    )
    list_filter = ("kind", "active")
    filter_horizontal = ("departments", "reps")
    search_fields = ("name", "key")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("priority", "name", "condition", "policy", "active")
    list_display_links = ("name",)
    list_filter = ("active", "policy")


@admin.register(OfferRound)
class OfferRoundAdmin(admin.ModelAdmin):
    list_display = ("lead", "policy", "state", "offered_at", "closes_at", "winner")
    list_filter = ("state",)
    raw_id_fields = ("lead", "winner")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # routing state changes only through the services


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = (
        "lead",
        "rep",
        "method",
        "assigned_at",
        "contacted_at",
        "ended_at",
        "end_reason",
    )
    list_filter = ("method", "end_reason")
    raw_id_fields = ("lead", "rep")

    def has_change_permission(self, request, obj=None) -> bool:
        return False
