"""/api/v1/dedup: the door check, merge and undo for API clients (thin over the services)."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from jiepai.api.auth import actor
from jiepai.dedup import merge as merging
from jiepai.dedup.matcher import CHECK_FIELDS, find_duplicates
from jiepai.dedup.models import DEDUP_ENTITIES, MergeRecord
from jiepai.dedup.services import company_of

router = Router(tags=["dedup"])


class CheckIn(Schema):
    values: dict[str, str]
    exclude: int | None = None


class CandidateOut(Schema):
    entity: str
    id: int
    confidence: float
    reasons: list[str]
    visible: bool
    owner_name: str
    updated_at: datetime.datetime
    name: str | None = None  # only for a record the caller may see
    company: str | None = None


class MergeIn(Schema):
    ids: list[int]
    survivor: int | None = None
    sources: dict[str, int] = {}


class MergeOut(Schema):
    id: int
    entity: str
    survivor: int
    merged: list[int]
    undo_until: datetime.datetime
    undone_at: datetime.datetime | None = None


def _entity(entity: str) -> str:
    if entity not in DEDUP_ENTITIES:
        raise Http404
    return entity


def _merge_out(merge: MergeRecord) -> MergeOut:
    return MergeOut(
        id=merge.pk,
        entity=merge.entity,
        survivor=merge.survivor_id,
        merged=merge.merged_ids,
        undo_until=merge.undo_until,
        undone_at=merge.undone_at,
    )


@router.post("/check/{entity}", response=list[CandidateOut])
def check(request: HttpRequest, entity: str, payload: CheckIn) -> list[CandidateOut]:
    """Likely duplicates of the values (field names as in the create endpoints), best first.
    A record the caller may not see comes back with its owner and last update only."""
    entity = _entity(entity)
    unknown = set(payload.values) - set(CHECK_FIELDS[entity])
    if unknown:
        raise ValidationError({field: [_("不支持的字段")] for field in sorted(unknown)})
    values = {k: str(v)[:200] for k, v in payload.values.items()}
    candidates = find_duplicates(
        entity,
        values,
        viewer=actor(request),
        exclude=[payload.exclude] if payload.exclude else [],
        include_related=True,
    )
    out = []
    for c in candidates:
        record = c.record
        out.append(
            CandidateOut(
                entity=c.entity,
                id=c.object_id,
                confidence=round(c.score, 3),
                reasons=c.reason_texts,
                visible=c.visible,
                owner_name=str(record.owner) if record.owner else "",
                updated_at=record.updated_at,
                name=str(record) if c.visible else None,
                company=company_of(c.entity, record) if c.visible else None,
            )
        )
    return out


@router.post("/merge/{entity}", response={201: MergeOut})
def merge(request: HttpRequest, entity: str, payload: MergeIn) -> Status:
    """Merge 2–5 records the caller can see; `sources` picks a field's value by record id."""
    entity = _entity(entity)
    try:
        record = merging.merge_records(
            entity=entity,
            ids=payload.ids,
            actor=actor(request),
            survivor_id=payload.survivor,
            sources=payload.sources,
        )
    except PermissionDenied as exc:
        raise Http404 from exc
    return Status(201, _merge_out(record))


@router.post("/merges/{merge_id}/undo", response=MergeOut)
def undo(request: HttpRequest, merge_id: int) -> MergeOut:
    record = get_object_or_404(MergeRecord, pk=merge_id)
    try:
        record = merging.undo_merge(merge=record, actor=actor(request))
    except PermissionDenied as exc:
        raise Http404 from exc
    return _merge_out(record)
