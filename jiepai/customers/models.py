"""Accounts (companies, hospitals) and their contacts (people with a role on the decision chain)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import OwnedRecord


class Account(OwnedRecord):
    name = models.CharField(_("客户名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=100, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, db_index=True)
    industry = models.CharField(_("行业"), max_length=50, blank=True, db_index=True)
    province = models.CharField(_("省份"), max_length=30, blank=True)
    city = models.CharField(_("城市"), max_length=30, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    phone = models.CharField(_("电话"), max_length=40, blank=True)
    website = models.CharField(_("网站"), max_length=200, blank=True)
    tier = models.CharField(_("客户分级"), max_length=20, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        indexes = [models.Index(fields=["owner", "-updated_at"], name="account_owner_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:account_detail", args=[self.pk])


class ContactRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("决策人")
    INFLUENCER = "influencer", _("影响人")
    TECHNICAL = "technical", _("技术评估")
    PROCUREMENT = "procurement", _("采购")
    USER = "user", _("使用人")
    CHAMPION = "champion", _("内部支持者")
    GATEKEEPER = "gatekeeper", _("把关人")
    OTHER = "other", _("其他")


class Contact(OwnedRecord):
    account = models.ForeignKey(
        Account,
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职位"), max_length=50, blank=True)
    department_name = models.CharField(_("科室/部门"), max_length=50, blank=True)
    role = models.CharField(_("决策链角色"), max_length=20, choices=ContactRole.choices, blank=True)
    decision_weight = models.PositiveSmallIntegerField(
        _("决策权重"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    mobile = models.CharField(_("手机"), max_length=40, blank=True)
    phone = models.CharField(_("座机"), max_length=40, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
    wechat = models.CharField(_("微信"), max_length=50, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        indexes = [models.Index(fields=["owner", "-updated_at"], name="contact_owner_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision_weight__lte=100), name="contact_decision_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:contact_detail", args=[self.pk])
