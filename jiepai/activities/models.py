"""Follow-ups (structured activities) and tasks (next actions with a due time)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import TimestampedModel


class ActivityKind(models.TextChoices):
    CALL = "call", _("电话")
    WECHAT = "wechat", _("微信")
    VISIT = "visit", _("拜访")
    MEETING = "meeting", _("会议")
    EMAIL = "email", _("邮件")
    NOTE = "note", _("备注")


class Activity(TimestampedModel):
    """One follow-up: who was reached, how, what was concluded, what happens next.

    It hangs off a lead, an account and/or an opportunity; visibility follows its owner and
    the record(s) it belongs to.
    """

    kind = models.CharField(_("方式"), max_length=20, choices=ActivityKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("跟进人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("跟进时间"), db_index=True)
    lead = models.ForeignKey(
        "intake.Lead",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        verbose_name=_("线索"),
    )
    account = models.ForeignKey(
        "customers.Account",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        verbose_name=_("客户"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        verbose_name=_("联系人"),
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        verbose_name=_("商机"),
    )
    contact_role = models.CharField(_("联系人角色"), max_length=20, blank=True)
    conclusion = models.CharField(_("关键结论"), max_length=50, blank=True)
    summary = models.TextField(_("内容"), blank=True)
    next_action = models.CharField(_("下一步"), max_length=200, blank=True)
    next_action_due = models.DateTimeField(_("下一步时间"), null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        indexes = [models.Index(fields=["owner", "-occurred_at"], name="activity_owner_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class Task(TimestampedModel):
    title = models.CharField(_("待办"), max_length=200)
    kind = models.CharField(_("类型"), max_length=30, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_at = models.DateTimeField(_("截止时间"), null=True, blank=True, db_index=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    lead = models.ForeignKey(
        "intake.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )

    class Meta:
        ordering = ["done_at", "due_at", "id"]
        verbose_name = _("待办")
        verbose_name_plural = _("待办")

    def __str__(self) -> str:
        return self.title
