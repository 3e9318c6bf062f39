"""Routing configuration (policies, rules) and routing state (pointers, offers, assignments).

Configuration rows are edited by an admin; their defaults are the seed values (a data
migration creates one policy of each kind and the "high-value lead" rule).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import TimestampedModel
from jiepai.routing import conditions, scoring


def default_weights() -> dict[str, dict[str, float | str]]:
    return {name: dict(spec) for name, spec in scoring.DEFAULT_WEIGHTS.items()}


class PolicyKind(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("轮询")
    WEIGHTED_POOL = "weighted_pool", _("权重池抢单")
    CAPABILITY_MATCH = "capability_match", _("能力匹配")


class Normalisation(models.TextChoices):
    MINMAX = "minmax", _("最小-最大归一化")
    MAX = "max", _("除以最大值")


class RoutingPolicy(TimestampedModel):
    """How a lead is given to a rep. A channel names one by `key` (Channel.routing_policy); a
    RoutingRule can pick one by a condition on the lead; otherwise the default policy runs."""

    key = models.SlugField(_("标识"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=PolicyKind.choices)
    departments = models.ManyToManyField(
        "org.Department",
        verbose_name=_("参与部门"),
        blank=True,
        related_name="+",
        help_text=_("这些部门(含下级部门)的销售参与分配;不选部门也不选人员时全体销售参与"),
    )
    reps = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("参与人员"),
        blank=True,
        related_name="+",
    )
    is_default = models.BooleanField(_("默认策略"), default=False)
    skip_offline = models.BooleanField(_("跳过离线销售"), default=True)
    weights = models.JSONField(
        _("权重配置"),
        default=default_weights,
        blank=True,
        help_text=_("权重池:每个因子的 weight(权重)与 direction(lower=越小越好,higher=越大越好)"),
    )
    normalisation = models.CharField(
        _("归一化"), max_length=10, choices=Normalisation.choices, default=Normalisation.MINMAX
    )
    won_revenue_days = models.PositiveSmallIntegerField(_("成交额统计天数"), default=30)
    offer_count = models.PositiveSmallIntegerField(_("抢单人数"), default=3)
    claim_minutes = models.PositiveIntegerField(_("抢单时限(分钟)"), default=30)
    skills_required = models.BooleanField(
        _("要求擅长行业"),
        default=False,
        help_text=_("能力匹配:只分给销售档案里擅长该行业的人"),
    )
    max_reassignments = models.PositiveSmallIntegerField(
        _("最多改派次数"),
        default=2,
        help_text=_("超时未联系的线索自动改派的次数上限,超过后进入主管待分配队列"),
    )
    fallback_window_minutes = models.PositiveIntegerField(
        _("无渠道时的响应时限(分钟)"), default=240
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("分配策略")
        verbose_name_plural = _("分配策略")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="routing_one_default_policy",
                violation_error_message=_("只能有一个默认分配策略"),
            ),
            models.CheckConstraint(
                condition=models.Q(offer_count__gte=1),
                name="routing_offer_count_positive",
                violation_error_message=_("抢单人数至少为 1"),
            ),
            models.CheckConstraint(
                condition=models.Q(claim_minutes__gte=1),
                name="routing_claim_minutes_positive",
                violation_error_message=_("抢单时限至少 1 分钟"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problems = scoring.validate_weights(self.weights)
        if problems:
            raise ValidationError(
                {
                    "weights": _(
                        "权重配置无效:%(problems)s。每个因子(%(factors)s)需要非负的 weight 和 "
                        "direction(lower 或 higher)"
                    )
                    % {"problems": ", ".join(problems), "factors": ", ".join(scoring.FACTORS)}
                }
            )


class RoutingRule(TimestampedModel):
    """ "When the lead matches `condition`, use `policy`" (seed 000: 预算>50万 → 能力匹配).

    The condition is a safe expression (simpleeval, never eval) over the lead's fields, checked
    when saved; rules are tried in `priority` order, the first match wins, then the channel's
    policy, then the default policy.
    """

    name = models.CharField(_("名称"), max_length=100)
    condition = models.TextField(
        _("条件"),
        help_text=_('例如 budget > 500000 or industry in ["医疗器械", "半导体"]。可用字段:')
        + ", ".join(conditions.LEAD_NAMES),
    )
    policy = models.ForeignKey(
        RoutingPolicy, verbose_name=_("分配策略"), on_delete=models.PROTECT, related_name="rules"
    )
    priority = models.PositiveSmallIntegerField(_("优先级"), default=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("分配规则")
        verbose_name_plural = _("分配规则")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problem = conditions.check(self.condition)
        if problem:
            raise ValidationError({"condition": problem})


class RoundRobinPointer(models.Model):
    """Who got the last lead under a round-robin policy. Locked while the next rep is chosen."""

    policy = models.OneToOneField(
        RoutingPolicy, primary_key=True, on_delete=models.CASCADE, related_name="pointer"
    )
    last_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["policy"]

    def __str__(self) -> str:
        return f"{self.policy} → {self.last_rep_id}"


class LeadRouting(TimestampedModel):
    """Routing's per-lead state: which policy routed it and whose unassigned queue it sits in."""

    lead = models.OneToOneField(
        "intake.Lead", primary_key=True, on_delete=models.CASCADE, related_name="routing"
    )
    policy = models.ForeignKey(
        RoutingPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queue_department = models.ForeignKey(
        "org.Department",
        verbose_name=_("所属队列"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("无人可分时,这个部门(及上级)的主管处理;为空表示全公司队列"),
    )
    escalated_at = models.DateTimeField(_("转主管时间"), null=True, blank=True)
    escalation_reason = models.CharField(_("转主管原因"), max_length=30, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("线索分配状态")
        verbose_name_plural = _("线索分配状态")

    def __str__(self) -> str:
        return f"lead#{self.lead_id}"


class RoundState(models.TextChoices):
    OPEN = "open", _("抢单中")
    CLAIMED = "claimed", _("已被抢")
    LOCKED = "locked", _("超时锁定")
    CANCELLED = "cancelled", _("已取消")


class OfferRound(TimestampedModel):
    """One offer of a lead to the best N reps. `lock_due_at` is the deadline the sweeper acts on
    (the lock to the best-scored rep); a claim clears it in the same compare-and-set."""

    lead = models.ForeignKey("intake.Lead", on_delete=models.CASCADE, related_name="offer_rounds")
    policy = models.ForeignKey(
        RoutingPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=RoundState.choices, default=RoundState.OPEN
    )
    offered_at = models.DateTimeField(_("发出时间"))
    closes_at = models.DateTimeField(_("抢单截止"))
    lock_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    winner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-offered_at", "-id"]
        verbose_name = _("抢单轮次")
        verbose_name_plural = _("抢单轮次")
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=models.Q(state="open"),
                name="routing_one_open_round_per_lead",
                violation_error_message=_("这条线索已在抢单中"),
            ),
        ]

    def __str__(self) -> str:
        return f"lead#{self.lead_id} {self.state}"


class OfferState(models.TextChoices):
    OFFERED = "offered", _("待抢")
    WON = "won", _("抢到")
    LOST = "lost", _("未抢到")


class LeadOffer(TimestampedModel):
    round = models.ForeignKey(OfferRound, on_delete=models.CASCADE, related_name="offers")
    lead = models.ForeignKey("intake.Lead", on_delete=models.CASCADE, related_name="offers")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead_offers"
    )
    rank = models.PositiveSmallIntegerField(_("排名"))
    score = models.FloatField(_("分值"), default=0)
    state = models.CharField(
        _("状态"), max_length=10, choices=OfferState.choices, default=OfferState.OFFERED
    )

    class Meta:
        ordering = ["round", "rank"]
        verbose_name = _("抢单邀请")
        verbose_name_plural = _("抢单邀请")
        indexes = [models.Index(fields=["rep", "state"], name="routing_offer_rep_state_idx")]
        constraints = [
            models.UniqueConstraint(fields=["round", "rep"], name="routing_offer_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"lead#{self.lead_id} → {self.rep_id}"


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信")
    VISIT = "visit", _("拜访")
    EMAIL = "email", _("邮件")
    OTHER = "other", _("其他")


class AssignMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("轮询")
    WEIGHTED_POOL = "weighted_pool", _("权重池")
    OFFER_CLAIMED = "offer_claimed", _("抢单")
    OFFER_LOCKED = "offer_locked", _("超时锁定")
    CAPABILITY_MATCH = "capability_match", _("能力匹配")
    WINDOW_REASSIGNED = "window_reassigned", _("超时改派")
    MANUAL = "manual", _("主管指派")


class EndReason(models.TextChoices):
    WINDOW_EXPIRED = "window_expired", _("超时未联系")
    MANUAL_REASSIGN = "manual_reassign", _("主管改派")
    ESCALATED = "escalated", _("转主管队列")


class Assignment(TimestampedModel):
    """One stint of one rep on one lead: the facts the routing health report is made of."""

    lead = models.ForeignKey("intake.Lead", on_delete=models.CASCADE, related_name="assignments")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead_assignments"
    )
    policy = models.ForeignKey(
        RoutingPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(_("方式"), max_length=20, choices=AssignMethod.choices)
    assigned_at = models.DateTimeField(_("分配时间"))
    response_due_at = models.DateTimeField(_("响应截止"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("首次联系"), null=True, blank=True)
    contact_method = models.CharField(_("联系方式"), max_length=20, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    end_reason = models.CharField(
        _("结束原因"), max_length=20, choices=EndReason.choices, blank=True
    )

    class Meta:
        ordering = ["-assigned_at", "-id"]
        verbose_name = _("分配记录")
        verbose_name_plural = _("分配记录")
        indexes = [
            models.Index(fields=["rep", "assigned_at"], name="routing_assign_rep_idx"),
            models.Index(fields=["assigned_at"], name="routing_assign_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=models.Q(ended_at__isnull=True),
                name="routing_one_current_assignment",
            ),
        ]

    def __str__(self) -> str:
        return f"lead#{self.lead_id} → {self.rep_id}"
