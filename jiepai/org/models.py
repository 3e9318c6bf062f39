"""Departments (a tree), people with roles, rep profiles and project teams."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import TimestampedModel


class Department(TimestampedModel):
    """A node of the org tree. `path` ("/1/4/") is the materialised ancestry for subtree queries."""

    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    manager = models.ForeignKey(
        "org.User",
        verbose_name=_("主管"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_departments",
    )

    class Meta:
        ordering = ["path"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    REP = "rep", _("销售")
    MANAGER = "manager", _("销售主管")
    DIRECTOR = "director", _("销售总监")
    MARKETING = "marketing", _("市场")
    SERVICE = "service", _("客服")
    ADMIN = "admin", _("管理员")


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.REP)
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    mobile = models.CharField(_("手机"), max_length=32, blank=True)
    time_zone = models.CharField(_("时区"), max_length=64, blank=True)

    class Meta:
        ordering = ["username"]
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or self.role in (Role.DIRECTOR, Role.ADMIN)


class OnlineStatus(models.TextChoices):
    AUTO = "auto", _("按活动")  # online while active in the app, see org.services.is_online
    ONLINE = "online", _("在线")
    BUSY = "busy", _("忙碌")
    OFFLINE = "offline", _("离线")


class DealSizeBand(models.TextChoices):
    SMALL = "small", _("小单(<10万)")
    MEDIUM = "medium", _("中单(10–50万)")
    LARGE = "large", _("大单(>50万)")


class RepProfile(TimestampedModel):
    """What routing needs to know about a rep: capacity, presence, skills."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="rep_profile")
    capacity = models.PositiveIntegerField(_("在跟线索上限"), default=8)
    online_status = models.CharField(
        _("在线状态"), max_length=10, choices=OnlineStatus.choices, default=OnlineStatus.AUTO
    )
    last_seen_at = models.DateTimeField(_("最近活动"), null=True, blank=True)
    paused = models.BooleanField(_("暂停接收线索"), default=False)
    industries = models.JSONField(_("擅长行业"), default=list, blank=True)
    deal_size_bands = models.JSONField(_("擅长客单价"), default=list, blank=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("销售档案")
        verbose_name_plural = _("销售档案")

    def __str__(self) -> str:
        return str(self.user)


class Team(TimestampedModel):
    """A cross-department project team; records shared with a team are visible to its members."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    members = models.ManyToManyField(User, verbose_name=_("成员"), related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("项目组")
        verbose_name_plural = _("项目组")

    def __str__(self) -> str:
        return self.name
