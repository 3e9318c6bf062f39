"""Background work of imports: the full run of a job (progress is on the ImportJob row)."""

from __future__ import annotations

from django_tasks import task

from jiepai.imports.models import ImportJob
from jiepai.imports.services import run_job


@task()
def run_import_job(job_id: int) -> str:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    return run_job(job).status
