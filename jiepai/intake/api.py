"""The channel-facing API: `POST /api/v1/intake/{channel}` and `POST /api/v1/events`.

Both authenticate with a channel's intake key (header `X-Jiepai-Key`, or `?key=`), not with a
user token, so these operations pass `auth=None` and check the key here. Answers:
- unknown channel, inactive channel or wrong key → 401, the same body every time;
- body over 64 KB → 413 (what fits is kept in the rejected inbox);
- over the channel's per-minute limit → 429 with Retry-After;
- unreadable JSON/form, or no contact information → 400 with the reason (kept in the inbox);
- a repeated `Idempotency-Key` → the first answer again (header `Idempotent-Replayed: true`);
  the same key with a different payload → 422;
- otherwise 201 with the lead's id, state, missing fields, field errors and duplicates.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from jiepai.intake import throttle
from jiepai.intake.behaviour import EventsInvalid, UnknownLead, parse_events, record_behaviour
from jiepai.intake.models import Channel, RejectedReason
from jiepai.intake.payloads import MAX_BODY_BYTES, PayloadError, parse_body
from jiepai.intake.pipeline import IdempotencyMismatch, IntakeRejected, intake_lead
from jiepai.intake.rejected import keep_rejected

logger = logging.getLogger(__name__)

router = Router(tags=["intake"], auth=None)
events_router = Router(tags=["intake"], auth=None)

KEY_HEADER = "HTTP_X_JIEPAI_KEY"
_DUMMY_KEY = secrets.token_urlsafe(24)

_INTAKE_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "X-Jiepai-Key",
            "schema": {"type": "string"},
            "required": False,
            "description": "渠道接入密钥(也可用 ?key=)",
        },
        {
            "in": "header",
            "name": "Idempotency-Key",
            "schema": {"type": "string", "maxLength": 255},
            "required": False,
            "description": "同一键重复提交只生成一条线索,返回第一次的结果",
        },
    ],
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {"type": "object", "additionalProperties": True},
                "example": {
                    "姓名": "王磊",
                    "手机号": "138 0013 8000",
                    "公司": "宁波恒锐智能装备有限公司",
                    "职位": "采购经理",
                    "page_url": "https://example.com/product/plc",
                },
            },
            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
        }
    },
}
_EVENTS_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "X-Jiepai-Key",
            "schema": {"type": "string"},
            "required": False,
            "description": "渠道接入密钥(也可用 ?key=)",
        },
    ],
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {"type": "object", "additionalProperties": True},
                "example": {
                    "events": [
                        {
                            "type": "page_view",
                            "visitor_id": "v-123",
                            "url": "/product/plc",
                            "seconds": 95,
                        },
                        {
                            "type": "download",
                            "visitor_id": "v-123",
                            "asset": "PLC 选型白皮书",
                            "asset_kind": "whitepaper",
                        },
                    ]
                },
            }
        }
    },
}


def _json(body: dict[str, Any], status: int, **headers: str) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _unauthorised() -> JsonResponse:
    # Unknown channel, inactive channel and wrong key answer alike: nothing to enumerate.
    return _json({"detail": _("渠道或接入密钥无效")}, 401)


def _given_key(request: HttpRequest) -> str:
    return request.META.get(KEY_HEADER) or request.GET.get("key", "")


def _active_channel(slug: str) -> Channel | None:
    """The active channel with this slug. A raw query: every intake asks it, and the ORM's
    compiling of `filter(...).first()` costs three times the query itself."""
    quote = connection.ops.quote_name
    # The columns are named, not `*`: on PostgreSQL the statement is prepared per connection,
    # and a prepared `SELECT *` fails ("cached plan must not change result type") once a
    # migration adds a column while the workers run. Names come from the model, never input.
    columns = ", ".join(quote(f.column) for f in Channel._meta.concrete_fields)
    found = Channel.objects.raw(
        f"SELECT {columns} FROM {quote(Channel._meta.db_table)} "  # noqa: S608
        "WHERE slug = %s AND active = %s",
        [slug, True],
    )
    return next(iter(found), None)


def _channel_for(request: HttpRequest, slug: str) -> Channel | None:
    key = _given_key(request)
    channel = _active_channel(slug)
    expected = channel.intake_key if channel is not None else _DUMMY_KEY
    if not key or not secrets.compare_digest(key.encode(), expected.encode()) or channel is None:
        return None
    return channel


def _read_body(request: HttpRequest) -> tuple[bytes, bool]:
    """The body, and whether it was over the limit (then only the first 64 KB are returned)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return request.read(MAX_BODY_BYTES), True
    body = request.body
    return body, len(body) > MAX_BODY_BYTES


def _client(request: HttpRequest) -> dict[str, str]:
    return {
        "remote_addr": request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
    }


def _query_fields(request: HttpRequest) -> dict[str, str]:
    """Query parameters other than the key: ad platforms put source details in the URL."""
    return {k: v for k, v in request.GET.items() if k != "key"}


def _throttled(channel: Channel, now: Any) -> JsonResponse | None:
    verdict = throttle.hit(channel=channel, now=now)
    if verdict.allowed:
        return None
    return _json(
        {"detail": _("请求过于频繁:每分钟最多 %(n)d 次") % {"n": verdict.limit}},
        429,
        Retry_After=str(verdict.retry_after),
    )


