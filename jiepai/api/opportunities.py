"""/api/v1/opportunities: list, read, create and edit deals.

A new deal starts in its pipeline's first open stage; moving it to another stage is a gated
step of its own (pipeline), not a field edit, so `stage` is read-only here.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from ninja import Field, Query, Router, Schema, Status

from jiepai.api.auth import actor
from jiepai.api.records import (
    ListParams,
    Page,
    RecordId,
    WriteSchema,
    assignable_owner,
    char,
    list_page,
    resolve,
    split_custom,
    visible,
)
from jiepai.customers.models import Account, Contact
from jiepai.intake.models import Lead
from jiepai.org.visibility import get_visible_or_404
from jiepai.pipeline.models import Opportunity
from jiepai.pipeline.selectors import OPPORTUNITY_LIST, opportunities_for
from jiepai.pipeline.services import create_opportunity, update_opportunity

router = Router(tags=["opportunities"])


class OpportunityOut(Schema):
    id: int
    name: str
    account: int = Field(..., alias="account_id")
    account_name: str = ""
    contact: int | None = Field(None, alias="contact_id")
    lead: int | None = Field(None, alias="lead_id")
    stage: int = Field(..., alias="stage_id")
    stage_name: str = ""
    amount: Decimal
    expected_close_date: datetime.date | None
    stage_entered_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    loss_reason: str
    description: str
    owner: int | None = Field(None, alias="owner_id")
    owner_name: str = ""
    external_id: str
    custom: dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_account_name(obj: Opportunity) -> str:
        return obj.account.name

    @staticmethod
    def resolve_stage_name(obj: Opportunity) -> str:
        return obj.stage.name

    @staticmethod
    def resolve_owner_name(obj: Opportunity) -> str:
        return str(obj.owner) if obj.owner_id else ""


class OpportunityFields(WriteSchema):
    contact: RecordId | None = Field(None, description=gettext_lazy("主要联系人编号"))
    lead: RecordId | None = Field(None, description=gettext_lazy("来源线索编号"))
    amount: Decimal = Field(Decimal(0), ge=0, max_digits=14, decimal_places=2)
    expected_close_date: datetime.date | None = Field(None, description="YYYY-MM-DD")
    description: str = Field("", max_length=5000)
    owner: RecordId | None = Field(None, description=gettext_lazy("负责人编号(默认:本人)"))
    external_id: str = char(Opportunity, "external_id")
    custom: dict[str, Any] = Field({}, description=gettext_lazy("自定义字段,键为字段键"))


class OpportunityCreate(OpportunityFields):
    name: str = char(Opportunity, "name", required=True)
    account: RecordId = Field(..., description=gettext_lazy("客户编号"))


class OpportunityPatch(OpportunityFields):
    name: str = char(Opportunity, "name")
    account: RecordId | None = Field(None, description=gettext_lazy("客户编号"))


class OpportunityListParams(ListParams):
    """sort: amount, updated, close (预计成交日期); -updated is the default."""

    stage: RecordId | None = Field(None, description=gettext_lazy("阶段编号"))
    account: RecordId | None = Field(None, description=gettext_lazy("客户编号"))


LOOKUPS = {
    "account": visible(Account, pgettext_lazy("api record", "客户")),
    "contact": visible(Contact, pgettext_lazy("api record", "联系人")),
    "lead": visible(Lead, pgettext_lazy("api record", "线索")),
    "owner": assignable_owner,
}


def _opportunities() -> Any:
    return Opportunity.objects.select_related("owner", "account", "stage")


def _check_contact_on_account(values: dict[str, Any], current: Opportunity | None) -> None:
    contact = values.get("contact")
    account = values.get("account") or (current.account if current else None)
    if contact is not None and account is not None and contact.account_id != account.pk:
        raise ValidationError({"contact": [_("该联系人不属于所选客户")]})


@router.get("", response=Page[OpportunityOut], summary=gettext_lazy("商机列表"))
def list_opportunities(
    request: HttpRequest, params: Query[OpportunityListParams]
) -> dict[str, Any]:
    user = actor(request)
    return list_page(opportunities_for(user), OPPORTUNITY_LIST, params, user)


@router.get("/{opportunity_id}", response=OpportunityOut, summary=gettext_lazy("商机详情"))
def get_opportunity(request: HttpRequest, opportunity_id: RecordId) -> Opportunity:
    return get_visible_or_404(actor(request), _opportunities(), pk=opportunity_id)


@router.post("", response={201: OpportunityOut}, summary=gettext_lazy("新建商机"))
def create(request: HttpRequest, payload: OpportunityCreate) -> tuple[int, Opportunity]:
    user = actor(request)
    values, custom = split_custom(payload)
    values = resolve(user, values, LOOKUPS)
    _check_contact_on_account(values, None)
    deal = create_opportunity(actor=user, values=values, custom=custom)
    return Status(201, _opportunities().get(pk=deal.pk))


@router.patch("/{opportunity_id}", response=OpportunityOut, summary=gettext_lazy("修改商机"))
def patch(request: HttpRequest, opportunity_id: RecordId, payload: OpportunityPatch) -> Opportunity:
    user = actor(request)
    deal = get_visible_or_404(user, _opportunities(), pk=opportunity_id)
    values, custom = split_custom(payload)
    if "account" in values and values["account"] is None:
        raise ValidationError({"account": [_("商机必须关联客户")]})
    values = resolve(user, values, LOOKUPS)
    _check_contact_on_account(values, deal)
    update_opportunity(actor=user, opportunity=deal, values=values, custom=custom)
    return _opportunities().get(pk=deal.pk)
