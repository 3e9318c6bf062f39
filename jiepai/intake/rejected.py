"""The rejected-intake inbox: payloads a channel sent that could not become a lead (or events),
kept as received with the reason, for an admin to fix and replay — or discard."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.events.services import record_event
from jiepai.intake.behaviour import EventsInvalid, UnknownLead, parse_events, record_behaviour
from jiepai.intake.models import Channel, RejectedIntake, RejectedStatus
from jiepai.intake.payloads import PayloadError, media_type, parse_body
from jiepai.intake.pipeline import IdempotencyMismatch, IntakeRejected, intake_lead

logger = logging.getLogger(__name__)


def _as_text(body: bytes, content_type: str) -> str:
    _media, charset = media_type(content_type)
    for encoding in [c for c in (charset, "utf-8", "gb18030") if c]:
        try:
            return body.decode(encoding).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", "replace").replace("\x00", "")


def keep_rejected(
    *,
    channel: Channel | None,
    reason: str,
    detail: str,
    body: bytes,
    content_type: str = "",
    endpoint: str = "intake",
    truncated: bool = False,
    idempotency_key: str = "",
    remote_addr: str = "",
    user_agent: str = "",
    now: datetime.datetime | None = None,
) -> RejectedIntake | None:
    """Store what was refused. Never raises: a failure to keep it is logged (with the reason),
    and the caller still answers the sender."""
    try:
        return RejectedIntake.objects.create(
            received_at=now or timezone.now(),
            channel=channel,
            endpoint=endpoint,
            reason=reason,
            detail=detail[:2000],
            content_type=content_type[:100],
            body_text=_as_text(body, content_type),
            body_bytes=body,
            truncated=truncated,
            idempotency_key=idempotency_key[:255],
            remote_addr=remote_addr[:64],
            user_agent=user_agent[:300],
        )
    except Exception:  # noqa: BLE001 — the answer to the sender must not depend on this
        logger.exception("could not keep a rejected %s payload (%s)", endpoint, reason)
        return None


def _utf8_content_type(content_type: str) -> str:
    media, _charset = media_type(content_type)
    if media == "multipart/form-data":
        return content_type
    return f"{media or 'application/json'}; charset=utf-8"


def replay_rejected(
    *,
    rejected: RejectedIntake,
    actor: Any,
    body_text: str | None = None,
    now: datetime.datetime | None = None,
) -> RejectedIntake:
    """Run a kept payload (as the admin corrected it) through intake again. On success the row
    is marked replayed and linked to the lead; otherwise ValidationError says why (on
    `body_text`) and the row stays open."""
    now = now or timezone.now()
    text = rejected.body_text if body_text is None else body_text.replace("\r\n", "\n")
    with transaction.atomic():
        # Row lock: two admins replaying the same payload at once replay it once.
        row = (
            RejectedIntake.objects.select_for_update(of=("self",))
            .select_related("channel")
            .get(pk=rejected.pk)
        )
        if row.status != RejectedStatus.OPEN:
            raise ValidationError(_("这条记录已处理"))
        if row.channel is None:
            raise ValidationError(_("渠道已删除,无法重新接入"))
        try:
            payload = parse_body(text.encode("utf-8"), _utf8_content_type(row.content_type))
            lead_id = _replay(row=row, payload=payload, actor=actor, now=now)
        except PayloadError as exc:
            raise ValidationError({"body_text": [exc.detail]}) from exc
        except IntakeRejected as exc:
            raise ValidationError({"body_text": [exc.detail]}) from exc
        except EventsInvalid as exc:
            messages = [f"{k}: {'; '.join(v)}" for k, v in exc.errors.items()]
            raise ValidationError({"body_text": messages}) from exc
        except UnknownLead as exc:
            raise ValidationError({"body_text": [str(exc)]}) from exc
        except IdempotencyMismatch as exc:
            raise ValidationError(
                {"body_text": [_("幂等键已被另一份内容使用;如已另行接入,请丢弃此记录")]}
            ) from exc
        row.body_text = text
        row.status = RejectedStatus.REPLAYED
        row.resolved_at = now
        row.resolved_by = actor
        row.lead_id = lead_id
        row.save(update_fields=["body_text", "status", "resolved_at", "resolved_by", "lead"])
        if lead_id:
            record_event(
                subject_type="lead",
                subject_id=lead_id,
                verb="lead.replayed",
                actor=actor,
                data={"rejected_id": row.pk, "reason": row.reason},
                now=now,
            )
    return row


def _replay(*, row: RejectedIntake, payload: Any, actor: Any, now: datetime.datetime) -> int | None:
    if row.endpoint == "events":
        items = parse_events(payload, now=now)
        result = record_behaviour(channel=row.channel, items=items, now=now)
        return result.leads[0].pk if len(result.leads) == 1 else None
    answer = intake_lead(
        channel=row.channel,
        payload=payload,
        idempotency_key=row.idempotency_key,
        source={"via": "replay"},
        actor=actor,
        now=now,
    )
    return answer.lead_id


def discard_rejected(
    *, rejected: RejectedIntake, actor: Any, now: datetime.datetime | None = None
) -> RejectedIntake:
    updated = RejectedIntake.objects.filter(pk=rejected.pk, status=RejectedStatus.OPEN).update(
        status=RejectedStatus.DISCARDED, resolved_at=now or timezone.now(), resolved_by=actor
    )
    if updated != 1:
        raise ValidationError(_("这条记录已处理"))
    rejected.refresh_from_db()
    return rejected
