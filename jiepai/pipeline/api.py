"""`POST /api/v1/opportunities/{id}/move`: the gated stage move, the same service as the board.

Body: {"stage": <stage id>, and optionally the answers that complete the gate in the same call:
  "values": {"loss_reason": "...", "amount": "45万", "custom.budget_range": "10w_50w"},
  "files": {"<requirement id>": {"name": "合同草案.pdf", "content_base64": "..."}},
  "contacts": {"<requirement id>": {"contact": <contact id>} or {"name": "王院长"}},
  "activities": {"<requirement id>": {"summary": "...", "kind": "email"}},
  "next_actions": {"<requirement id>": {"title": "方案复盘会", "due_at": "2026-03-04T15:00:00+08:00"}}}

Answers: 200 with the deal when it moved; 409 with `missing` (exactly what the gate still needs,
each with its requirement ids) when it did not; 400 with `errors` for answers that were wrong.
Valid answers are kept even when the move is refused (listed in `saved`).
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from jiepai.api.auth import actor
from jiepai.api.opportunities import OpportunityOut
from jiepai.api.records import RecordId, WriteSchema
from jiepai.org.visibility import get_visible_or_404
from jiepai.pipeline.models import Opportunity, Stage
from jiepai.pipeline.stages import (
    ActivityAnswer,
    ContactAnswer,
    GateAnswers,
    GateBlocked,
    NextActionAnswer,
    StageMoveError,
    move_opportunity,
)

router = Router(tags=["opportunities"])

MAX_FILE_BYTES = 8 * 1024 * 1024


class FileIn(WriteSchema):
    name: str = Field(..., min_length=1, max_length=255)
    content_base64: str = Field(..., min_length=1)


class ContactIn(WriteSchema):
    contact: RecordId | None = Field(None, description="本客户已有联系人的编号")
    name: str = Field("", max_length=50, description="或新联系人的姓名")


class ActivityIn(WriteSchema):
    summary: str = Field(..., min_length=1, max_length=5000)
    kind: str = Field("", max_length=20, description="跟进方式(门槛指定了方式时忽略)")


class NextActionIn(WriteSchema):
    title: str = Field(..., min_length=1, max_length=200)
    due_at: datetime.datetime


class MoveIn(WriteSchema):
    stage: RecordId = Field(..., description="要进入的阶段编号")
    values: dict[str, Any] = Field({}, description="字段值:内置字段名或 custom.字段键")
    files: dict[str, FileIn] = Field({}, description="键为门槛编号")
    contacts: dict[str, ContactIn] = Field({}, description="键为门槛编号")
    activities: dict[str, ActivityIn] = Field({}, description="键为门槛编号")
    next_actions: dict[str, NextActionIn] = Field({}, description="键为门槛编号")


class MissingOption(Schema):
    requirement: int
    kind: str
    field: str | None
    what: str


class MissingOut(Schema):
    stage: int
    stage_name: str
    label: str
    any_of: list[MissingOption]


class GateOut(Schema):
    detail: str
    missing: list[MissingOut] = []
    errors: dict[str, list[str]] = {}
    saved: list[str] = []


def _requirement_key(section: str, key: str) -> int:
    if not key.isdigit() or len(key) > 18:
        raise ValidationError({f"{section}.{key}": [_("键应为门槛编号")]})
    return int(key)


def _decode(section: str, key: str, item: FileIn) -> SimpleUploadedFile:
    try:
        content = base64.b64decode(item.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError({f"{section}.{key}": [_("不是有效的 base64 内容")]}) from exc
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError({f"{section}.{key}": [_("文件不能超过 8 MB")]})
    return SimpleUploadedFile(item.name, content)


def _answers(payload: MoveIn) -> GateAnswers:
    return GateAnswers(
        values=dict(payload.values),
        files={
            _requirement_key("files", k): _decode("files", k, v) for k, v in payload.files.items()
        },
        contacts={
            _requirement_key("contacts", k): ContactAnswer(contact_id=v.contact, name=v.name)
            for k, v in payload.contacts.items()
        },
        activities={
            _requirement_key("activities", k): ActivityAnswer(summary=v.summary, kind=v.kind)
            for k, v in payload.activities.items()
        },
        next_actions={
            _requirement_key("next_actions", k): NextActionAnswer(
                title=v.title,
                due_at=v.due_at if timezone.is_aware(v.due_at) else timezone.make_aware(v.due_at),
            )
            for k, v in payload.next_actions.items()
        },
    )


def _api_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Answer errors named like the request body: values.<field>, requirement.<id> as is."""
    return {
        (name if name.startswith("requirement.") else f"values.{name}"): messages
        for name, messages in errors.items()
    }


@router.post(
    "/{opportunity_id}/move",
    response={200: OpportunityOut, 400: GateOut, 409: GateOut},
    summary="推进阶段(检查阶段门槛,可同时补齐缺少的内容)",
)
def move(request: HttpRequest, opportunity_id: RecordId, payload: MoveIn) -> Any:
    user = actor(request)
    deals = Opportunity.objects.select_related("owner", "account", "stage__pipeline")
    deal = get_visible_or_404(user, deals, pk=opportunity_id)
    stage = Stage.objects.filter(pk=payload.stage, pipeline_id=deal.stage.pipeline_id).first()
    if stage is None:
        raise ValidationError({"stage": [_("该销售流程中没有这个阶段")]})
    answers = _answers(payload)
    try:
        move_opportunity(opportunity=deal, to_stage=stage, actor=user, answers=answers)
    except StageMoveError as exc:
        return Status(409, {"detail": exc.message})
    except GateBlocked as blocked:
        body = {
            "detail": _("未满足阶段门槛"),
            "missing": [m.as_dict() for m in blocked.missing],
            "errors": _api_errors(blocked.errors),
            "saved": blocked.saved,
        }
        return Status(400 if blocked.errors else 409, body)
    return Status(200, deals.get(pk=deal.pk))
