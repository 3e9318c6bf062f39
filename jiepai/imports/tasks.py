"""Background work of imports: the full run of a job (progress is on the ImportJob row)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from jiepai.imports.models import ImportJob
from jiepai.imports.services import route_created_leads, run_job


@task()
def run_import_job(job_id: int) -> str:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    return run_job(job).status


@task()
def route_imported_leads(job_id: int) -> int:
    """Route again the leads a job created that still have no owner (the import routes them
    when it ends); returns how many were routed."""
    job = ImportJob.objects.filter(pk=job_id).select_related("created_by").first()
    if job is None:
        return 0
    counts = route_created_leads(job, now=timezone.now())
    return sum(counts.get(k, 0) for k in ("assigned", "offered", "unassigned"))
