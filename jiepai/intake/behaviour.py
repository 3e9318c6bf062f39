"""Behaviour events (page views, downloads, video views, WeChat messages, form submits) and the
intent score they add up to.

An event is tied to a lead, or to an anonymous visitor id. When a lead arrives with that visitor
id, the visitor's earlier events attach to it (`attach_visitor_events`), and later events with
that visitor id go straight to the lead. After events change, `refresh_intent` recomputes the
lead's intent score and lead score, tags it "高意向" when seed 001's rule holds, and moves a lead
waiting in the nurture pool to sales once it reaches the direct-to-sales threshold.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from jiepai.events.models import Event
from jiepai.events.services import new_event, record_event
from jiepai.intake import scoring
from jiepai.intake.config import intake_settings
from jiepai.intake.handoff import hand_to_routing
from jiepai.intake.models import (
    BehaviourEvent,
    BehaviourKind,
    Channel,
    IntentConfig,
    Lead,
    LeadState,
)
from jiepai.tagging.services import apply_tag

MAX_BATCH = 100


@dataclass(frozen=True)
class BehaviourInput:
    """One validated event as the API (or a test) hands it over."""

    kind: str
    occurred_at: datetime.datetime
    lead_id: int | None = None
    visitor_id: str = ""
    url: str = ""
    seconds: int = 0
    asset: str = ""
    asset_kind: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class BehaviourResult:
    events: list[BehaviourEvent]
    leads: list[Lead]


class UnknownLead(ValueError):
    """An event names a lead id that does not exist (or was merged away)."""


def lock_visitor(visitor_id: str) -> None:
    """Serialise lead creation and event intake for one visitor id, so an event arriving while
    its lead is being created is never left anonymous.

    On PostgreSQL a transaction-scoped advisory lock on the id's hash: the lead's "attach the
    visitor's events" UPDATE and an event's "is there a lead for this visitor" SELECT cannot
    interleave. SQLite needs nothing: its transactions begin IMMEDIATE, so writers already run one
    at a time and each sees the other's committed rows.
    """
    if visitor_id and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"visitor:{visitor_id}"])


def summarise(*, lead_id: int, config: IntentConfig) -> scoring.BehaviourSummary:
    totals = BehaviourEvent.objects.filter(lead_id=lead_id).aggregate(
        wechat=Count("id", filter=Q(kind=BehaviourKind.WECHAT_MESSAGE)),
        stay=Sum("seconds", filter=Q(kind=BehaviourKind.PAGE_VIEW)),
        downloads=Count(
            "id",
            filter=Q(kind=BehaviourKind.DOWNLOAD, asset_kind__in=config.counted_download_kinds),
        ),
        videos=Count("id", filter=Q(kind=BehaviourKind.VIDEO_VIEW)),
    )
    return scoring.BehaviourSummary(
        wechat_messages=totals["wechat"] or 0,
        stay_seconds=totals["stay"] or 0,
        downloads=totals["downloads"] or 0,
        video_views=totals["videos"] or 0,
    )


def attach_visitor_events(
    *, lead: Lead, now: datetime.datetime, events: list[Event] | None = None
) -> int:
    """Give a new lead its visitor's earlier anonymous events. Call in the lead's transaction,
    after `lock_visitor(lead.visitor_id)`. `events`: a caller collecting events to write them
    together gets the `lead.visitor_merged` event appended instead of written here."""
    if not lead.visitor_id:
        return 0
    with connection.cursor() as cursor:
        # one plain UPDATE (every intake with a visitor id runs it); table name from the model
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(BehaviourEvent._meta.db_table)} "  # noqa: S608
            "SET lead_id = %s WHERE visitor_id = %s AND lead_id IS NULL",
            [lead.pk, lead.visitor_id],
        )
        attached = cursor.rowcount
    if attached:
        event = new_event(
            subject=lead,
            verb="lead.visitor_merged",
            data={"visitor_id": lead.visitor_id, "events": attached},
            now=now,
        )
        if events is None:
            event.save(force_insert=True)
        else:
            events.append(event)
    return attached


def filled_fields(lead: Lead) -> list[str]:
    return [name for name in scoring.PROFILE_FIELDS if getattr(lead, name)]


def refresh_intent(
    *,
    lead: Lead,
    config: IntentConfig,
    now: datetime.datetime,
    actor: Any = None,
    summary: scoring.BehaviourSummary | None = None,
) -> str:
    """Recompute the lead's intent score and lead score from its events; returns the intent
    class ("nurture", "normal", "direct"). Call inside the transaction that changed the events."""
    summary = summary if summary is not None else summarise(lead_id=lead.pk, config=config)
    intent = scoring.intent_score(summary, config)
    score = scoring.lead_score(
        channel_weight=lead.channel.weight if lead.channel_id else 1,
        filled_fields=filled_fields(lead),
        intent=intent,
        weights=config,
    )
    if (intent, score) != (lead.intent_score, lead.score):
        before = {"intent_score": lead.intent_score, "score": lead.score}
        Lead.objects.filter(pk=lead.pk).update(intent_score=intent, score=score, updated_at=now)
        lead.intent_score, lead.score = intent, score
        record_event(
            subject=lead,
            verb="lead.intent_changed",
            actor=actor,
            before=before,
            after={"intent_score": intent, "score": score},
            data={
                "wechat_messages": summary.wechat_messages,
                "stay_seconds": summary.stay_seconds,
                "downloads": summary.downloads,
                "video_views": summary.video_views,
            },
            now=now,
        )
    if scoring.is_high_intent(summary, config) and config.high_intent_tag:
        apply_tag(
            entity="lead",
            object_id=lead.pk,
            tag=config.high_intent_tag,
            source="behaviour",
            actor=actor,
            now=now,
        )
    klass = scoring.intent_class(intent, config)
    if klass == scoring.DIRECT and lead.state == LeadState.NURTURE:
        _promote_from_nurture(lead=lead, now=now, actor=actor)
    return klass


def _promote_from_nurture(*, lead: Lead, now: datetime.datetime, actor: Any) -> None:
    # Compare-and-set: two event batches for one lead at once promote it once.
    moved = Lead.objects.filter(pk=lead.pk, state=LeadState.NURTURE).update(
        state=LeadState.UNASSIGNED, updated_at=now
    )
    if moved != 1:
        return
    lead.state = LeadState.UNASSIGNED
    record_event(
        subject=lead,
        verb="lead.intent_promoted",
        actor=actor,
        before={"state": LeadState.NURTURE},
        after={"state": LeadState.UNASSIGNED},
        data={"intent_score": lead.intent_score},
        now=now,
    )
    hand_to_routing(lead=lead, now=now, actor=actor)


def record_behaviour(
    *,
    channel: Channel | None,
    items: Sequence[BehaviourInput],
    now: datetime.datetime | None = None,
) -> BehaviourResult:
    """Store a batch of events (all or none) and refresh the intent of every lead they touch.

    Raises UnknownLead when an event names a lead that does not exist."""
    now = now or timezone.now()
    if len(items) > MAX_BATCH:
        raise ValueError(_("一次最多 %(n)d 条事件") % {"n": MAX_BATCH})
    lead_ids = {i.lead_id for i in items if i.lead_id is not None}
    visitor_ids = sorted({i.visitor_id for i in items if i.lead_id is None and i.visitor_id})
    with transaction.atomic():
        for visitor_id in visitor_ids:
            lock_visitor(visitor_id)
        leads = {
            lead.pk: lead for lead in Lead.objects.filter(pk__in=lead_ids).select_related("channel")
        }
        missing = lead_ids - set(leads)
        if missing:
            raise UnknownLead(_("没有这些线索:%(ids)s") % {"ids": sorted(missing)})
        by_visitor: dict[str, Lead] = {}
        if visitor_ids:
            # The newest live lead of each visitor takes the visitor's events.
            for lead in (
                Lead.objects.filter(visitor_id__in=visitor_ids, merged_into__isnull=True)
                .select_related("channel")
                .order_by("created_at", "id")
            ):
                by_visitor[lead.visitor_id] = lead
        events = []
        for item in items:
            lead = leads.get(item.lead_id) if item.lead_id else by_visitor.get(item.visitor_id)
            for _hop in range(10):  # a merged lead's events go to the lead it was merged into
                if lead is None or not lead.merged_into_id:
                    break
                lead = Lead.objects.select_related("channel").get(pk=lead.merged_into_id)
            events.append(
                BehaviourEvent(
                    occurred_at=item.occurred_at,
                    received_at=now,
                    kind=item.kind,
                    channel=channel,
                    lead=lead,
                    visitor_id=item.visitor_id or (lead.visitor_id if lead else ""),
                    url=item.url,
                    seconds=item.seconds,
                    asset=item.asset,
                    asset_kind=item.asset_kind,
                    data=item.data,
                )
            )
        BehaviourEvent.objects.bulk_create(events)
        touched: dict[int, Lead] = {}
        for event in events:
            if event.lead is None:
                continue
            touched[event.lead.pk] = event.lead
            record_event(
                subject=event.lead,
                verb=f"behaviour.{event.kind}",
                data={
                    k: v
                    for k, v in {
                        "url": event.url,
                        "seconds": event.seconds,
                        "asset": event.asset,
                        "asset_kind": event.asset_kind,
                        "occurred_at": event.occurred_at,
                    }.items()
                    if v
                },
                now=now,
            )
        if touched:
            config = intake_settings().intent
            for lead in touched.values():
                refresh_intent(lead=lead, config=config, now=now)
    return BehaviourResult(events=events, leads=list(touched.values()))


# --- reading events as channels send them -------------------------------------------------------


class EventIn(BaseModel):
    """One behaviour event in the API's JSON (unknown keys are kept in `data`)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    type: BehaviourKind = Field(validation_alias=AliasChoices("type", "kind", "event"))
    lead_id: int | None = Field(default=None, ge=1)
    visitor_id: str = Field(default="", max_length=64)
    occurred_at: datetime.datetime | None = None
    url: str = Field(default="", max_length=500)
    seconds: int = Field(default=0, ge=0, le=86_400)
    asset: str = Field(default="", max_length=200)
    asset_kind: str = Field(default="", max_length=30)
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _needs_someone(self) -> EventIn:
        if self.lead_id is None and not self.visitor_id:
            raise ValueError(_("需要 lead_id 或 visitor_id"))
        return self


