"""Abstract bases shared by the domain models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class OwnedRecord(TimestampedModel):
    """A record somebody owns; visibility (jiepai.org.visibility) is decided from these columns.

    `teams` is the cross-department project-team share; `shared_with` shares with single people.
    `custom` holds the values of admin-defined custom fields, validated by jiepai.customfields.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("共享给"), blank=True, related_name="+"
    )
    teams = models.ManyToManyField(
        "org.Team", verbose_name=_("项目组"), blank=True, related_name="+"
    )
    custom = models.JSONField(_("自定义字段"), default=dict, blank=True)
    external_id = models.CharField(_("外部编号"), max_length=100, blank=True, db_index=True)

    class Meta:
        abstract = True
