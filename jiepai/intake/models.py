"""Channels (where leads come from) and leads (an inbound person + company interest)."""

from __future__ import annotations

import secrets

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import OwnedRecord, TimestampedModel


def new_intake_key() -> str:
    return secrets.token_urlsafe(24)


class ChannelKind(models.TextChoices):
    WEB_FORM = "web_form", _("官网表单")
    MINI_PROGRAM = "mini_program", _("小程序")
    TRADE_SHOW = "trade_show", _("展会扫码")
    PHONE = "phone", _("电话呼入")
    SHORT_VIDEO = "short_video", _("抖音/短视频投放")
    API = "api", _("API")
    MANUAL = "manual", _("手工录入")
    IMPORT = "import", _("批量导入")


class Channel(TimestampedModel):
    name = models.CharField(_("名称"), max_length=100)
    slug = models.SlugField(_("标识"), max_length=50, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=ChannelKind.choices)
    weight = models.DecimalField(_("渠道权重"), max_digits=4, decimal_places=2, default=1)
    required_fields = models.JSONField(
        _("必填字段"), default=list, blank=True, help_text=_("如 company, title, mobile")
    )
    response_window_minutes = models.PositiveIntegerField(_("响应时限(分钟)"), default=240)
    routing_policy = models.CharField(_("分配策略"), max_length=30, default="round_robin")
    intake_key = models.CharField(_("接入密钥"), max_length=64, default=new_intake_key, unique=True)
    alias_map = models.JSONField(_("字段别名"), default=dict, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("渠道")
        verbose_name_plural = _("渠道")

    def __str__(self) -> str:
        return self.name


class LeadState(models.TextChoices):
    INCOMPLETE = "incomplete", _("待补全")
    UNASSIGNED = "unassigned", _("待分配")
    OFFERED = "offered", _("抢单中")
    ASSIGNED = "assigned", _("已分配")
    CONTACTED = "contacted", _("已联系")
    QUALIFIED = "qualified", _("已确认")
    CONVERTED = "converted", _("已转化")
    DISQUALIFIED = "disqualified", _("无效")
    NURTURE = "nurture", _("培育中")


#: states in which a lead counts against its owner's load cap
ACTIVE_LEAD_STATES = (LeadState.ASSIGNED, LeadState.CONTACTED, LeadState.QUALIFIED)


class Lead(OwnedRecord):
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    title = models.CharField(_("职位"), max_length=50, blank=True)
    company = models.CharField(_("公司"), max_length=200, blank=True)
    mobile = models.CharField(_("手机"), max_length=40, blank=True, db_index=True)
    email = models.EmailField(_("邮箱"), blank=True, db_index=True)
    wechat = models.CharField(_("微信"), max_length=50, blank=True)
    industry = models.CharField(_("行业"), max_length=50, blank=True)
    province = models.CharField(_("省份"), max_length=30, blank=True)
    city = models.CharField(_("城市"), max_length=30, blank=True)
    budget = models.DecimalField(_("预算"), max_digits=14, decimal_places=2, null=True, blank=True)
    message = models.TextField(_("留言"), blank=True)
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("渠道"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    source_detail = models.JSONField(_("来源详情"), default=dict, blank=True)
    state = models.CharField(
        _("状态"), max_length=20, choices=LeadState.choices, default=LeadState.UNASSIGNED
    )
    score = models.FloatField(_("线索评分"), default=0)
    intent_score = models.FloatField(_("意向分"), default=0)
    raw_payload = models.JSONField(_("原始数据"), default=dict, blank=True)
    missing_fields = models.JSONField(_("缺失字段"), default=list, blank=True)
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    response_due_at = models.DateTimeField(_("响应截止"), null=True, blank=True, db_index=True)
    contacted_at = models.DateTimeField(_("首次联系"), null=True, blank=True)
    converted_at = models.DateTimeField(_("转化时间"), null=True, blank=True)
    reassign_count = models.PositiveSmallIntegerField(_("改派次数"), default=0)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="lead_owner_created_idx"),
            models.Index(fields=["state", "-created_at"], name="lead_state_created_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.company or self.mobile or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("intake:lead_detail", args=[self.pk])
