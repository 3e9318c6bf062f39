from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from jiepai.notify import services
from jiepai.notify.models import (
    Delivery,
    DeliveryPolicy,
    NotificationKind,
    Preference,
    RobotEndpoint,
)


@admin.register(NotificationKind)
class NotificationKindAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "email_by_default"]
    list_editable = ["label", "email_by_default"]
    search_fields = ["key", "label"]


@admin.action(description=_("发送测试消息(结果见投递日志)"))
def send_test(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    for endpoint in queryset:
        services.send_test_message(endpoint=endpoint, actor=request.user)
    modeladmin.message_user(request, _("测试消息已排队发送,请在投递日志查看结果"))


@admin.register(RobotEndpoint)
class RobotEndpointAdmin(admin.ModelAdmin):
    actions = [send_test]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "platform", "message_format", "user_selectable", "active"]
    list_filter = ["platform", "active", "user_selectable"]
    search_fields = ["name"]
    filter_horizontal = ["kinds"]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "email"]
    list_filter = ["kind", "email"]
    search_fields = ["user__username", "user__display_name"]
    autocomplete_fields = ["kind"]
    filter_horizontal = ["robots"]


@admin.register(DeliveryPolicy)
class DeliveryPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "max_attempts", "first_retry_seconds", "max_retry_seconds"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not DeliveryPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.action(description=_("重新发送所选投递"))
def resend_selected(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    for delivery in queryset.exclude(status="sent"):
        services.resend_delivery(delivery=delivery)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "target",
        "title",
        "status",
        "attempts",
        "response_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "channel", "endpoint"]
    search_fields = ["title", "address", "last_error"]
    actions = [resend_selected]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
