"""Admin for the intake configuration (channels, tag rules, intent weights) and its bookkeeping
(behaviour events, idempotency keys, rejected payloads: read-only here; the rejected inbox page
is where payloads are fixed and replayed)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from jiepai.events.services import record_event
from jiepai.intake.conditions import CONDITION_NAMES
from jiepai.intake.models import (
    KIND_DEFAULTS,
    BehaviourEvent,
    Channel,
    IdempotencyKey,
    IntentConfig,
    RejectedIntake,
    TagRule,
    new_intake_key,
)


class TagRuleInline(admin.TabularInline):
    model = TagRule
    extra = 0
    fields = ["name", "condition", "tag_name", "active", "position"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "kind",
        "weight",
        "response_window_minutes",
        "routing_policy",
        "rate_limit_per_minute",
        "public_form_enabled",
        "active",
    ]
    list_filter = ["kind", "active", "public_form_enabled"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [TagRuleInline]
    actions = ["rotate_keys"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "active"]}),
        (
            _("分配"),
            {
                "fields": [
                    "weight",
                    "response_window_minutes",
                    "routing_policy",
                    "required_fields",
                    "nurture_low_intent",
                ],
                "description": _(
                    "新建时权重与响应时限未修改则按类型取默认值(官网表单 1.0/15 分钟,电话 0.9,展会 0.8,其余 4 小时)"
                ),
            },
        ),
        (_("接入"), {"fields": ["intake_key", "alias_map", "rate_limit_per_minute", "source_tag"]}),
        (
            _("公开表单"),
            {
                "fields": [
                    "public_form_enabled",
                    "public_form_title",
                    "public_form_intro",
                    "public_form_fields",
                ]
            },
        ),
    ]

    def save_model(self, request: HttpRequest, obj: Channel, form: Any, change: bool) -> None:
        # A new channel whose weight/window were left untouched gets its kind's defaults.
        if not change and obj.kind in KIND_DEFAULTS:
            weight, window = KIND_DEFAULTS[obj.kind]
            if "weight" not in form.changed_data:
                obj.weight = weight
            if "response_window_minutes" not in form.changed_data:
                obj.response_window_minutes = window
        super().save_model(request, obj, form, change)

    @admin.action(description=_("更换接入密钥(旧密钥立即失效)"))
    def rotate_keys(self, request: HttpRequest, queryset: Any) -> None:
        for channel in queryset:
            channel.intake_key = new_intake_key()
            channel.save(update_fields=["intake_key", "updated_at"])
            record_event(
                subject_type="channel",
                subject_id=channel.pk,
                verb="channel.key_rotated",
                actor=request.user,
            )
        self.message_user(request, _("已更换 %(n)d 个渠道的接入密钥") % {"n": queryset.count()})


@admin.register(TagRule)
class TagRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "condition", "tag_name", "active", "position"]
    list_filter = ["active", "channel"]
    search_fields = ["name", "tag_name", "condition"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        names = ", ".join(CONDITION_NAMES)
        form.base_fields["condition"].help_text = format_html(
            "{}<br>{}", form.base_fields["condition"].help_text, _("可用名称:") + names
        )
        return form


@admin.register(IntentConfig)
class IntentConfigAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "wechat_weight",
        "stay_weight",
        "download_weight",
        "nurture_below",
        "direct_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not IntentConfig.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BehaviourEvent)
class BehaviourEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "lead", "visitor_id", "url", "seconds", "asset"]
    list_filter = ["kind", "channel"]
    search_fields = ["visitor_id", "url", "asset"]
    raw_id_fields = ["lead"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "key", "lead", "status_code"]
    list_filter = ["channel"]
    search_fields = ["key"]
    raw_id_fields = ["lead"]


@admin.register(RejectedIntake)
class RejectedIntakeAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "channel", "endpoint", "reason", "status", "inbox_link"]
    list_filter = ["status", "reason", "channel"]
    exclude = ["body_bytes"]

    @admin.display(description=_("处理"))
    def inbox_link(self, obj: RejectedIntake) -> str:
        url = reverse("intake:rejected_detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("修正并重新接入"))
