from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from jiepai.org.models import Department, RepProfile, Team, User


class RepProfileInline(admin.StackedInline):
    model = RepProfile
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "department", "is_active")
    list_filter = ("role", "department", "is_active")
    search_fields = ("username", "display_name", "email", "mobile")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("节拍"), {"fields": ("display_name", "role", "department", "mobile", "time_zone")}),
    )
    inlines = [RepProfileInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "manager", "path")
    readonly_fields = ("path",)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        from jiepai.org.services import move_department

        super().save_model(request, obj, form, change)
        move_department(department=obj, parent=obj.parent)  # keeps the materialised path right


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    filter_horizontal = ("members",)
