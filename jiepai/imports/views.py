"""Import pages: upload → confirm the mapping (try ten rows) → run in the background with a
progress bar → results, the rejected rows as .xlsx, unmatched options added in one click.
Exports of the list pages and the per-entity templates are here too."""

from __future__ import annotations

import tempfile
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from jiepai.core.entities import ENTITY_LABELS
from jiepai.customfields.models import FieldDefinition
from jiepai.customfields.services import add_option
from jiepai.imports import exports, services
from jiepai.imports.fields import ENTITIES, describe, field_specs
from jiepai.imports.models import DuplicatePolicy, ImportJob, ImportMapping, ImportStatus
from jiepai.imports.readers import EXTENSIONS, ReadError
from jiepai.imports.reports import write_error_report, write_template

#: multipart framing around the file, allowed on top of the size limit
_FRAMING = 64 * 1024


def _job(request: HttpRequest, public_id: Any) -> ImportJob:
    job = services.visible_jobs(request.user).filter(public_id=public_id).first()
    if job is None:
        raise Http404
    return job


def _is_admin(user: Any) -> bool:
    return bool(user.is_superuser or getattr(user, "role", "") == "admin")


def _limit_mb() -> int:
    return settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)


def _too_large(request: HttpRequest) -> HttpResponse:
    return _job_list(
        request,
        error=_("文件超过上传上限 %(mb)d MB,请拆分后再导入,或由管理员用命令行导入")
        % {"mb": _limit_mb()},
        status=413,
    )


class SizeLimitHandler(FileUploadHandler):
    """Stops reading an upload past the limit (for bodies that did not announce their size);
    the rest of the body is read and thrown away, and the view answers with the limit."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.import_too_large = True  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


# --- pages ------------------------------------------------------------------------------------


def _job_list(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    jobs = services.visible_jobs(request.user)[:20]
    return render(
        request,
        "imports/job_list.html",
        {
            "jobs": jobs,
            "entities": [(e, ENTITY_LABELS[e]) for e in ENTITIES],
            "policies": DuplicatePolicy.choices,
            "mappings": ImportMapping.objects.all(),
            "error": error,
            "accept": ",".join(EXTENSIONS),
            "limit_mb": _limit_mb(),
        },
        status=status,
    )


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    return _job_list(request)


@csrf_exempt
@login_required
def upload(request: HttpRequest) -> HttpResponse:
    # The size is checked before the body is read (and so before the CSRF check reads it).
    if request.method != "POST":
        return redirect("imports:list")
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.IMPORT_MAX_UPLOAD_BYTES + _FRAMING:
        return _too_large(request)
    request.upload_handlers.insert(0, SizeLimitHandler(request, settings.IMPORT_MAX_UPLOAD_BYTES))
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    entity = request.POST.get("entity", "")
    upload_file = request.FILES.get("file")  # reading the body runs SizeLimitHandler
    if getattr(request, "import_too_large", False):
        return _too_large(request)
    policy = request.POST.get("on_duplicate", DuplicatePolicy.SKIP)
    if entity not in ENTITIES:
        return _job_list(request, error=_("请选择导入对象"), status=400)
    if upload_file is None:
        return _job_list(request, error=_("请选择文件"), status=400)
    if policy not in DuplicatePolicy.values:
        policy = DuplicatePolicy.SKIP
    try:
        job = services.create_job(
            actor=request.user,
            entity=entity,
            filename=upload_file.name or "upload",
            upload=upload_file,
            on_duplicate=policy,
            mapping_name=request.POST.get("mapping", ""),
        )
    except ReadError as exc:
        return _job_list(request, error=exc.message, status=400)
    return redirect(job)


def _mapping_rows(job: ImportJob) -> list[dict[str, Any]]:
    return [
        {
            "index": index,
            "header": header,
            "samples": [row[index] for row in job.samples if index < len(row) and row[index]],
            "field": job.mapping.get(str(index), ""),
        }
        for index, header in enumerate(job.headers)
    ]


@login_required
def job_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    job = _job(request, public_id)
    specs = field_specs(job.entity)
    context: dict[str, Any] = {
        "job": job,
        "entity_label": ENTITY_LABELS[job.entity],
        "policies": DuplicatePolicy.choices,
        "problems": services.mapping_problems(job) if job.status == ImportStatus.UPLOADED else [],
        "is_admin": _is_admin(request.user),
    }
    if job.status == ImportStatus.UPLOADED:
        context["columns"] = _mapping_rows(job)
        context["fields"] = [(s.key, describe(s)) for s in specs]
    if job.status in (ImportStatus.DONE, ImportStatus.FAILED):
        context["issues"] = job.row_results.exclude(outcome="created")[:200]
        context["unmatched"] = _unmatched(job)
    return render(request, "imports/job.html", context)


def _unmatched(job: ImportJob) -> list[dict[str, Any]]:
    found = []
    for key, values in (job.unmatched or {}).items():
        definition = FieldDefinition.objects.filter(entity=job.entity, key=key).first()
        if definition is None:
            continue
        allowed = {str(o["value"]) for o in definition.options}
        for value, count in values.items():
            if value in allowed:
                continue
            found.append(
                {
                    "definition": definition,
                    "value": value,
                    "count": count,
                    "options": definition.options,
                }
            )
    return found


@require_POST
@login_required
def job_mapping(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Save the mapping; then try ten rows ("trial") or start the full run ("start")."""
    job = _job(request, public_id)
    if job.status != ImportStatus.UPLOADED:
        return redirect(job)
    valid = {s.key for s in field_specs(job.entity)}
    mapping = {}
    for index in range(len(job.headers)):
        key = request.POST.get(f"column_{index}", "")
        if key in valid:
            mapping[index] = key
    policy = request.POST.get("on_duplicate", job.on_duplicate)
    services.set_mapping(
        job,
        mapping=mapping,
        on_duplicate=policy if policy in DuplicatePolicy.values else job.on_duplicate,
        save_as=request.POST.get("save_as", ""),
    )
    problems = services.mapping_problems(job)
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return redirect(job)
    if request.POST.get("action") == "start":
        services.queue_job(job)
        return redirect(job)
    try:
        services.trial_job(job, now=timezone.now())
    except ReadError as exc:
        messages.error(request, exc.message)
    return redirect(f"{job.get_absolute_url()}#trial")


