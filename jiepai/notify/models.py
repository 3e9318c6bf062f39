"""Notifications: the in-app inbox row is the source of truth; other channels deliver copies.

- `Notification`: one inbox row per recipient, written in the caller's transaction.
- `NotificationKind`: every kind ever notified (rows appear on first use); an admin sets its label
  and whether it goes by e-mail by default.
- `RobotEndpoint`: a WeCom / DingTalk / Feishu group robot (admin configuration).
- `Preference`: one user's choice for one kind (e-mail on/off, extra group robots).
- `Delivery`: one copy to send by e-mail or to a group robot, with its retry state as data.
- `DeliveryPolicy`: the retry schedule (one row).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import TimestampedModel


class Notification(TimestampedModel):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类型"), max_length=60, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notif_inbox_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notif_dedupe_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationKind(TimestampedModel):
    """A kind of notification ("lead.response_window_expired"). Created on first use by `notify`,
    seeded with the kinds the product ships; an admin names it and sets the e-mail default."""

    key = models.CharField(_("类型标识"), max_length=60, unique=True)
    label = models.CharField(_("名称"), max_length=100)
    email_by_default = models.BooleanField(
        _("默认发邮件"),
        default=False,
        help_text=_("紧急类型(如响应时限已过)默认同时发邮件;用户可在通知设置里改。"),
    )

    class Meta:
        ordering = ["key"]
        verbose_name = _("通知类型")
        verbose_name_plural = _("通知类型")

    def __str__(self) -> str:
        return self.label or self.key


class Platform(models.TextChoices):
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")
    FEISHU = "feishu", _("飞书群机器人")


class MessageFormat(models.TextChoices):
    TEXT = "text", _("纯文本")
    RICH = "rich", _("富文本(Markdown / 飞书卡片)")


class RobotEndpoint(TimestampedModel):
    """A group robot webhook. Kinds listed in `kinds` are posted to the group once per event
    (a broadcast); with `user_selectable`, people may also route their own kinds here."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    platform = models.CharField(_("平台"), max_length=20, choices=Platform.choices)
    url = models.URLField(_("Webhook 地址"), max_length=500)
    secret = models.CharField(
        _("加签密钥"),
        max_length=200,
        blank=True,
        help_text=_("钉钉/飞书机器人“加签”安全设置里的密钥;不填则不签名。企业微信不需要。"),
    )
    message_format = models.CharField(
        _("消息格式"), max_length=10, choices=MessageFormat.choices, default=MessageFormat.RICH
    )
    kinds = models.ManyToManyField(
        NotificationKind,
        verbose_name=_("群发的通知类型"),
        blank=True,
        related_name="endpoints",
        help_text=_("这些类型的通知每次都发到本群(每个事件一条)。"),
    )
    user_selectable = models.BooleanField(
        _("允许用户订阅"),
        default=False,
        help_text=_("用户可在通知设置里把自己的某类通知也发到本群(并@本人手机号)。"),
    )
    mention_recipients = models.BooleanField(
        _("@接收人"),
        default=True,
        help_text=_("按手机号@通知的接收人(钉钉、企业微信纯文本支持)。"),
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        _("超时(秒)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timeout_seconds__gte=1, timeout_seconds__lte=30),
                name="notify_endpoint_timeout_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"


class Preference(TimestampedModel):
    """One person's choice for one kind. Without a row the kind's defaults apply: in-app always,
    e-mail when the kind is e-mailed by default, no personal robot."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preferences"
    )
    kind = models.ForeignKey(NotificationKind, on_delete=models.CASCADE, related_name="+")
    email = models.BooleanField(_("发邮件"), default=False)
    robots = models.ManyToManyField(
        RobotEndpoint, verbose_name=_("发到群"), blank=True, related_name="subscribers"
    )

    class Meta:
        ordering = ["user_id", "kind__key"]
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notify_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind}"


class DeliveryPolicy(models.Model):
    """The retry schedule, one row (id 1). Attempt n+1 waits first_retry × 2^(n-1), at most
    max_retry; after max_attempts the delivery is given up. A claimed attempt holds the row for
    `lease_seconds` (longer than any timeout) so a crashed worker's attempt is retried later."""

    max_attempts = models.PositiveSmallIntegerField(
        _("最多尝试次数"), default=8, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    first_retry_seconds = models.PositiveIntegerField(
        _("首次重试间隔(秒)"), default=30, validators=[MinValueValidator(1)]
    )
    max_retry_seconds = models.PositiveIntegerField(
        _("最长重试间隔(秒)"), default=3600, validators=[MinValueValidator(1)]
    )
    lease_seconds = models.PositiveIntegerField(
        _("单次发送租约(秒)"), default=120, validators=[MinValueValidator(60)]
    )

    class Meta:
        verbose_name = _("投递重试策略")
        verbose_name_plural = _("投递重试策略")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="notify_policy_singleton"),
            models.CheckConstraint(
                condition=models.Q(max_attempts__gte=1), name="notify_policy_attempts_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(lease_seconds__gte=60), name="notify_policy_lease_min"
            ),
        ]

    def __str__(self) -> str:
        return str(_("投递重试策略"))

    @classmethod
    def current(cls) -> DeliveryPolicy:
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def lease(self) -> datetime.timedelta:
        return datetime.timedelta(seconds=self.lease_seconds)

    def backoff(self, attempts: int) -> datetime.timedelta:
        """Wait before the next attempt after `attempts` failed ones (1 → first_retry)."""
        exponent = max(attempts - 1, 0)
        seconds = min(self.first_retry_seconds * 2 ** min(exponent, 30), self.max_retry_seconds)
        return datetime.timedelta(seconds=seconds)


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("邮件")
    WECOM = "wecom", _("企业微信")
    DINGTALK = "dingtalk", _("钉钉")
    FEISHU = "feishu", _("飞书")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("已放弃")


class Delivery(TimestampedModel):
    """One copy of a notification to send outside the app. The content is a snapshot taken when
    the notification was created; the endpoint's URL and secret are read at send time (so fixing
    a wrong secret helps the pending retries).

    `next_attempt_at` is the deadline the sweeper watches: for a pending row it is when to try
    again (or, while an attempt runs, when that attempt's lease ends)."""

    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    channel = models.CharField(_("渠道"), max_length=20, choices=DeliveryChannel.choices)
    endpoint = models.ForeignKey(
        RobotEndpoint,
        verbose_name=_("群机器人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    address = models.CharField(_("邮箱"), max_length=254, blank=True)
    kind = models.CharField(_("类型"), max_length=60)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=600, blank=True)
    mentions = models.JSONField(_("@手机号"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True, db_index=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    response_code = models.IntegerField(_("响应码"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("投递记录")
        verbose_name_plural = _("投递记录")
        indexes = [
            models.Index(fields=["status", "-created_at"], name="notify_delivery_status_idx")
        ]
        constraints = [
            # A finished delivery (sent or given up) has nothing left to schedule.
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(next_attempt_at__isnull=True),
                name="notify_delivery_finished_unscheduled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.title}"

    @property
    def target(self) -> str:
        if self.channel == DeliveryChannel.EMAIL:
            return self.address
        return str(self.endpoint) if self.endpoint else "—"
