"""Pipelines, their configurable stages, and opportunities (deals) moving through them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import OwnedRecord, TimestampedModel


class Pipeline(TimestampedModel):
    name = models.CharField(_("名称"), max_length=100, unique=True)
    is_default = models.BooleanField(_("默认"), default=False)
    gates_cumulative = models.BooleanField(
        _("跳阶段时检查中间阶段门槛"),
        default=True,
        help_text=_("开启后,从“需求确认”直接拖到“商务谈判”也必须满足“方案演示”“报价反馈”的门槛"),
    )

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("销售流程")
        verbose_name_plural = _("销售流程")

    def __str__(self) -> str:
        return self.name


class Stage(TimestampedModel):
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("销售流程"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("名称"), max_length=50)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    probability = models.PositiveSmallIntegerField(_("赢率%"), default=10)
    is_won = models.BooleanField(_("赢单阶段"), default=False)
    is_lost = models.BooleanField(_("输单阶段"), default=False)
    stall_hours = models.PositiveIntegerField(
        _("停滞时限(小时)"),
        default=72,
        help_text=_("超过这么久没有更新就提醒负责人和主管;0 表示不提醒"),
    )
    description = models.CharField(_("阶段说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("阶段")
        verbose_name_plural = _("阶段")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_range"
            ),
            models.CheckConstraint(
                condition=~(models.Q(is_won=True) & models.Q(is_lost=True)),
                name="stage_not_won_and_lost",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


class Opportunity(OwnedRecord):
    name = models.CharField(_("商机名称"), max_length=200)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("主要联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    lead = models.ForeignKey(
        "intake.Lead",
        verbose_name=_("来源线索"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("阶段"), on_delete=models.PROTECT, related_name="opportunities"
    )
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2, default=0)
    expected_close_date = models.DateField(_("预计成交日期"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("进入阶段时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    loss_reason = models.CharField(_("输单原因"), max_length=200, blank=True)
    description = models.TextField(_("说明"), blank=True)
    # The last time the deal moved forward in any way: an edit, a stage move or a follow-up.
    # stall_due_at = touched_at + stage.stall_hours; the deadline sweeper acts on it.
    touched_at = models.DateTimeField(_("最近推进时间"), null=True, blank=True)
    stall_due_at = models.DateTimeField(_("停滞提醒时间"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("商机")
        verbose_name_plural = _("商机")
        indexes = [
            models.Index(fields=["owner", "-updated_at"], name="opp_owner_idx"),
            models.Index(fields=["stage", "-updated_at"], name="opp_stage_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="opp_amount_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("pipeline:opportunity_detail", args=[self.pk])


class RequirementKind(models.TextChoices):
    FIELD = "field", _("字段已填写")
    RANGE = "range", _("数值在范围内")
    ATTACHMENT = "attachment", _("已上传文件")
    CONTACT_ROLE = "contact_role", _("决策链角色已标记")
    ACTIVITY = "activity", _("已记录跟进")
    NEXT_ACTION = "next_action", _("已约定下一步")
    CONDITION = "condition", _("条件表达式")


class GateRequirement(TimestampedModel):
    """One thing that must hold before a deal may enter `stage` (阶段门槛).

    Rows of one stage that share a non-empty `any_of` key are alternatives: the gate needs one of
    them ("报价单已发送" = a quote file OR a follow-up concluding the quote was sent). The checks
    themselves live in jiepai.pipeline.gates; which parameters a kind uses is listed there and
    enforced by the constraints below.
    """

    stage = models.ForeignKey(
        Stage, verbose_name=_("阶段"), on_delete=models.CASCADE, related_name="requirements"
    )
    label = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=RequirementKind.choices)
    any_of = models.CharField(
        _("满足其一分组"),
        max_length=50,
        blank=True,
        help_text=_("同一阶段中分组相同的几条门槛满足其中一条即可"),
    )
    field_name = models.CharField(
        _("字段"),
        max_length=80,
        blank=True,
        help_text=_("内置字段名(amount、expected_close_date…)或 custom.自定义字段键"),
    )
    min_value = models.DecimalField(
        _("最小值"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("最大值"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    attachment_kind = models.CharField(_("文件类型"), max_length=30, blank=True)
    contact_role = models.CharField(_("联系人角色"), max_length=20, blank=True)
    activity_kind = models.CharField(
        _("跟进方式"), max_length=20, blank=True, help_text=_("留空表示任意方式")
    )
    activity_conclusion = models.CharField(
        _("关键结论"), max_length=50, blank=True, help_text=_("留空表示任意结论")
    )
    expression = models.TextField(
        _("条件"),
        blank=True,
        help_text=_("例如 amount >= 100000 and custom['budget_range'] != ''"),
    )
    help_text = models.CharField(_("提示"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["stage", "position", "id"]
        verbose_name = _("阶段门槛")
        verbose_name_plural = _("阶段门槛")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind__in=["field", "range"]) | ~models.Q(field_name=""),
                name="gate_field_named",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="range")
                | models.Q(min_value__isnull=False)
                | models.Q(max_value__isnull=False),
                name="gate_range_bounded",
            ),
            models.CheckConstraint(
                condition=models.Q(min_value__isnull=True)
                | models.Q(max_value__isnull=True)
                | models.Q(min_value__lte=models.F("max_value")),
                name="gate_range_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="attachment") | ~models.Q(attachment_kind=""),
                name="gate_attachment_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="contact_role") | ~models.Q(contact_role=""),
                name="gate_contact_role",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="condition") | ~models.Q(expression=""),
                name="gate_condition_expression",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage}·{self.label}"

    def clean(self) -> None:
        from jiepai.pipeline.gates import requirement_errors

        errors = requirement_errors(self)
        if errors:
            raise ValidationError(errors)