class EventsInvalid(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def parse_events(payload: object, *, now: datetime.datetime) -> list[BehaviourInput]:
    """A single event object, a list of them, or {"events": [...]} → validated inputs.
    Raises EventsInvalid with messages by field ("events.2.seconds")."""
    from jiepai.api.errors import field_errors

    if isinstance(payload, dict) and isinstance(payload.get("events"), list):
        raw_items, prefix = payload["events"], "events"
    elif isinstance(payload, list):
        raw_items, prefix = payload, "events"
    else:
        raw_items, prefix = [payload], ""
    if not raw_items:
        raise EventsInvalid({"events": [_("没有事件")]})
    if len(raw_items) > MAX_BATCH:
        raise EventsInvalid({"events": [_("一次最多 %(n)d 条事件") % {"n": MAX_BATCH}]})
    items: list[BehaviourInput] = []
    errors: dict[str, list[str]] = {}
    for index, raw in enumerate(raw_items):
        where = f"{prefix}.{index}" if prefix else ""
        try:
            event = EventIn.model_validate(raw)
        except PydanticValidationError as exc:
            for name, messages in field_errors(exc.errors()).items():
                key = ".".join(p for p in (where, "" if name == "body" else name) if p)
                errors.setdefault(key or "body", []).extend(messages)
            continue
        occurred_at = event.occurred_at or now
        if timezone.is_naive(occurred_at):
            occurred_at = timezone.make_aware(occurred_at)
        asset_kind = event.asset_kind or (
            "whitepaper" if event.type == BehaviourKind.DOWNLOAD else ""
        )
        items.append(
            BehaviourInput(
                kind=event.type.value,
                occurred_at=min(occurred_at, now),
                lead_id=event.lead_id,
                visitor_id=event.visitor_id,
                url=event.url,
                seconds=event.seconds,
                asset=event.asset,
                asset_kind=asset_kind,
                data={**event.data, **(event.model_extra or {})},
            )
        )
    if errors:
        raise EventsInvalid(errors)
    return items
