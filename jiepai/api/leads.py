"""/api/v1/leads: list, read, create and edit leads (state moves go through intake/routing)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from ninja import Field, Query, Router, Schema, Status

from jiepai.api.auth import actor
from jiepai.api.records import (
    ListParams,
    Page,
    RecordId,
    WriteSchema,
    any_row,
    assignable_owner,
    char,
    list_page,
    resolve,
    split_custom,
)
from jiepai.intake.models import Channel, Lead, LeadState
from jiepai.intake.selectors import LEAD_LIST, leads_for
from jiepai.intake.services import create_lead, update_lead
from jiepai.org.visibility import get_visible_or_404

router = Router(tags=["leads"])


class LeadOut(Schema):
    id: int
    name: str
    title: str
    company: str
    mobile: str
    email: str
    wechat: str
    industry: str
    province: str
    city: str
    budget: Decimal | None
    message: str
    channel: int | None = Field(None, alias="channel_id")
    channel_name: str = ""
    state: str
    state_label: str = ""
    score: float
    owner: int | None = Field(None, alias="owner_id")
    owner_name: str = ""
    account: int | None = Field(None, alias="account_id")
    contact: int | None = Field(None, alias="contact_id")
    merged_into: int | None = Field(None, alias="merged_into_id")
    assigned_at: datetime.datetime | None
    response_due_at: datetime.datetime | None
    contacted_at: datetime.datetime | None
    missing_fields: list[Any]
    source_detail: dict[str, Any]
    external_id: str
    custom: dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_channel_name(obj: Lead) -> str:
        return obj.channel.name if obj.channel_id else ""

    @staticmethod
    def resolve_state_label(obj: Lead) -> str:
        return str(obj.get_state_display())

    @staticmethod
    def resolve_owner_name(obj: Lead) -> str:
        return str(obj.owner) if obj.owner_id else ""


class LeadFields(WriteSchema):
    name: str = char(Lead, "name")
    title: str = char(Lead, "title")
    company: str = char(Lead, "company")
    mobile: str = char(Lead, "mobile")
    email: str = char(Lead, "email")
    wechat: str = char(Lead, "wechat")
    industry: str = char(Lead, "industry")
    province: str = char(Lead, "province")
    city: str = char(Lead, "city")
    budget: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    message: str = Field("", max_length=5000)
    channel: RecordId | None = Field(None, description=_("渠道编号"))
    external_id: str = char(Lead, "external_id")
    source_detail: dict[str, Any] = {}
    custom: dict[str, Any] = Field({}, description=_("自定义字段,键为字段键"))


class LeadCreate(LeadFields):
    owner: RecordId | None = Field(None, description=_("负责人编号(默认:销售本人)"))


class LeadPatch(LeadFields):
    """Owner and state change through assignment and follow-up, not by editing."""


class LeadListParams(ListParams):
    """sort: created, score, company, due (响应截止); -created is the default."""

    state: LeadState | None = Field(None, description=_("状态"))
    channel: RecordId | None = Field(None, description=_("渠道编号"))


LOOKUPS = {
    "channel": any_row(lambda: Channel.objects.all(), pgettext_lazy("api record", "渠道")),
    "owner": assignable_owner,
}


def _leads() -> Any:
    return Lead.objects.select_related("owner", "channel")


@router.get("", response=Page[LeadOut], summary=_("线索列表"))
def list_leads(request: HttpRequest, params: Query[LeadListParams]) -> dict[str, Any]:
    user = actor(request)
    return list_page(leads_for(user), LEAD_LIST, params, user)


@router.get("/{lead_id}", response=LeadOut, summary=_("线索详情"))
def get_lead(request: HttpRequest, lead_id: RecordId) -> Lead:
    return get_visible_or_404(actor(request), _leads(), pk=lead_id)


@router.post("", response={201: LeadOut}, summary=_("新建线索"))
def create(request: HttpRequest, payload: LeadCreate) -> tuple[int, Lead]:
    user = actor(request)
    values, custom = split_custom(payload)
    lead = create_lead(actor=user, values=resolve(user, values, LOOKUPS), custom=custom)
    return Status(201, _leads().get(pk=lead.pk))


@router.patch("/{lead_id}", response=LeadOut, summary=_("修改线索"))
def patch(request: HttpRequest, lead_id: RecordId, payload: LeadPatch) -> Lead:
    user = actor(request)
    lead = get_visible_or_404(user, _leads(), pk=lead_id)
    values, custom = split_custom(payload)
    update_lead(actor=user, lead=lead, values=resolve(user, values, LOOKUPS), custom=custom)
    return _leads().get(pk=lead.pk)
