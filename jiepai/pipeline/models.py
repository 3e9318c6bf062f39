"""Pipelines, their configurable stages, and opportunities (deals) moving through them."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import OwnedRecord, TimestampedModel


class Pipeline(TimestampedModel):
    name = models.CharField(_("名称"), max_length=100, unique=True)
    is_default = models.BooleanField(_("默认"), default=False)

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
    stall_hours = models.PositiveIntegerField(_("停滞时限(小时)"), default=72)

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
