"""/api/v1/accounts: list, read, create and edit accounts (companies, hospitals)."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
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
)
from jiepai.customers.models import Account
from jiepai.customers.selectors import ACCOUNT_LIST, accounts_for
from jiepai.customers.services import create_account, update_account
from jiepai.org.visibility import get_visible_or_404

router = Router(tags=["accounts"])


class AccountOut(Schema):
    id: int
    name: str
    short_name: str
    credit_code: str
    industry: str
    province: str
    city: str
    address: str
    latitude: float | None
    longitude: float | None
    phone: str
    website: str
    tier: str
    notes: str
    owner: int | None = Field(None, alias="owner_id")
    owner_name: str = ""
    merged_into: int | None = Field(None, alias="merged_into_id")
    external_id: str
    custom: dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_owner_name(obj: Account) -> str:
        return str(obj.owner) if obj.owner_id else ""


class AccountFields(WriteSchema):
    short_name: str = char(Account, "short_name")
    credit_code: str = char(Account, "credit_code")
    industry: str = char(Account, "industry")
    province: str = char(Account, "province")
    city: str = char(Account, "city")
    address: str = char(Account, "address")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    phone: str = char(Account, "phone")
    website: str = char(Account, "website")
    tier: str = char(Account, "tier")
    notes: str = Field("", max_length=5000)
    owner: RecordId | None = Field(None, description=_("负责人编号(默认:本人)"))
    external_id: str = char(Account, "external_id")
    custom: dict[str, Any] = Field({}, description=_("自定义字段,键为字段键"))


class AccountCreate(AccountFields):
    name: str = char(Account, "name", required=True)


class AccountPatch(AccountFields):
    name: str = char(Account, "name")


class AccountListParams(ListParams):
    """sort: name, updated, city; -updated is the default."""

    industry: str = Field("", max_length=50, description=_("行业"))
    province: str = Field("", max_length=30, description=_("省份"))


LOOKUPS = {"owner": assignable_owner}


def _accounts() -> Any:
    return Account.objects.select_related("owner")


@router.get("", response=Page[AccountOut], summary=_("客户列表"))
def list_accounts(request: HttpRequest, params: Query[AccountListParams]) -> dict[str, Any]:
    user = actor(request)
    return list_page(accounts_for(user), ACCOUNT_LIST, params, user)


@router.get("/{account_id}", response=AccountOut, summary=_("客户详情"))
def get_account(request: HttpRequest, account_id: RecordId) -> Account:
    return get_visible_or_404(actor(request), _accounts(), pk=account_id)


@router.post("", response={201: AccountOut}, summary=_("新建客户"))
def create(request: HttpRequest, payload: AccountCreate) -> tuple[int, Account]:
    user = actor(request)
    values, custom = split_custom(payload)
    account = create_account(actor=user, values=resolve(user, values, LOOKUPS), custom=custom)
    return Status(201, _accounts().get(pk=account.pk))


@router.patch("/{account_id}", response=AccountOut, summary=_("修改客户"))
def patch(request: HttpRequest, account_id: RecordId, payload: AccountPatch) -> Account:
    user = actor(request)
    account = get_visible_or_404(user, _accounts(), pk=account_id)
    values, custom = split_custom(payload)
    update_account(
        actor=user, account=account, values=resolve(user, values, LOOKUPS), custom=custom
    )
    return _accounts().get(pk=account.pk)
