"""Files attached to records: quotes, contract drafts, qualification documents (with expiry)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiepai.core.entities import ENTITY_CHOICES
from jiepai.core.models import TimestampedModel


class DocumentKind(models.TextChoices):
    QUOTE = "quote", _("报价单")
    CONTRACT_DRAFT = "contract_draft", _("合同草案")
    CONTRACT = "contract", _("合同")
    PROPOSAL = "proposal", _("方案")
    QUALIFICATION = "qualification", _("资质文件")
    AUDIO = "audio", _("录音")
    OTHER = "other", _("其他")


class Attachment(TimestampedModel):
    entity = models.CharField(_("对象"), max_length=20, choices=ENTITY_CHOICES)
    object_id = models.BigIntegerField()
    kind = models.CharField(
        _("文件类型"), max_length=30, choices=DocumentKind.choices, default="other"
    )
    file = models.FileField(_("文件"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小"), default=0)
    expires_on = models.DateField(_("到期日"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        indexes = [models.Index(fields=["entity", "object_id"], name="attachment_obj_idx")]

    def __str__(self) -> str:
        return self.original_name
