"""/api/v1/contacts: list, read, create and edit contacts (people on an account's decision chain)."""

from __future__ import annotations

import datetime
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
    assignable_owner,
    char,
    list_page,
    resolve,
    split_custom,
    visible,
)
from jiepai.customers.models import Account, Contact, ContactRole
from jiepai.customers.selectors import CONTACT_LIST, contacts_for
from jiepai.customers.services import create_contact, update_contact
from jiepai.org.visibility import get_visible_or_404

router = Router(tags=["contacts"])


class ContactOut(Schema):
    id: int
    account: int | None = Field(None, alias="account_id")
    account_name: str = ""
    name: str
    title: str
    department_name: str
    role: str
    role_label: str = ""
    decision_weight: int
    mobile: str
    phone: str
    email: str
    wechat: str
    notes: str
    owner: int | None = Field(None, alias="owner_id")
    owner_name: str = ""
    merged_into: int | None = Field(None, alias="merged_into_id")
    external_id: str
    custom: dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_account_name(obj: Contact) -> str:
        return obj.account.name if obj.account_id else ""

    @staticmethod
    def resolve_role_label(obj: Contact) -> str:
        return str(obj.get_role_display()) if obj.role else ""

    @staticmethod
    def resolve_owner_name(obj: Contact) -> str:
        return str(obj.owner) if obj.owner_id else ""


class ContactFields(WriteSchema):
    account: RecordId | None = Field(None, description=_("客户编号"))
    title: str = char(Contact, "title")
    department_name: str = char(Contact, "department_name")
    role: ContactRole | None = Field(None, description=_("决策链角色"))
    decision_weight: int = Field(0, ge=0, le=100, description=_("决策权重 0–100"))
    mobile: str = char(Contact, "mobile")
    phone: str = char(Contact, "phone")
    email: str = char(Contact, "email")
    wechat: str = char(Contact, "wechat")
    notes: str = Field("", max_length=5000)
    owner: RecordId | None = Field(None, description=_("负责人编号(默认:本人)"))
    external_id: str = char(Contact, "external_id")
    custom: dict[str, Any] = Field({}, description=_("自定义字段,键为字段键"))


class ContactCreate(ContactFields):
    name: str = char(Contact, "name", required=True)


class ContactPatch(ContactFields):
    name: str = char(Contact, "name")


class ContactListParams(ListParams):
    """sort: name, updated, weight (决策权重); -updated is the default."""

    account: RecordId | None = Field(None, description=_("客户编号"))
    role: ContactRole | None = Field(None, description=_("决策链角色"))


LOOKUPS = {
    "account": visible(Account, pgettext_lazy("api record", "客户")),
    "owner": assignable_owner,
}


def _contacts() -> Any:
    return Contact.objects.select_related("owner", "account")


def _values(payload: ContactFields) -> tuple[dict[str, Any], dict[str, Any] | None]:
    values, custom = split_custom(payload)
    if "role" in values:
        values["role"] = values["role"] or ""  # null clears the role
    return values, custom


@router.get("", response=Page[ContactOut], summary=_("联系人列表"))
def list_contacts(request: HttpRequest, params: Query[ContactListParams]) -> dict[str, Any]:
    user = actor(request)
    return list_page(contacts_for(user), CONTACT_LIST, params, user)


@router.get("/{contact_id}", response=ContactOut, summary=_("联系人详情"))
def get_contact(request: HttpRequest, contact_id: RecordId) -> Contact:
    return get_visible_or_404(actor(request), _contacts(), pk=contact_id)


@router.post("", response={201: ContactOut}, summary=_("新建联系人"))
def create(request: HttpRequest, payload: ContactCreate) -> tuple[int, Contact]:
    user = actor(request)
    values, custom = _values(payload)
    contact = create_contact(actor=user, values=resolve(user, values, LOOKUPS), custom=custom)
    return Status(201, _contacts().get(pk=contact.pk))


@router.patch("/{contact_id}", response=ContactOut, summary=_("修改联系人"))
def patch(request: HttpRequest, contact_id: RecordId, payload: ContactPatch) -> Contact:
    user = actor(request)
    contact = get_visible_or_404(user, _contacts(), pk=contact_id)
    values, custom = _values(payload)
    update_contact(
        actor=user, contact=contact, values=resolve(user, values, LOOKUPS), custom=custom
    )
    return _contacts().get(pk=contact.pk)
