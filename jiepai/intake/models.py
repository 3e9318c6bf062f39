"""Channels (where leads come from) and leads (an inbound person + company interest), plus the
configuration and bookkeeping rows of the intake pipeline: tag rules, the intent-score weights,
behaviour events, idempotency keys, rate-limit windows and the rejected-intake inbox."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
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


#: per kind: (weight, response window in minutes). Weights from seed 000 (官网表单 1.0, 电话呼入
#: 0.9, 展会扫码 0.8); the short-video figure is ours (泛流量, "not to be mixed with high intent");
#: windows: 15 minutes for web forms and mini-programs (seed 000 step 3), 4 hours otherwise (seed 003).
KIND_DEFAULTS: dict[str, tuple[Decimal, int]] = {
    ChannelKind.WEB_FORM: (Decimal("1.00"), 15),
    ChannelKind.MINI_PROGRAM: (Decimal("1.00"), 15),
    ChannelKind.TRADE_SHOW: (Decimal("0.80"), 240),
    ChannelKind.PHONE: (Decimal("0.90"), 240),
    ChannelKind.SHORT_VIDEO: (Decimal("0.60"), 240),
    ChannelKind.API: (Decimal("1.00"), 240),
    ChannelKind.MANUAL: (Decimal("1.00"), 240),
    ChannelKind.IMPORT: (Decimal("1.00"), 240),
}


def default_required_fields() -> list[str]:
    """Seed 001: company name, title and phone — a lead missing one goes to the incomplete pool."""
    return ["company", "title", "mobile"]


def default_public_form_fields() -> list[str]:
    return ["name", "company", "title", "mobile", "email", "message"]


class Channel(TimestampedModel):
    name = models.CharField(_("名称"), max_length=100)
    slug = models.SlugField(_("标识"), max_length=50, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=ChannelKind.choices)
    weight = models.DecimalField(_("渠道权重"), max_digits=4, decimal_places=2, default=1)
    required_fields = models.JSONField(
        _("必填字段"),
        default=default_required_fields,
        blank=True,
        help_text=_("如 company, title, mobile"),
    )
    response_window_minutes = models.PositiveIntegerField(_("响应时限(分钟)"), default=240)
    routing_policy = models.CharField(_("分配策略"), max_length=30, default="round_robin")
    intake_key = models.CharField(_("接入密钥"), max_length=64, default=new_intake_key, unique=True)
    alias_map = models.JSONField(
        _("字段别名"),
        default=dict,
        blank=True,
        help_text=_('对方字段名 → 线索字段,如 {"手机号": "mobile"};优先于系统默认别名'),
    )
    active = models.BooleanField(_("启用"), default=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("每分钟接入上限"), default=600, help_text=_("0 表示不限")
    )
    source_tag = models.CharField(
        _("来源标签"), max_length=50, blank=True, help_text=_("留空则用“来源-渠道名称”")
    )
    nurture_low_intent = models.BooleanField(
        _("低意向进入培育池"),
        default=False,
        help_text=_("开启后,意向分低于培育阈值的线索不分配,进入培育池"),
    )
    public_form_enabled = models.BooleanField(_("开放公开表单"), default=False)
    public_form_title = models.CharField(_("表单标题"), max_length=100, blank=True)
    public_form_intro = models.TextField(_("表单说明"), blank=True)
    public_form_fields = models.JSONField(
        _("表单字段"), default=default_public_form_fields, blank=True
    )
    #: when the sweeper next clears this channel's expired idempotency keys and rate windows
    housekeeping_due_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("渠道")
        verbose_name_plural = _("渠道")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from jiepai.intake.aliases import check_alias_map, check_field_list

        errors: dict[str, str] = {}
        for name in ("required_fields", "public_form_fields"):
            problem = check_field_list(getattr(self, name))
            if problem:
                errors[name] = problem
        problem = check_alias_map(self.alias_map)
        if problem:
            errors["alias_map"] = problem
        if errors:
            raise ValidationError(errors)

    @property
    def effective_source_tag(self) -> str:
        return self.source_tag or f"来源-{self.name}"[:50]


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
    # No index on mobile or email: duplicates are found through the dedup key table, and the
    # list's search is `icontains`, which no b-tree serves; each index cost every intake an
    # insertion twice (the INSERT, then routing's UPDATE of owner and state, which cannot be HOT).
    mobile = models.CharField(_("手机"), max_length=40, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
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
    # indexed in Meta (equality only: PostgreSQL's extra LIKE-prefix index had no reader)
    visitor_id = models.CharField(_("访客编号"), max_length=64, blank=True)
    state = models.CharField(
        _("状态"), max_length=20, choices=LeadState.choices, default=LeadState.UNASSIGNED
    )
    score = models.FloatField(_("线索评分"), default=0)
    intent_score = models.FloatField(_("意向分"), default=0)
    raw_payload = models.JSONField(_("原始数据"), default=dict, blank=True)
    missing_fields = models.JSONField(_("缺失字段"), default=list, blank=True)
    field_errors = models.JSONField(
        _("无效字段"),
        default=dict,
        blank=True,
        help_text=_("接入时无法识别的值(原值保留在原始数据中)"),
    )
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
            # A rep's load (active leads: state and owner), counted at every routing decision:
            # without it the count walks every lead the rep ever owned (14 ms a decision on SQLite
            # with 18,000 owned leads, growing) or every active lead of everybody. State first:
            # it extends lead_state_created_idx, so PostgreSQL prefers it whatever its statistics
            # say about how many leads are active.
            models.Index(fields=["state", "owner"], name="lead_state_owner_idx"),
            # a visitor's behaviour attaching to the lead made from them (equality lookups)
            models.Index(fields=["visitor_id"], name="lead_visitor_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.company or self.mobile or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("intake:lead_detail", args=[self.pk])


class TagRule(TimestampedModel):
    """ "When a lead arrives and <condition> holds, tag it <tag_name>" (seed 001: a web-form lead
    whose page URL contains /product/plc → PLC高意向). The condition is a simpleeval expression
    over the names in jiepai.intake.conditions.CONDITION_NAMES, checked when saved."""

    name = models.CharField(_("名称"), max_length=100)
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("渠道"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tag_rules",
        help_text=_("留空则对所有渠道生效"),
    )
    condition = models.TextField(
        _("条件"),
        help_text=_('如 kind == "web_form" and "/product/plc" in page_url'),
    )
    tag_name = models.CharField(_("标签"), max_length=50)
    active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("自动打标规则")
        verbose_name_plural = _("自动打标规则")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from jiepai.intake.conditions import condition_error

        problem = condition_error(self.condition)
        if problem:
            raise ValidationError({"condition": problem})
        if not self.tag_name.strip():
            raise ValidationError({"tag_name": _("请填写标签")})


class IntentConfig(TimestampedModel):
    """The intent-score weights and thresholds (one row). Defaults are seed 004's formula:
    0.3 × WeChat interactions + 0.5 × (site stay ≥ 3 min) + 1.2 × whitepaper downloads;
    below 2.5 → nurture pool, from 5.0 → direct to sales; and seed 001's "high intent": a stay over
    120 s plus a whitepaper download. The lead score mixes channel weight, completeness and intent."""

    wechat_weight = models.FloatField(_("微信互动权重"), default=0.3)
    stay_weight = models.FloatField(_("官网停留权重"), default=0.5)
    stay_threshold_seconds = models.PositiveIntegerField(_("官网停留达标(秒)"), default=180)
    download_weight = models.FloatField(_("白皮书下载权重"), default=1.2)
    download_kinds = models.JSONField(
        _("计分的下载类型"), default=list, blank=True, help_text=_("默认 whitepaper")
    )
    video_weight = models.FloatField(_("视频观看权重"), default=0.0)
    nurture_below = models.FloatField(_("培育池阈值(低于)"), default=2.5)
    direct_at = models.FloatField(_("直接给销售阈值(不低于)"), default=5.0)
    high_intent_stay_seconds = models.PositiveIntegerField(_("高意向停留(秒,超过)"), default=120)
    high_intent_tag = models.CharField(_("高意向标签"), max_length=50, default="高意向")
    score_completeness_points = models.FloatField(_("评分:资料完整度分值"), default=60)
    score_intent_points = models.FloatField(_("评分:意向分值"), default=40)

    class Meta:
        verbose_name = _("意向评分配置")
        verbose_name_plural = _("意向评分配置")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nurture_below__lte=models.F("direct_at")),
                name="intent_config_thresholds_ordered",
                violation_error_message=_("培育池阈值不能高于直接给销售阈值"),
            ),
        ]

    def __str__(self) -> str:
        return str(_("意向评分配置"))

    @classmethod
    def current(cls) -> IntentConfig:
        config = cls.objects.order_by("id").first()
        return config if config is not None else cls(download_kinds=["whitepaper"])

    @property
    def counted_download_kinds(self) -> list[str]:
        return list(self.download_kinds or ["whitepaper"])


class BehaviourKind(models.TextChoices):
    PAGE_VIEW = "page_view", _("页面浏览")
    DOWNLOAD = "download", _("资料下载")
    VIDEO_VIEW = "video_view", _("视频观看")
    WECHAT_MESSAGE = "wechat_message", _("微信互动")
    FORM_SUBMIT = "form_submit", _("表单提交")
    OTHER = "other", _("其他")


class BehaviourEvent(models.Model):
    """Something a person did on a site, in WeChat or with our material: tied to a lead, or to an
    anonymous visitor id until a lead with that visitor id arrives (then it attaches to the lead)."""

    occurred_at = models.DateTimeField(_("发生时间"))
    received_at = models.DateTimeField(_("接收时间"))
    kind = models.CharField(_("类型"), max_length=20, choices=BehaviourKind.choices)
    channel = models.ForeignKey(
        Channel, verbose_name=_("渠道"), null=True, blank=True, on_delete=models.SET_NULL
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("线索"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="behaviour_events",
    )
    visitor_id = models.CharField(_("访客编号"), max_length=64, blank=True)
    url = models.CharField(_("网址"), max_length=500, blank=True)
    seconds = models.PositiveIntegerField(_("时长(秒)"), default=0)
    asset = models.CharField(_("资料"), max_length=200, blank=True)
    asset_kind = models.CharField(_("资料类型"), max_length=30, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("行为事件")
        verbose_name_plural = _("行为事件")
        indexes = [
            models.Index(fields=["lead", "kind"], name="behaviour_lead_kind_idx"),
            models.Index(
                fields=["visitor_id"],
                name="behaviour_anon_visitor_idx",
                condition=models.Q(lead__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.lead_id or self.visitor_id}"


class IdempotencyKey(models.Model):
    """The first answer given to (channel, Idempotency-Key). The unique constraint is what makes a
    concurrent repeat safe: the second INSERT waits for the first transaction and then fails."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL)
    status_code = models.PositiveSmallIntegerField(default=201)
    response = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class RateWindow(models.Model):
    """A fixed-window request counter per channel, shared by every web worker through the DB."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    bucket = models.BigIntegerField()  # epoch seconds // window length
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-bucket"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "bucket"], name="rate_window_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.bucket}: {self.count}"


class RejectedReason(models.TextChoices):
    BAD_JSON = "bad_json", _("JSON 格式错误")
    BAD_FORM = "bad_form", _("表单格式错误")
    BAD_ENCODING = "bad_encoding", _("字符编码无法识别")
    UNSUPPORTED = "unsupported", _("不支持的内容类型")
    NOT_AN_OBJECT = "not_an_object", _("内容不是对象")
    TOO_LARGE = "too_large", _("内容超过大小上限")
    NO_CONTACT = "no_contact", _("没有任何联系信息")
    BAD_HEADER = "bad_header", _("请求头无效")
    BAD_EVENTS = "bad_events", _("行为事件无效")
    ERROR = "error", _("处理出错")


class RejectedStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    REPLAYED = "replayed", _("已重新接入")
    DISCARDED = "discarded", _("已丢弃")


class RejectedIntake(models.Model):
    """A payload a channel sent that could not become a lead, kept as received (up to the size
    limit) with the reason, for an admin to look at, fix and replay."""

    received_at = models.DateTimeField(_("接收时间"), db_index=True)
    channel = models.ForeignKey(
        Channel, verbose_name=_("渠道"), null=True, blank=True, on_delete=models.SET_NULL
    )
    endpoint = models.CharField(_("入口"), max_length=20, default="intake")
    reason = models.CharField(_("原因"), max_length=20, choices=RejectedReason.choices)
    detail = models.TextField(_("说明"), blank=True)
    content_type = models.CharField(_("内容类型"), max_length=100, blank=True)
    body_text = models.TextField(_("内容"), blank=True)
    body_bytes = models.BinaryField(_("原始字节"), blank=True, default=bytes)
    truncated = models.BooleanField(_("已截断"), default=False)
    idempotency_key = models.CharField(_("幂等键"), max_length=255, blank=True)
    remote_addr = models.CharField(_("来源地址"), max_length=64, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=300, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=RejectedStatus.choices, default=RejectedStatus.OPEN
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lead = models.ForeignKey(
        Lead, verbose_name=_("线索"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("拒收记录")
        verbose_name_plural = _("拒收记录")
        indexes = [models.Index(fields=["status", "-received_at"], name="rejected_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} @ {self.received_at:%Y-%m-%d %H:%M}"