@router.post("/{channel}", summary="接入一条线索", openapi_extra=_INTAKE_DOC)
def intake(request: HttpRequest, channel: str) -> JsonResponse:
    """Create a lead from a channel's payload (JSON or form encoded; field names are mapped by
    the channel's alias map and the shipped default aliases)."""
    now = timezone.now()
    found = _channel_for(request, channel)
    if found is None:
        return _unauthorised()
    if (limited := _throttled(found, now)) is not None:
        return limited
    body, too_large = _read_body(request)
    content_type = request.META.get("CONTENT_TYPE", "")
    key = request.META.get("HTTP_IDEMPOTENCY_KEY", "").strip()

    def keep(reason: str, detail: str, *, truncated: bool = False) -> int | None:
        kept = keep_rejected(
            channel=found,
            reason=reason,
            detail=detail,
            body=body,
            content_type=content_type,
            truncated=truncated,
            idempotency_key=key,
            now=now,
            **_client(request),
        )
        return kept.pk if kept else None

    if too_large:
        detail = _("内容超过 %(n)d KB 上限") % {"n": MAX_BODY_BYTES // 1024}
        keep(RejectedReason.TOO_LARGE, detail, truncated=True)
        return _json({"detail": detail}, 413)
    try:
        payload = parse_body(body, content_type)
        if isinstance(payload, dict):
            payload = {**_query_fields(request), **payload}
        answer = intake_lead(
            channel=found,
            payload=payload,
            idempotency_key=key,
            source={"via": "api"},
            now=now,
        )
    except PayloadError as exc:
        rejected_id = keep(exc.reason, exc.detail)
        return _json({"detail": exc.detail, "rejected_id": rejected_id}, exc.status)
    except IntakeRejected as exc:
        rejected_id = keep(exc.reason, exc.detail)
        return _json({"detail": exc.detail, "rejected_id": rejected_id}, 400)
    except IdempotencyMismatch:
        return _json({"detail": _("Idempotency-Key 已用于另一份不同的内容")}, 422)
    except Exception:  # noqa: BLE001 — keep the payload whatever went wrong
        logger.exception("intake failed on channel %s", found.slug)
        rejected_id = keep(RejectedReason.ERROR, _("处理出错,内容已保存,管理员可重新接入"))
        return _json(
            {"detail": _("处理出错,内容已保存,管理员可重新接入"), "rejected_id": rejected_id}, 500
        )
    if answer.replayed:
        return _json(answer.body, answer.status, Idempotent_Replayed="true")
    return _json(answer.body, answer.status)


@events_router.post("", summary="上报行为事件", openapi_extra=_EVENTS_DOC)
def events(request: HttpRequest) -> JsonResponse:
    """Behaviour events (page_view with url and seconds, download, video_view, wechat_message,
    form_submit, other), one object, a list, or {"events": [...]} (up to 100), each tied to a
    `lead_id` or an anonymous `visitor_id`."""
    now = timezone.now()
    key = _given_key(request)
    found = Channel.objects.filter(intake_key=key, active=True).first() if key else None
    if found is None:
        return _unauthorised()
    if (limited := _throttled(found, now)) is not None:
        return limited
    body, too_large = _read_body(request)
    content_type = request.META.get("CONTENT_TYPE", "")

    def keep(reason: str, detail: str, *, truncated: bool = False) -> int | None:
        kept = keep_rejected(
            channel=found,
            endpoint="events",
            reason=reason,
            detail=detail,
            body=body,
            content_type=content_type,
            truncated=truncated,
            now=now,
            **_client(request),
        )
        return kept.pk if kept else None

    if too_large:
        detail = _("内容超过 %(n)d KB 上限") % {"n": MAX_BODY_BYTES // 1024}
        keep(RejectedReason.TOO_LARGE, detail, truncated=True)
        return _json({"detail": detail}, 413)
    try:
        payload = parse_body(body, content_type)
        items = parse_events(payload, now=now)
        result = record_behaviour(channel=found, items=items, now=now)
    except PayloadError as exc:
        rejected_id = keep(exc.reason, exc.detail)
        return _json({"detail": exc.detail, "rejected_id": rejected_id}, exc.status)
    except EventsInvalid as exc:
        rejected_id = keep(RejectedReason.BAD_EVENTS, str(exc.errors))
        return _json(
            {"detail": _("输入有误"), "errors": exc.errors, "rejected_id": rejected_id}, 400
        )
    except UnknownLead as exc:
        rejected_id = keep(RejectedReason.BAD_EVENTS, str(exc))
        return _json(
            {"detail": str(exc), "errors": {"lead_id": [str(exc)]}, "rejected_id": rejected_id},
            400,
        )
    except Exception:  # noqa: BLE001
        logger.exception("behaviour events failed on channel %s", found.slug)
        rejected_id = keep(RejectedReason.ERROR, _("处理出错,内容已保存,管理员可重新接入"))
        return _json(
            {"detail": _("处理出错,内容已保存,管理员可重新接入"), "rejected_id": rejected_id}, 500
        )
    return _json(
        {
            "accepted": len(result.events),
            "leads": [
                {"id": lead.pk, "state": lead.state, "intent_score": lead.intent_score}
                for lead in result.leads
            ],
        },
        202,
    )
