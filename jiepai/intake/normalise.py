"""Cleaning the values a channel sends: trim, full-width → half-width, phone numbers to E.164
(China by default), e-mail addresses, money. A value that cannot be cleaned is reported, never
raised: intake keeps it in the raw payload and lists it, and the lead goes on without it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from jiepai.lib.phones import parse_phone
from jiepai.lib.values import parse_decimal, to_half_width

DEFAULT_REGION = "CN"

#: the longest value each text field takes (the Lead columns' max_length)
MAX_LENGTHS = {
    "name": 50,
    "title": 50,
    "company": 200,
    "mobile": 40,
    "email": 254,
    "wechat": 50,
    "industry": 50,
    "province": 30,
    "city": 30,
    "visitor_id": 64,
    "external_id": 100,
}
SOURCE_MAX_LENGTH = 500
MESSAGE_MAX_LENGTH = 10_000
BUDGET_LIMIT = Decimal(10) ** 12  # Lead.budget: 14 digits, 2 after the point


def normalise_phone(raw: object, region: str = DEFAULT_REGION) -> str:
    """'138 0013 8000', '+86 138-0013-8000', '021-12345678 转808' → E.164 (the extension kept
    after "转"), as jiepai.lib.phones reads them for duplicate matching; ValueError if it is
    not a valid number."""
    phone = parse_phone(raw, region=region)
    if phone is None:
        raise ValueError(_("“%(value)s”不是有效的电话号码") % {"value": raw})
    return str(phone)


def normalise_email(raw: object) -> str:
    text = to_half_width(str(raw)).replace(" ", "")
    if "@" in text:
        local, _at, domain = text.rpartition("@")
        text = f"{local}@{domain.lower()}"
    try:
        validate_email(text)
    except ValidationError as exc:
        raise ValueError(_("“%(value)s”不是有效的邮箱地址") % {"value": raw}) from exc
    return text.lower()


def normalise_text(raw: object) -> str:
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return to_half_width(str(raw))


def normalise_budget(raw: object) -> Decimal:
    try:
        number = parse_decimal(raw)
    except ValueError as exc:
        raise ValueError(_("“%(value)s”不是有效的金额") % {"value": raw}) from exc
    if number < 0 or number >= BUDGET_LIMIT:
        raise ValueError(_("金额“%(value)s”超出范围") % {"value": raw})
    return number.quantize(Decimal("0.01"))


@dataclass
class CleanValues:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def clean_values(raw: dict[str, Any]) -> CleanValues:
    """Each mapped field → its clean value, or an error message for it (the value is left out)."""
    result = CleanValues()
    for name, value in raw.items():
        try:
            cleaned = _clean_one(name, value)
        except ValueError as exc:
            result.errors[name] = str(exc)
            continue
        if cleaned not in ("", None):
            result.values[name] = cleaned
    return result


def _clean_one(name: str, value: object) -> Any:
    if name == "mobile":
        return normalise_phone(value)
    if name == "email":
        return normalise_email(value)
    if name == "budget":
        return normalise_budget(value)
    text = normalise_text(value)
    limit = MAX_LENGTHS.get(name)
    if name == "message":
        limit = MESSAGE_MAX_LENGTH
    elif limit is None:
        limit = SOURCE_MAX_LENGTH
    if len(text) > limit:
        raise ValueError(_("不能超过 %(n)d 个字符") % {"n": limit})
    return text
