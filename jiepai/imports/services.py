"""Import jobs: keep the file and guess the mapping, try ten rows, run the whole file, resume.

The row-by-row work is jiepai.imports.runner.ImportRunner; this module drives it for a job.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.imports.cells import cell_text
from jiepai.imports.fields import (
    auto_map,
    field_specs,
    header_score,
    missing_required,
)
from jiepai.imports.models import (
    STALE_AFTER,
    DuplicatePolicy,
    ImportJob,
    ImportLedger,
    ImportMapping,
    ImportStatus,
    RowOutcome,
)
from jiepai.imports.readers import ReadError, Table, open_table
from jiepai.imports.runner import ImportRunner, RowResult, max_rows
from jiepai.org.models import User
from jiepai.routing.batch import route_leads

logger = logging.getLogger(__name__)

TRIAL_ROWS = 10
HEADER_SEARCH_ROWS = 10

# --- reading a job's file ---------------------------------------------------------------------


@dataclass
class SheetPreview:
    table: Table
    header_row: int
    headers: list[Any]
    samples: list[list[Any]]  # the first rows under the header


def job_path(job: ImportJob) -> Path:
    return Path(job.source_path) if job.source_path else Path(job.file.path)


def read_sheet(path: Path, *, filename: str, entity: str) -> SheetPreview:
    """Open the file, find the header row (the one of the first rows naming the most fields)
    and a few sample rows; ReadError for an empty sheet or a header without data."""
    table = open_table(path, filename=filename, max_rows=max_rows())
    specs = field_specs(entity)
    head: list[tuple[int, list[Any]]] = list(islice(table.rows(), HEADER_SEARCH_ROWS + 5))
    if not head:
        raise ReadError(_("工作表“%(name)s”是空的") % {"name": table.sheet_name or filename})
    candidates = head[:HEADER_SEARCH_ROWS]
    scores = [header_score(cells, specs, entity) for _n, cells in candidates]
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    header_row, headers = candidates[best]
    samples = [cells for number, cells in head if number > header_row][:5]
    if not samples:
        raise ReadError(_("只有表头,没有数据行"))
    width = max(len(headers), *(len(s) for s in samples))
    headers = [*headers, *[""] * (width - len(headers))]
    return SheetPreview(table=table, header_row=header_row, headers=headers, samples=samples)


def data_rows(table: Table, header_row: int) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in table.rows():
        if number > header_row:
            yield number, cells


# --- jobs -------------------------------------------------------------------------------------


def create_job(
    *,
    actor: User,
    entity: str,
    filename: str,
    upload: UploadedFile | None = None,
    source_path: str = "",
    on_duplicate: str = DuplicatePolicy.SKIP,
    mapping_name: str = "",
) -> ImportJob:
    """Keep the file, read its header and guess the mapping; ReadError for a bad file (the
    uploaded copy is then removed, and no job is left behind)."""
    job = ImportJob(
        entity=entity,
        created_by=actor,
        original_name=filename[:255],
        source_path=source_path,
        on_duplicate=on_duplicate,
    )
    if upload is not None:
        job.file.save(filename, upload, save=False)
    try:
        preview = read_sheet(job_path(job), filename=filename, entity=entity)
    except ReadError:
        if upload is not None:
            job.file.delete(save=False)
        raise
    saved = None
    if mapping_name:
        saved = ImportMapping.objects.filter(entity=entity, name=mapping_name).first()
    specs = field_specs(entity)
    job.sheet_name = preview.table.sheet_name
    job.header_row = preview.header_row
    job.headers = [cell_text(h) for h in preview.headers]
    job.samples = [[cell_text(c) for c in row] for row in preview.samples[:3]]
    job.mapping = {
        str(c): k
        for c, k in auto_map(
            preview.headers, specs, entity, saved.columns if saved else None
        ).items()
    }
    job.total_rows = max(preview.table.row_count - preview.header_row, len(preview.samples))
    job.save()
    return job


def mapping_problems(job: ImportJob) -> list[str]:
    specs = field_specs(job.entity)
    mapping = {int(c): k for c, k in job.mapping.items() if k}
    problems = [
        _("必填字段“%(label)s”还没有对应的列") % {"label": spec.label}
        for spec in missing_required(mapping, specs)
    ]
    counts = Counter(mapping.values())
    by_key = {s.key: s for s in specs}
    problems += [
        _("“%(label)s”对应了多列") % {"label": by_key[k].label if k in by_key else k}
        for k, n in counts.items()
        if n > 1
    ]
    problems += [_("没有字段“%(key)s”") % {"key": k} for k in mapping.values() if k not in by_key]
    return problems


def set_mapping(
    job: ImportJob, *, mapping: dict[int, str], on_duplicate: str, save_as: str = ""
) -> ImportJob:
    job.mapping = {str(c): k for c, k in mapping.items() if k}
    job.on_duplicate = on_duplicate
    job.save(update_fields=["mapping", "on_duplicate", "updated_at"])
    if save_as.strip():
        columns = {job.headers[c]: k for c, k in mapping.items() if k and c < len(job.headers)}
        ImportMapping.objects.update_or_create(
            entity=job.entity,
            name=save_as.strip()[:100],
            defaults={"columns": columns, "created_by": job.created_by},
        )
    return job


def runner_for(
    job: ImportJob, table: Table, *, persist: bool, now: datetime.datetime
) -> ImportRunner:
    assert job.created_by is not None
    return ImportRunner(
        entity=job.entity,
        actor=job.created_by,
        mapping={int(c): k for c, k in job.mapping.items()},
        headers=job.headers,
        on_duplicate=job.on_duplicate,
        now=now,
        job=job if persist else None,
        formula_cells=table.formula_cells,
    )


def trial_job(job: ImportJob, *, now: datetime.datetime | None = None) -> list[RowResult]:
    """Run the first ten data rows through everything (validation, duplicates, database
    constraints) and roll back: per-row results, nothing written."""
    now = now or timezone.now()
    table = open_table(job_path(job), filename=job.original_name, max_rows=max_rows())
    runner = runner_for(job, table, persist=False, now=now)
    runner.run(islice(data_rows(table, job.header_row), TRIAL_ROWS), dry_run=True)
    job.trial = [r.as_json() for r in runner.results]
    job.save(update_fields=["trial", "updated_at"])
    return runner.results


def queue_job(job: ImportJob) -> bool:
    """Mark the job queued and hand it to the task queue; False if it is already queued or
    running (a second click does nothing)."""
    from jiepai.imports.tasks import run_import_job

    # Compare-and-set: of two clicks, only one moves the job to "queued". A run whose worker
    # died (no progress written for STALE_AFTER) may be queued again; chunks it committed stay.
    now = timezone.now()
    claimed = (
        ImportJob.objects.filter(pk=job.pk)
        .filter(
            Q(status__in=[ImportStatus.UPLOADED, ImportStatus.FAILED, ImportStatus.DONE])
            | Q(status=ImportStatus.RUNNING, updated_at__lt=now - STALE_AFTER)
        )
        .update(status=ImportStatus.QUEUED, message="", updated_at=now)
    )
    if claimed != 1:
        return False
    run_import_job.enqueue(job_id=job.pk)
    return True


def run_job(
    job: ImportJob, *, now: datetime.datetime | None = None, route: bool = True
) -> ImportJob:
    """Import the whole file, then route the leads it created (`route`). A run that stops
    half-way leaves its committed chunks (each one whole) and the job `failed`; running it
    again skips what was written (the ledger) and routes what is still unassigned."""
    now = now or timezone.now()
    # Compare-and-set: one worker takes the job; a duplicate task finds it already running.
    claimed = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportStatus.QUEUED, ImportStatus.FAILED, ImportStatus.UPLOADED]
    ).update(status=ImportStatus.RUNNING, started_at=now, finished_at=None, message="")
    job.refresh_from_db()
    if claimed != 1:
        return job
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=0,
        created_count=0,
        merged_count=0,
        flagged_count=0,
        skipped_count=0,
        unchanged_count=0,
        failed_count=0,
    )
    try:
        table = open_table(job_path(job), filename=job.original_name, max_rows=max_rows())
        runner = runner_for(job, table, persist=True, now=now)
        runner.run(data_rows(table, job.header_row))
    except ReadError as exc:
        return _fail(job, exc.message)
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        return _fail(
            job,
            _("导入中断:%(reason)s。已写入的部分完整保留,重新运行会从中断处继续。")
            % {"reason": exc},
        )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.DONE,
        finished_at=timezone.now(),
        total_rows=runner.processed,
        processed_rows=runner.processed,
        unmatched=runner.unmatched,
    )
    job.refresh_from_db()
    if route and job.entity == "lead":
        route_created_leads(job, now=now)
    return job


def imported_lead_ids(job: ImportJob) -> list[int]:
    """Leads this job created (the ledger knows them even after a resumed run)."""
    return list(
        ImportLedger.objects.filter(
            job=job, entity="lead", outcome__in=[RowOutcome.CREATED, RowOutcome.FLAGGED]
        ).values_list("record_id", flat=True)
    )


def _fail(job: ImportJob, message: str) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, finished_at=timezone.now(), message=message
    )
    job.refresh_from_db()
    return job


def route_created_leads(job: ImportJob, *, now: datetime.datetime) -> dict[str, int]:
    """Route the leads the job created that still have no owner, all at once
    (jiepai.routing.batch.route_leads: the decisions route_lead makes one by one, one summary
    notification per person). A routing failure is logged and leaves the leads in their
    queue, where the sweeper and managers see them; the import itself stands."""
    try:
        return route_leads(lead_ids=imported_lead_ids(job), now=now, actor=job.created_by)
    except Exception:
        logger.exception("routing the leads of import job %s failed", job.pk)
        return {}


def visible_jobs(user: User) -> models.QuerySet[ImportJob]:
    """An import job is seen by the person who ran it, and by admins."""
    qs = ImportJob.objects.select_related("created_by")
    if user.is_superuser or user.role == "admin":
        return qs
    return qs.filter(created_by=user)