@login_required
def job_progress(request: HttpRequest, public_id: Any) -> HttpResponse:
    job = _job(request, public_id)
    response = render(request, "imports/job.html#progress", {"job": job})
    if job.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # show the results page
    return response


@require_POST
@login_required
def job_rerun(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Run again (after a failure, or after options were added): written rows are skipped."""
    job = _job(request, public_id)
    if job.is_finished or job.is_stale:
        services.queue_job(job)
    return redirect(job)


@login_required
def job_report(request: HttpRequest, public_id: Any) -> HttpResponse:
    job = _job(request, public_id)
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_error_report(job, handle)
    handle.seek(0)
    name = f"{job.original_name.rsplit('.', 1)[0]}-未导入的行.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name)


@require_POST
@login_required
def add_unmatched_option(request: HttpRequest, public_id: Any) -> HttpResponse:
    """An admin adds an import's unmatched value as a new option (or a synonym) in one click."""
    if not _is_admin(request.user):
        raise PermissionDenied
    job = _job(request, public_id)
    definition = FieldDefinition.objects.filter(
        entity=job.entity, key=request.POST.get("field", "")
    ).first()
    if definition is None:
        raise Http404
    value = request.POST.get("value", "")
    try:
        add_option(
            definition,
            value=value,
            synonym_of=request.POST.get("synonym_of", ""),
            actor=request.user,
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(job)
    messages.success(
        request,
        _("已把“%(value)s”加入“%(field)s”;重新运行即可导入这些行")
        % {"value": value, "field": definition.label},
    )
    return redirect(job)


@login_required
def template_download(request: HttpRequest, entity: str) -> HttpResponse:
    if entity not in ENTITIES:
        raise Http404
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_template(entity, handle)
    handle.seek(0)
    name = f"{ENTITY_LABELS[entity]}导入模板.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name)


@login_required
def export(request: HttpRequest, entity: str, fmt: str) -> HttpResponse:
    if entity not in exports.SOURCES or fmt not in ("xlsx", "csv"):
        raise Http404
    queryset = exports.export_queryset(entity, request.user, request.GET)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{ENTITY_LABELS[entity]}-{stamp}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_chunks(entity, queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = _attachment(name)
        return response
    try:
        handle = exports.xlsx_file(entity, queryset)
    except exports.ExportError as exc:
        messages.error(request, exc.message)
        return redirect(_list_url(entity))
    return FileResponse(handle, as_attachment=True, filename=name)


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"


def _list_url(entity: str) -> str:
    return reverse(
        {
            "account": "customers:account_list",
            "contact": "customers:contact_list",
            "lead": "intake:lead_list",
            "opportunity": "pipeline:opportunity_list",
        }[entity]
    )
