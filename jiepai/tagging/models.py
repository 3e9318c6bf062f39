"""Tags and their assignments to leads, accounts and contacts (with weight and expiry)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiepai.core.entities import ENTITY_CHOICES
from jiepai.core.models import TimestampedModel


class Tag(TimestampedModel):
    name = models.CharField(_("名称"), max_length=50, unique=True)
    category = models.CharField(_("分类"), max_length=30, blank=True)
    color = models.CharField(_("颜色"), max_length=20, default="blue")
    default_weight = models.FloatField(_("默认权重"), default=1.0)
    ttl_days = models.PositiveIntegerField(_("有效期(天)"), null=True, blank=True)

    class Meta:
        ordering = ["category", "name"]
        verbose_name = _("标签")
        verbose_name_plural = _("标签")

    def __str__(self) -> str:
        return self.name


class TagAssignment(TimestampedModel):
    # Every intake writes one or more assignments: only the indexes something reads are kept —
    # the unique (tag, entity, object_id), whose leading column also serves the foreign key and a
    # tag's deletion, and (entity, object_id) for a record's tags. The inherited created/updated
    # indexes and the expiry index had no reader (expiry is checked on a record's few rows).
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    entity = models.CharField(max_length=20, choices=ENTITY_CHOICES)
    object_id = models.BigIntegerField()
    weight = models.FloatField(_("权重"), default=1.0)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=50, default="manual")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("标签关联")
        verbose_name_plural = _("标签关联")
        constraints = [
            models.UniqueConstraint(
                fields=["tag", "entity", "object_id"], name="tag_assignment_unique"
            ),
        ]
        indexes = [models.Index(fields=["entity", "object_id"], name="tag_assignment_obj_idx")]

    def __str__(self) -> str:
        return f"{self.tag} → {self.entity}#{self.object_id}"
