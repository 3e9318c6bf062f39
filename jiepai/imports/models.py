"""Imports: a job per uploaded file, the ledger that makes re-runs idempotent, per-row outcomes.

- `ImportJob`: one file imported into one entity, with its column mapping, duplicate policy,
  status and counters (the progress bar polls them).
- `ImportLedger`: one row per imported source row, unique on (entity, key), where the key is the
  row's external id when one is mapped, else a hash of the normalised row. Re-running a file finds
  its rows here and writes no second copy; the unique constraint decides when two runs race.
- `ImportRowResult`: every row of a run that was not simply created (rejected with its original
  cells and errors, skipped as a duplicate, merged, flagged, already imported): the error report
  and the result page read it.
- `ImportMapping`: a named, saved header → field mapping for the next file of the same shape.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiepai.core.entities import ENTITY_CHOICES
from jiepai.core.models import TimestampedModel

#: a running job that wrote no progress for this long has lost its worker
STALE_AFTER = datetime.timedelta(minutes=10)


def private_storage() -> FileSystemStorage:
    """Uploaded sheets hold customer data: they are kept under var/imports, outside MEDIA_ROOT,
    so no web server ever serves them; only the import pages read them."""
    return FileSystemStorage(location=Path(settings.VAR_DIR) / "imports")


def upload_path(instance: ImportJob, filename: str) -> str:
    return f"{timezone.now():%Y/%m}/{uuid.uuid4().hex}/{filename}"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("待确认映射")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", _("跳过重复")
    MERGE = "merge", _("合并到已有记录")
    FLAG = "flag", _("保留两条并标记疑似重复")


class RowOutcome(models.TextChoices):
    CREATED = "created", _("新建")
    MERGED = "merged", _("已合并")
    FLAGGED = "flagged", _("新建并标记疑似重复")
    SKIPPED = "skipped", _("重复已跳过")
    UNCHANGED = "unchanged", _("此前已导入")
    FAILED = "failed", _("未导入")


class ImportMapping(TimestampedModel):
    entity = models.CharField(_("对象"), max_length=20, choices=ENTITY_CHOICES)
    name = models.CharField(_("名称"), max_length=100)
    columns = models.JSONField(_("表头对应"), default=dict, help_text=_("表头文字 → 字段"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["entity", "name"]
        verbose_name = _("导入映射")
        verbose_name_plural = _("导入映射")
        constraints = [
            models.UniqueConstraint(fields=["entity", "name"], name="import_mapping_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(TimestampedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entity = models.CharField(_("对象"), max_length=20, choices=ENTITY_CHOICES)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(
        _("文件"), storage=private_storage, upload_to=upload_path, max_length=300, blank=True
    )
    source_path = models.CharField(_("本地路径"), max_length=500, blank=True)
    original_name = models.CharField(_("文件名"), max_length=255)
    sheet_name = models.CharField(_("工作表"), max_length=100, blank=True)
    header_row = models.PositiveIntegerField(_("表头行"), default=1)
    headers = models.JSONField(_("表头"), default=list, blank=True)
    mapping = models.JSONField(_("字段对应"), default=dict, blank=True)
    samples = models.JSONField(_("示例行"), default=list, blank=True)
    on_duplicate = models.CharField(
        _("重复处理"), max_length=10, choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    message = models.TextField(_("说明"), blank=True)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理"), default=0)
    created_count = models.PositiveIntegerField(_("新建"), default=0)
    merged_count = models.PositiveIntegerField(_("合并"), default=0)
    flagged_count = models.PositiveIntegerField(_("标记重复"), default=0)
    skipped_count = models.PositiveIntegerField(_("跳过"), default=0)
    unchanged_count = models.PositiveIntegerField(_("此前已导入"), default=0)
    failed_count = models.PositiveIntegerField(_("未导入"), default=0)
    unmatched = models.JSONField(_("未匹配的选项值"), default=dict, blank=True)
    trial = models.JSONField(_("试导入结果"), default=list, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        indexes = [models.Index(fields=["created_by", "-created_at"], name="import_job_user_idx")]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("imports:job", args=[self.public_id])

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def is_stale(self) -> bool:
        """Running, but no progress written for STALE_AFTER: its worker is gone."""
        return (
            self.status == ImportStatus.RUNNING and self.updated_at < timezone.now() - STALE_AFTER
        )

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class ImportLedger(models.Model):
    entity = models.CharField(max_length=20)
    key = models.CharField(max_length=120)
    row_hash = models.CharField(max_length=64)
    record_id = models.BigIntegerField()
    outcome = models.CharField(max_length=10, choices=RowOutcome.choices)
    job = models.ForeignKey(ImportJob, on_delete=models.SET_NULL, null=True, related_name="+")
    row_number = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            # The idempotency guard: a source row is written once per entity, whoever runs it.
            models.UniqueConstraint(fields=["entity", "key"], name="import_ledger_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entity}:{self.key}"


class ImportRowResult(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_results")
    row_number = models.PositiveIntegerField(_("行号"))
    outcome = models.CharField(_("结果"), max_length=10, choices=RowOutcome.choices)
    values = models.JSONField(_("原始数据"), default=list, blank=True)
    errors = models.JSONField(_("问题"), default=list, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    duplicate_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["job", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="import_row_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.row_number} {self.outcome}"
