"""Follow-ups (structured activities) and tasks (next actions with a due time)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import TimestampedModel


class ActivityKind(models.TextChoices):
    CALL = "call", _("电话")
    WECHAT = "wechat", _("微信")
    VISIT = "visit", _("拜访")
    MEETING = "meeting", _("会议")
    EMAIL = "email", _("邮件")
    NOTE = "note", _("备注")


class TranscriptStatus(models.TextChoices):
    PENDING = "pending", _("转写中")
    DONE = "done", _("已转写")
    FAILED = "failed", _("转写失败")
    UNAVAILABLE = "none", _("未配置转写")


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
    next_action_kind = models.CharField(_("下一步类型"), max_length=30, blank=True)
    contact_name = models.CharField(
        _("联系人(原文)"), max_length=50, blank=True, help_text=_("没有对应联系人记录时的称呼")
    )
    conclusion_note = models.TextField(_("结论补充"), blank=True)
    source = models.CharField(
        _("录入方式"),
        max_length=20,
        choices=[
            ("form", _("表单")),
            ("quick", _("极简录入")),
            ("visit", _("拜访")),
            ("voice", _("语音")),
            ("gate", _("阶段门槛")),
            ("import", _("导入")),
        ],
        default="form",
    )
    audio = models.ForeignKey(
        "files.Attachment",
        verbose_name=_("录音"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    transcript = models.TextField(_("录音文字"), blank=True)
    transcript_status = models.CharField(
        _("转写状态"), max_length=10, choices=TranscriptStatus.choices, blank=True
    )
    parsed = models.JSONField(_("识别结果"), default=dict, blank=True)

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
    due_has_time = models.BooleanField(_("含具体时间"), default=True)
    # deadline column for the sweeper (kind "task.reminder"): cleared when the reminder is sent
    # or the task is done, so the owner is reminded exactly once
    remind_at = models.DateTimeField(_("提醒时间"), null=True, blank=True, db_index=True)
    reminded_at = models.DateTimeField(_("已提醒"), null=True, blank=True)
    notes = models.TextField(_("说明"), blank=True)
    source = models.CharField(_("来源"), max_length=20, blank=True)

    class Meta:
        ordering = ["done_at", "due_at", "id"]
        verbose_name = _("待办")
        verbose_name_plural = _("待办")

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.done_at is None


# --- configuration (rows an admin edits; defaults from the seeds in a data migration) ----------


class FollowUpRequirement(TimestampedModel):
    """Which parts a follow-up must have to be saved: one global row (method blank) and optional
    rows per method that replace it for that method (seed 000: role, conclusion and next action
    are required; seed 001: the minimal mode needs only customer, method and next action)."""

    method = models.CharField(
        _("方式"), max_length=20, choices=ActivityKind.choices, blank=True, unique=True
    )
    requires_contact = models.BooleanField(_("必填联系人"), default=False)
    requires_contact_role = models.BooleanField(_("必填联系人角色"), default=False)
    requires_conclusion = models.BooleanField(_("必填关键结论"), default=False)
    requires_next_action = models.BooleanField(_("必填下一步"), default=True)
    requires_next_action_due = models.BooleanField(_("必填下一步时间"), default=True)

    class Meta:
        ordering = ["method"]
        verbose_name = _("跟进必填项")
        verbose_name_plural = _("跟进必填项")

    def __str__(self) -> str:
        return self.get_method_display() if self.method else str(_("全部方式"))


class ConclusionChoice(TimestampedModel):
    label = models.CharField(_("关键结论"), max_length=50, unique=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("关键结论选项")
        verbose_name_plural = _("关键结论选项")

    def __str__(self) -> str:
        return self.label


class NextActionKind(TimestampedModel):
    """The action vocabulary: 看厂 → 工厂参观 (kind factory_visit). `triggers` are the words a
    rep writes; `*` inside one stands for up to four characters (see jiepai.lib.notes)."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    label = models.CharField(_("名称"), max_length=50)
    triggers = models.JSONField(_("触发词"), default=list, blank=True)
    generic = models.BooleanField(
        _("泛指"), default=False, help_text=_("如“跟进”“联系”:只有没说具体动作时才采用")
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("下一步类型")
        verbose_name_plural = _("下一步类型")

    def __str__(self) -> str:
        return self.label


class PainPointKeyword(TimestampedModel):
    """A customer pain point (交付周期太长) and the ways reps write it; found ones become tags
    on the account."""

    label = models.CharField(_("痛点"), max_length=50, unique=True)
    triggers = models.JSONField(_("触发词"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["label"]
        verbose_name = _("客户痛点词")
        verbose_name_plural = _("客户痛点词")

    def __str__(self) -> str:
        return self.label


class PhraseMeaning(TimestampedModel):
    """销售语言 → 业务含义 (seed 000): 客户很感兴趣 → 需验证预算真实性, with the task it suggests."""

    triggers = models.JSONField(_("口语说法"), default=list)
    meaning = models.CharField(_("业务含义"), max_length=100)
    task_title = models.CharField(_("建议待办"), max_length=200, blank=True)
    task_kind = models.CharField(_("建议待办类型"), max_length=30, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["meaning", "id"]
        verbose_name = _("口语映射")
        verbose_name_plural = _("口语映射")

    def __str__(self) -> str:
        return self.meaning


class ClosureRule(TimestampedModel):
    """动作闭环校验: a next action of `action_kind` due on day D must have left evidence (an
    attachment of one of `evidence_kinds` on the deal) by day D + `grace_days`."""

    action_kind = models.SlugField(_("下一步类型"), max_length=30, unique=True)
    evidence_kinds = models.JSONField(_("需要的文件类型"), default=list)
    grace_days = models.PositiveSmallIntegerField(_("宽限天数"), default=1)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["action_kind"]
        verbose_name = _("闭环校验规则")
        verbose_name_plural = _("闭环校验规则")

    def __str__(self) -> str:
        return self.action_kind


class ActivitySettings(TimestampedModel):
    """One row (pk 1) of tunables for follow-ups and visits; defaults are the seeds' values."""

    date_only_due_time = models.TimeField(_("只有日期时的截止时间"), default=datetime.time(18, 0))
    date_only_remind_time = models.TimeField(_("只有日期时的提醒时间"), default=datetime.time(9, 0))
    closure_check_time = models.TimeField(_("闭环校验时间"), default=datetime.time(9, 0))
    audio_max_mb = models.PositiveIntegerField(_("录音大小上限(MB)"), default=20)
    far_from_account_m = models.PositiveIntegerField(_("离客户地址过远(米)"), default=1000)
    max_speed_kmh = models.PositiveIntegerField(_("两次签到间合理最高速度(km/h)"), default=150)
    clock_skew_minutes = models.PositiveIntegerField(_("设备时间偏差上限(分钟)"), default=5)
    review_window_days = models.PositiveSmallIntegerField(_("复核统计周期(天)"), default=14)
    visits_per_communication = models.PositiveSmallIntegerField(
        _("拜访数/有效沟通数上限"), default=3
    )
    empty_visits_threshold = models.PositiveSmallIntegerField(_("无内容拜访数上限"), default=3)
    visit_abandon_hours = models.PositiveSmallIntegerField(
        _("拜访未结束视为无内容(小时)"), default=12
    )

    class Meta:
        verbose_name = _("跟进与拜访设置")
        verbose_name_plural = _("跟进与拜访设置")

    def __str__(self) -> str:
        return str(_("跟进与拜访设置"))

    @classmethod
    def current(cls) -> ActivitySettings:
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


# --- closure checks ---------------------------------------------------------------------------


class ClosureResult(models.TextChoices):
    PENDING = "pending", _("待校验")
    PASSED = "passed", _("已达标")
    FAILED = "failed", _("未达标")
    CANCELLED = "cancelled", _("已取消")


class ClosureCheck(TimestampedModel):
    task = models.OneToOneField(
        Task, verbose_name=_("待办"), on_delete=models.CASCADE, related_name="closure_check"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    action_kind = models.CharField(_("下一步类型"), max_length=30)
    evidence_kinds = models.JSONField(_("需要的文件类型"), default=list)
    # deadline column for the sweeper (kind "activities.closure_check"); cleared when checked
    check_at = models.DateTimeField(_("校验时间"), null=True, blank=True, db_index=True)
    checked_at = models.DateTimeField(_("校验于"), null=True, blank=True)
    result = models.CharField(
        _("结果"), max_length=10, choices=ClosureResult.choices, default=ClosureResult.PENDING
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("闭环校验")
        verbose_name_plural = _("闭环校验")
        indexes = [models.Index(fields=["owner", "result"], name="closure_owner_result_idx")]

    def __str__(self) -> str:
        return f"{self.task} · {self.get_result_display()}"


# --- visits -----------------------------------------------------------------------------------


class GeoStatus(models.TextChoices):
    OK = "ok", _("已定位")
    DENIED = "denied", _("定位被拒绝")
    UNAVAILABLE = "unavailable", _("无法定位")
    TIMEOUT = "timeout", _("定位超时")
    UNSUPPORTED = "unsupported", _("设备不支持定位")


class Visit(TimestampedModel):
    """A check-in at a customer: server time and the phone's position and clock when it started
    and ended; ended with the three structured fields (seed 002), no photo as proof."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("拜访人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="visits",
    )
    lead = models.ForeignKey(
        "intake.Lead",
        verbose_name=_("线索"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="visits",
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("商机"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    started_at = models.DateTimeField(_("签到时间(服务器)"), db_index=True)
    client_started_at = models.DateTimeField(_("签到时间(设备)"), null=True, blank=True)
    start_latitude = models.FloatField(_("签到纬度"), null=True, blank=True)
    start_longitude = models.FloatField(_("签到经度"), null=True, blank=True)
    start_accuracy_m = models.FloatField(_("签到定位精度(米)"), null=True, blank=True)
    start_geo_status = models.CharField(_("签到定位"), max_length=12, choices=GeoStatus.choices)
    user_agent = models.CharField(_("设备"), max_length=300, blank=True)
    ended_at = models.DateTimeField(_("签退时间(服务器)"), null=True, blank=True)
    client_ended_at = models.DateTimeField(_("签退时间(设备)"), null=True, blank=True)
    end_latitude = models.FloatField(_("签退纬度"), null=True, blank=True)
    end_longitude = models.FloatField(_("签退经度"), null=True, blank=True)
    end_geo_status = models.CharField(
        _("签退定位"), max_length=12, choices=GeoStatus.choices, blank=True
    )
    core_need = models.TextField(_("本次核心诉求"), blank=True)
    objection = models.TextField(_("客户异议点"), blank=True)
    next_action = models.CharField(_("下次行动项"), max_length=200, blank=True)
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("跟进记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("拜访")
        verbose_name_plural = _("拜访")
        indexes = [models.Index(fields=["owner", "started_at"], name="visit_owner_started_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=False) | models.Q(lead__isnull=False),
                name="visit_has_customer",
            ),
            models.CheckConstraint(
                condition=models.Q(start_latitude__isnull=True)
                | (models.Q(start_latitude__gte=-90) & models.Q(start_latitude__lte=90)),
                name="visit_start_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(start_longitude__isnull=True)
                | (models.Q(start_longitude__gte=-180) & models.Q(start_longitude__lte=180)),
                name="visit_start_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def customer(self) -> object:
        return self.account or self.lead

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class FlagKind(models.TextChoices):
    FAR_FROM_ACCOUNT = "far_from_account", _("签到位置离客户地址较远")
    IMPOSSIBLE_SPEED = "impossible_speed", _("两次签到间移动速度不合理")
    NO_GEOLOCATION = "no_geolocation", _("签到时没有定位")
    CLOCK_SKEW = "clock_skew", _("设备时间与服务器不一致")
    EMPTY_VISITS = "empty_visits", _("多次拜访没有跟进内容")
    VISIT_RATIO = "visit_ratio", _("拜访数超过有效沟通数的 3 倍")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("待复核")
    CONFIRMED = "confirmed", _("已核实,流程需改进")
    DISMISSED = "dismissed", _("已核实,无问题")


class VisitFlag(TimestampedModel):
    """An anomaly for a manager to look at (a question about the process, not a penalty).
    Per-visit flags are unique per (visit, kind); period flags per (rep, kind, period).

    A flag stores its kind and figures (`detail`), not a sentence: `message` words it in the
    reader's language when it is shown (see `flag_message` for the figures each kind needs).
    """

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("销售"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("拜访"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="flags",
    )
    kind = models.CharField(_("类型"), max_length=20, choices=FlagKind.choices)
    period = models.CharField(_("统计周期"), max_length=30, blank=True)
    detail = models.JSONField(_("数据"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    review_note = models.TextField(_("复核说明"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("拜访复核")
        verbose_name_plural = _("拜访复核")
        indexes = [models.Index(fields=["status", "-created_at"], name="visitflag_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "kind"],
                condition=models.Q(visit__isnull=False),
                name="visitflag_once_per_visit",
            ),
            models.UniqueConstraint(
                fields=["rep", "kind", "period"],
                condition=models.Q(visit__isnull=True),
                name="visitflag_once_per_period",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def message(self) -> str:
        """What the flag says, in the active language."""
        return flag_message(self.kind, self.detail)


def flag_message(kind: str, detail: dict[str, Any]) -> str:
    """A flag's wording from its kind and figures, through gettext at display time.

    The figures per kind: no_geolocation `status` (a GeoStatus); far_from_account
    `distance_m`; impossible_speed `distance_m`, `minutes`, `speed_kmh`; clock_skew
    `skew_seconds`; empty_visits `days`, `visits` (their ids); visit_ratio `days`, `visits`,
    `communications`, `ratio`. A flag whose figures are missing or unreadable (edited by hand)
    is shown by its kind's label instead of failing the page.
    """
    try:
        if kind == FlagKind.NO_GEOLOCATION:
            status = GeoStatus(detail["status"]).label
            return gettext("签到时没有定位(%(status)s)") % {"status": status}
        if kind == FlagKind.FAR_FROM_ACCOUNT:
            km = detail["distance_m"] / 1000
            return gettext("签到位置距客户地址约 %(km).1f 公里") % {"km": km}
        if kind == FlagKind.IMPOSSIBLE_SPEED:
            return gettext("距上一次签到 %(km).1f 公里、%(min)d 分钟,约 %(speed)d km/h") % {
                "km": detail["distance_m"] / 1000,
                "min": detail["minutes"],
                "speed": detail["speed_kmh"],
            }
        if kind == FlagKind.CLOCK_SKEW:
            minutes = round(abs(detail["skew_seconds"]) / 60)
            return gettext("设备时间与服务器相差 %(min)d 分钟") % {"min": minutes}
        if kind == FlagKind.EMPTY_VISITS:
            return gettext("近 %(days)d 天有 %(n)d 次拜访没有跟进内容") % {
                "days": detail["days"],
                "n": len(detail["visits"]),
            }
        if kind == FlagKind.VISIT_RATIO:
            return gettext("近 %(days)d 天拜访 %(v)d 次,有效沟通 %(c)d 次(超过 %(r)d 倍)") % {
                "days": detail["days"],
                "v": detail["visits"],
                "c": detail["communications"],
                "r": detail["ratio"],
            }
    except (KeyError, TypeError, ValueError):
        pass
    return str(FlagKind(kind).label) if kind in FlagKind.values else kind
