"""Use-cases that write leads by hand (the intake pipeline for channels builds on these)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiepai.core.records import create_record, settable, update_record
from jiepai.dedup.services import record_saved
from jiepai.events.services import record_event
from jiepai.intake.housekeeping import HOUSEKEEPING_EVERY
from jiepai.intake.models import KIND_DEFAULTS, Channel, Lead
from jiepai.org.models import User

LEAD_FIELDS = (
    "name",
    "title",
    "company",
    "mobile",
    "email",
    "wechat",
    "industry",
    "province",
    "city",
    "budget",
    "message",
    "channel",
    "owner",
    "external_id",
    "source_detail",
)


def create_lead(
    *,
    actor: User | None,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
    on_duplicate: str | None = None,
) -> Lead:
    """A lead entered by a person: owned by them unless `owner` says otherwise.
    `on_duplicate` overrides the duplicate policy for this call (see dedup.record_saved)."""
    values = settable(values, LEAD_FIELDS)
    if actor is not None and "owner" not in values and actor.role in ("rep", "manager"):
        values = {"owner": actor, **values}
    state = "assigned" if values.get("owner") else "unassigned"
    with transaction.atomic():
        lead = create_record(
            Lead, actor=actor, values={**values, "state": state}, custom=custom, now=now
        )
        record_saved(lead, actor=actor, created=True, on_duplicate=on_duplicate, now=now)
    return lead


def update_lead(
    *,
    actor: User | None,
    lead: Lead,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Lead:
    with transaction.atomic():
        lead = update_record(
            lead, actor=actor, values=settable(values, LEAD_FIELDS), custom=custom, now=now
        )
        record_saved(lead, actor=actor, created=False, now=now)
    return lead


#: the channels a new installation starts with: (name, slug, kind, public hosted form)
DEFAULT_CHANNELS = [
    ("官网表单", "web", "web_form", True),
    ("小程序", "mini-program", "mini_program", False),
    ("展会扫码", "trade-show", "trade_show", True),
    ("电话呼入", "phone", "phone", False),
    ("抖音/短视频投放", "douyin", "short_video", False),
    ("API 接入", "api", "api", False),
    ("手工录入", "manual", "manual", False),
    ("批量导入", "import", "import", False),
]


def create_channel(*, name: str, slug: str, kind: str, actor: Any = None, **values: Any) -> Channel:
    """A channel with its kind's defaults (weight, response window: KIND_DEFAULTS) unless given."""
    weight, window = KIND_DEFAULTS[kind]
    values.setdefault("weight", weight)
    values.setdefault("response_window_minutes", window)
    values.setdefault("housekeeping_due_at", timezone.now() + HOUSEKEEPING_EVERY)
    channel = Channel(name=name, slug=slug, kind=kind, **values)
    channel.full_clean()
    with transaction.atomic():
        channel.save()
        record_event(
            subject_type="channel",
            subject_id=channel.pk,
            verb="channel.created",
            actor=actor,
            after={"name": name, "slug": slug, "kind": kind, "weight": channel.weight},
        )
    return channel


def install_default_channels(*, actor: Any = None) -> list[Channel]:
    """Create the default channels whose slug is not taken yet; returns those created."""
    created = []
    for name, slug, kind, public in DEFAULT_CHANNELS:
        if Channel.objects.filter(slug=slug).exists():
            continue
        created.append(
            create_channel(
                name=name,
                slug=slug,
                kind=kind,
                actor=actor,
                public_form_enabled=public,
                public_form_title="留下联系方式,我们尽快与您联系" if public else "",
            )
        )
    return created
