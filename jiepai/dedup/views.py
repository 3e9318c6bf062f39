"""Pages and htmx fragments of duplicate handling: the door check, merge, review, report."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiepai.activities.models import Activity
from jiepai.core.entities import ENTITY_LABELS, model_for
from jiepai.customers.models import Account
from jiepai.customfields.models import FieldDefinition
from jiepai.dedup import merge as merging
from jiepai.dedup import services
from jiepai.dedup.forms import PolicyForm
from jiepai.dedup.keys import ENTITY_KINDS, KINDS, kind_label
from jiepai.dedup.matcher import CHECK_FIELDS, Candidate, find_duplicates
from jiepai.dedup.models import (
    DEDUP_ENTITIES,
    AccessRequest,
    ClusterStatus,
    DuplicateCluster,
    DuplicateFlag,
    FlagStatus,
    MergeRecord,
    UniqueRule,
)
from jiepai.dedup.reasons import reason_texts
from jiepai.dedup.report import reps_of, weekly_report
from jiepai.dedup.selectors import policy_for, survivor_of
from jiepai.dedup.tasks import rescan
from jiepai.org.visibility import can_see, get_visible_or_404, visible_to

MANAGER_ROLES = ("manager", "director", "admin")


def _entity(entity: str) -> str:
    if entity not in DEDUP_ENTITIES:
        raise Http404
    return entity


def _url(record: Model) -> str:
    try:
        return record.get_absolute_url()  # type: ignore[attr-defined]
    except NoReverseMatch:
        return ""


def _last_follower(entity: str, record: Model) -> Any:
    """ "最近跟进人": who logged the latest follow-up on it, else its owner."""
    activity = (
        Activity.objects.filter(**{f"{entity}_id": record.pk})
        .select_related("owner")
        .order_by("-occurred_at")
        .first()
    )
    return activity.owner if activity and activity.owner else record.owner  # type: ignore[attr-defined]


def _candidate_rows(candidates: list[Candidate], viewer: Any) -> list[dict[str, Any]]:
    rows = []
    for candidate in candidates:
        record = candidate.record
        row: dict[str, Any] = {
            "candidate": candidate,
            "label": ENTITY_LABELS.get(candidate.entity, candidate.entity),
            "follower": _last_follower(candidate.entity, record),
            "updated_at": record.updated_at,  # type: ignore[union-attr]
            "visible": candidate.visible,
            "entity": candidate.entity,
            "pk": candidate.object_id,
        }
        if candidate.visible:
            row["name"] = str(record)
            row["company"] = services.company_of(candidate.entity, record)
            row["url"] = _url(record)
            row["reasons"] = candidate.reason_texts
        else:
            # the viewer learns that it exists, who follows it up and when it last changed:
            # not its name, company or numbers (they may have typed only a mobile)
            row["pending"] = AccessRequest.objects.filter(
                entity=candidate.entity,
                object_id=candidate.object_id,
                requester=viewer,
                granted__isnull=True,
            ).exists()
        rows.append(row)
    return rows


@login_required
@require_GET
def check(request: HttpRequest, entity: str) -> HttpResponse:
    """The htmx fragment under a create form: likely duplicates of what is typed so far."""
    entity = _entity(entity)
    values = {f: request.GET.get(f, "")[:200] for f in CHECK_FIELDS[entity]}
    if entity == "contact" and not values.get("company"):
        account_id = request.GET.get("account", "")
        if account_id.isdigit():
            account = visible_to(request.user, Account.objects.filter(pk=account_id)).first()
            values["company"] = account.name if account else ""
    exclude = [int(request.GET["exclude"])] if request.GET.get("exclude", "").isdigit() else []
    typed = [v for v in values.values() if len(v.strip()) >= 2]
    candidates = (
        find_duplicates(entity, values, viewer=request.user, exclude=exclude, include_related=True)
        if typed
        else []
    )
    return render(
        request,
        "dedup/check.html",
        {"rows": _candidate_rows(candidates, request.user), "entity": entity},
    )


@login_required
@require_POST
def request_access(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    entity = _entity(entity)
    try:
        services.request_access(entity=entity, object_id=pk, requester=request.user)
    except ValidationError as error:
        return render(request, "dedup/access_requested.html", {"error": error.messages[0]})
    return render(request, "dedup/access_requested.html", {})


@login_required
def access_request(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_object_or_404(AccessRequest.objects.select_related("requester", "owner"), pk=pk)
    record = model_for(access.entity)._default_manager.filter(pk=access.object_id).first()
    if record is None or not can_see(request.user, record):
        raise Http404
    if request.method == "POST":
        try:
            services.decide_access(
                request=access, actor=request.user, grant=request.POST.get("grant") == "1"
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        messages.success(request, _("已处理"))
        return redirect("dedup:access_request", pk=pk)
    return render(
        request,
        "dedup/access_request.html",
        {"access": access, "record": record, "record_url": _url(record)},
    )


def _ids(request: HttpRequest) -> list[int]:
    raw = request.POST.getlist("ids") or request.GET.getlist("ids")
    ids = []
    for item in raw:
        for part in item.split(","):
            if part.strip().isdigit():
                ids.append(int(part))
    return list(dict.fromkeys(ids))


def _display(record: Model, field: str) -> str:
    if field.startswith("custom."):
        value = (record.custom or {}).get(field[7:])  # type: ignore[attr-defined]
        return (
            "、".join(map(str, value))
            if isinstance(value, list)
            else ("" if value is None else str(value))
        )
    model_field = record._meta.get_field(field)
    if model_field.is_relation:
        value = getattr(record, field)
        return str(value) if value is not None else ""
    if model_field.choices:
        return str(getattr(record, f"get_{field}_display")())
    value = getattr(record, field)
    return "" if value is None else str(value)


def _label(entity: str, field: str, labels: dict[str, str]) -> str:
    if field.startswith("custom."):
        return labels.get(field[7:], field[7:])
    return str(model_for(entity)._meta.get_field(field).verbose_name)


@login_required
def merge_preview(request: HttpRequest, entity: str) -> HttpResponse:
    """Fields side by side, the default choice checked (newest non-empty); POST merges."""
    entity = _entity(entity)
    ids = _ids(request)
    errors: list[str] = []
    if request.method == "POST":
        sources = {
            key[len("source:") :]: int(value)
            for key, value in request.POST.items()
            if key.startswith("source:") and value.isdigit()
        }
        survivor = request.POST.get("survivor", "")
        try:
            merge = merging.merge_records(
                entity=entity,
                ids=ids,
                actor=request.user,
                survivor_id=int(survivor) if survivor.isdigit() else None,
                sources=sources,
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, _("已合并,30 天内可撤销"))
            return redirect("dedup:merge_detail", pk=merge.pk)
    try:
        preview = merging.preview_merge(entity=entity, ids=ids, actor=request.user)
    except PermissionDenied as exc:
        raise Http404 from exc
    except ValidationError as error:
        return render(
            request,
            "dedup/merge_preview.html",
            {
                "entity": entity,
                "label": ENTITY_LABELS[entity],
                "errors": error.messages,
                "rows": [],
            },
            status=400,
        )
    labels = dict(FieldDefinition.objects.filter(entity=entity).values_list("key", "label"))
    rows = []
    for field in preview.fields:
        cells = [
            {"pk": r.pk, "value": _display(r, field), "checked": preview.sources[field] == r.pk}
            for r in preview.records
        ]
        if all(not c["value"] for c in cells):
            continue
        rows.append(
            {
                "field": field,
                "label": _label(entity, field, labels),
                "cells": cells,
                "same": len({c["value"] for c in cells}) == 1,
            }
        )
    return render(
        request,
        "dedup/merge_preview.html",
        {
            "entity": entity,
            "label": ENTITY_LABELS[entity],
            "records": [{"record": r, "url": _url(r)} for r in preview.records],
            "survivor": preview.survivor,
            "rows": rows,
            "ids": ",".join(str(r.pk) for r in preview.records),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def _merge_visible(request: HttpRequest, merge: MergeRecord) -> bool:
    model = model_for(merge.entity)
    ids = [merge.survivor_id, *merge.merged_ids]
    return visible_to(request.user, model._default_manager.filter(pk__in=ids)).count() == len(ids)


@login_required
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_object_or_404(MergeRecord.objects.select_related("actor", "undone_by"), pk=pk)
    if not _merge_visible(request, merge):
        raise Http404
    model = model_for(merge.entity)
    records = {
        r.pk: r
        for r in model._default_manager.filter(pk__in=[merge.survivor_id, *merge.merged_ids])
    }
    moved = {
        key: sum(len(v) for v in per.values())
        for key, per in merge.moved.items()
        if key != "_tombstones"
    }
    return render(
        request,
        "dedup/merge_detail.html",
        {
            "merge": merge,
            "label": ENTITY_LABELS[merge.entity],
            "survivor": records.get(merge.survivor_id),
            "survivor_url": _url(records[merge.survivor_id])
            if merge.survivor_id in records
            else "",
            "merged": [records[i] for i in merge.merged_ids if i in records],
            "moved": moved,
            "can_undo": merging.can_undo(merge),
        },
    )


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_object_or_404(MergeRecord, pk=pk)
    if not _merge_visible(request, merge):
        raise Http404
    try:
        merging.undo_merge(merge=merge, actor=request.user)
    except PermissionDenied as exc:
        raise Http404 from exc
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("已撤销合并,被合并的记录已恢复"))
    return redirect("dedup:merge_detail", pk=pk)


@login_required
def review(request: HttpRequest, entity: str = "contact") -> HttpResponse:
    """Clusters of the last scan and flags from the door, only those the viewer fully sees."""
    entity = _entity(entity)
    if request.method == "POST" and request.POST.get("rescan"):
        if request.user.role not in MANAGER_ROLES and not request.user.is_superuser:
            raise PermissionDenied
        rescan.enqueue(entity=entity)
        messages.success(request, _("已开始重新扫描,完成后刷新本页"))
        return redirect("dedup:review_entity", entity=entity)
    model = model_for(entity)
    clusters = list(DuplicateCluster.objects.filter(entity=entity, status=ClusterStatus.OPEN)[:500])
    flags = list(DuplicateFlag.objects.filter(entity=entity, status=FlagStatus.OPEN)[:200])
    ids = (
        {i for c in clusters for i in c.record_ids}
        | {f.object_id for f in flags}
        | {f.candidate_id for f in flags}
    )
    visible = {
        r.pk: r
        for r in visible_to(
            request.user, model._default_manager.filter(pk__in=ids, merged_into__isnull=True)
        ).select_related("owner")
    }
    cluster_rows = [
        {
            "cluster": c,
            "records": [visible[i] for i in c.record_ids],
            "reasons": reason_texts(c.reasons),
            "ids": ",".join(map(str, c.record_ids[: merging.MAX_RECORDS])),
            "too_many": len(c.record_ids) > merging.MAX_RECORDS,
        }
        for c in clusters
        if all(i in visible for i in c.record_ids)
    ][:100]
    flag_rows = [
        {
            "flag": f,
            "records": [visible[f.object_id], visible[f.candidate_id]],
            "reasons": reason_texts(f.reasons, positive_only=True),
            "ids": f"{f.candidate_id},{f.object_id}",
        }
        for f in flags
        if f.object_id in visible and f.candidate_id in visible
    ]
    return render(
        request,
        "dedup/review.html",
        {
            "entity": entity,
            "label": ENTITY_LABELS[entity],
            "entities": [(e, ENTITY_LABELS[e]) for e in DEDUP_ENTITIES],
            "clusters": cluster_rows,
            "flags": flag_rows,
            "can_rescan": request.user.role in MANAGER_ROLES or request.user.is_superuser,
            "scanned_at": clusters[0].scanned_at if clusters else None,
        },
    )


@login_required
@require_POST
def dismiss_cluster(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = get_object_or_404(DuplicateCluster, pk=pk, status=ClusterStatus.OPEN)
    try:
        services.dismiss_pair(entity=cluster.entity, ids=cluster.record_ids, actor=request.user)
    except PermissionDenied as exc:
        raise Http404 from exc
    cluster.status = ClusterStatus.DISMISSED
    cluster.save(update_fields=["status", "updated_at"])
    messages.success(request, _("已标记为不是重复"))
    return redirect("dedup:review_entity", entity=cluster.entity)


@login_required
@require_POST
def dismiss_flag(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(DuplicateFlag, pk=pk, status=FlagStatus.OPEN)
    try:
        services.dismiss_pair(
            entity=flag.entity, ids=[flag.object_id, flag.candidate_id], actor=request.user
        )
    except PermissionDenied as exc:
        raise Http404 from exc
    messages.success(request, _("已标记为不是重复"))
    return redirect("dedup:review_entity", entity=flag.entity)


@login_required
def report(request: HttpRequest) -> HttpResponse:
    if request.user.role not in MANAGER_ROLES and not request.user.is_superuser:
        raise PermissionDenied
    data = weekly_report(now=timezone.now(), reps=reps_of(request.user))
    return render(request, "dedup/report.html", {"report": data})


@login_required
def go(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    """A link to a merged record lands on the record it was merged into."""
    entity = _entity(entity)
    record = get_visible_or_404(request.user, model_for(entity)._default_manager.all(), pk=pk)
    survivor = survivor_of(entity, record)
    if not can_see(request.user, survivor):
        raise Http404
    url = _url(survivor)
    if not url:
        raise Http404
    return redirect(url)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """The admin's configuration: duplicate policy per entity and the uniqueness rules."""
    if request.user.role != "admin" and not request.user.is_superuser:
        raise PermissionDenied
    errors: dict[str, str] = {}
    if request.method == "POST":
        entity = _entity(request.POST.get("entity", ""))
        if request.POST.get("form") == "policy":
            form = PolicyForm(request.POST, instance=policy_for(entity), prefix=entity)
            if form.is_valid():
                form.save()
                messages.success(request, _("已保存"))
                return redirect("dedup:settings")
            errors[entity] = "; ".join(e for field in form.errors.values() for e in field)
        elif request.POST.get("form") == "rule":
            try:
                services.set_unique_rule(
                    entity=entity,
                    kind=request.POST.get("kind", ""),
                    active=request.POST.get("active") == "1",
                    actor=request.user,
                )
            except ValidationError as error:
                errors[f"{entity}:{request.POST.get('kind', '')}"] = "; ".join(error.messages)
            else:
                messages.success(request, _("已保存"))
                return redirect("dedup:settings")
    rules = {(r.entity, r.kind): r for r in UniqueRule.objects.all()}
    sections = []
    for entity in DEDUP_ENTITIES:
        policy = policy_for(entity)
        sections.append(
            {
                "entity": entity,
                "label": ENTITY_LABELS[entity],
                "form": PolicyForm(instance=policy, prefix=entity),
                "error": errors.get(entity, ""),
                "rules": [
                    {
                        "kind": kind,
                        "label": kind_label(kind),
                        "active": bool(rules.get((entity, kind)) and rules[(entity, kind)].active),
                        "error": errors.get(f"{entity}:{kind}", ""),
                    }
                    for kind in ENTITY_KINDS[entity]
                    if KINDS[kind].unique_capable
                ],
            }
        )
    return render(
        request,
        "dedup/settings.html",
        {"sections": sections},
        status=400 if errors else 200,
    )
