"""Use-cases that write accounts and contacts."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from jiepai.core.records import create_record, settable, update_record
from jiepai.customers.models import Account, Contact
from jiepai.dedup.services import record_saved
from jiepai.org.models import User

ACCOUNT_FIELDS = (
    "name",
    "short_name",
    "credit_code",
    "industry",
    "province",
    "city",
    "address",
    "latitude",
    "longitude",
    "phone",
    "website",
    "tier",
    "notes",
    "owner",
    "external_id",
)
CONTACT_FIELDS = (
    "account",
    "name",
    "title",
    "department_name",
    "role",
    "decision_weight",
    "mobile",
    "phone",
    "email",
    "wechat",
    "notes",
    "owner",
    "external_id",
)


def create_account(
    *,
    actor: User | None,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
    on_duplicate: str | None = None,
) -> Account:
    """`on_duplicate` overrides the duplicate policy for this call (see dedup.record_saved)."""
    values = {"owner": actor, **settable(values, ACCOUNT_FIELDS)}
    with transaction.atomic():
        account = create_record(Account, actor=actor, values=values, custom=custom, now=now)
        record_saved(account, actor=actor, created=True, on_duplicate=on_duplicate, now=now)
    return account


def update_account(
    *,
    actor: User | None,
    account: Account,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Account:
    with transaction.atomic():
        account = update_record(
            account, actor=actor, values=settable(values, ACCOUNT_FIELDS), custom=custom, now=now
        )
        record_saved(account, actor=actor, created=False, now=now)
    return account


def create_contact(
    *,
    actor: User | None,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
    on_duplicate: str | None = None,
) -> Contact:
    """`on_duplicate` overrides the duplicate policy for this call (see dedup.record_saved)."""
    values = {"owner": actor, **settable(values, CONTACT_FIELDS)}
    with transaction.atomic():
        contact = create_record(Contact, actor=actor, values=values, custom=custom, now=now)
        record_saved(contact, actor=actor, created=True, on_duplicate=on_duplicate, now=now)
    return contact


def update_contact(
    *,
    actor: User | None,
    contact: Contact,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Contact:
    with transaction.atomic():
        contact = update_record(
            contact, actor=actor, values=settable(values, CONTACT_FIELDS), custom=custom, now=now
        )
        record_saved(contact, actor=actor, created=False, now=now)
    return contact
