"""Admin-defined extra fields per entity; values live in the record's `custom` JSON."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jiepai.core.entities import ENTITY_CHOICES
from jiepai.core.models import TimestampedModel


class FieldType(models.TextChoices):
    TEXT = "text", _("文本")
    NUMBER = "number", _("数字")
    MONEY = "money", _("金额")
    DATE = "date", _("日期")
    DATETIME = "datetime", _("日期时间")
    SELECT = "select", _("单选")
    MULTISELECT = "multiselect", _("多选")
    FILE = "file", _("文件")
    USER = "user", _("人员")


class FieldDefinition(TimestampedModel):
    """One custom field. `options` is a list of {"value", "label", "synonyms": [...]}."""

    entity = models.CharField(_("对象"), max_length=20, choices=ENTITY_CHOICES)
    key = models.SlugField(
        _("字段键"), max_length=50, help_text=_("英文字母、数字和下划线,保存后不可修改")
    )
    label = models.CharField(_("名称"), max_length=100)
    label_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    field_type = models.CharField(_("类型"), max_length=20, choices=FieldType.choices)
    options = models.JSONField(_("选项"), default=list, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    unique = models.BooleanField(_("唯一"), default=False)
    max_length = models.PositiveIntegerField(_("最大长度"), default=500)
    help_text = models.CharField(_("说明"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("顺序"), default=0)
    show_in_list = models.BooleanField(_("在列表中显示"), default=False)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["entity", "position", "id"]
        verbose_name = _("自定义字段")
        verbose_name_plural = _("自定义字段")
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="customfield_entity_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_entity_display()}·{self.label}"

    def option_values(self) -> list[str]:
        return [str(o["value"]) for o in self.options]


class UniqueValue(models.Model):
    """The database guard for `unique` custom fields: one row per (field, normalised value)."""

    definition = models.ForeignKey(FieldDefinition, on_delete=models.CASCADE, related_name="+")
    value_key = models.CharField(max_length=255)
    object_id = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "value_key"], name="customfield_value_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["definition", "object_id"], name="customfield_value_obj_idx")
        ]
