"""Which keys a record has: the normalised values its duplicates are looked up and scored by.

Kinds used to find candidates (`BLOCKING`) are cheap exact lookups on the key table; the others
are features the scorer compares (a name alone is too common to look up by). Contacts and leads
are people and share their kinds, so a lead can be checked against contacts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jiepai.lib.companies import normalize_company
from jiepai.lib.credit_code import credit_code_key
from jiepai.lib.emails import normalize_email
from jiepai.lib.names import normalize_title, split_name
from jiepai.lib.phones import parse_phone
from jiepai.lib.pinyin_keys import pinyin_keys, surname_pinyin
from jiepai.lib.text import fold

MAX_VALUE = 255

PERSON_ENTITIES = ("contact", "lead")


@dataclass(frozen=True)
class KindSpec:
    label: str | Promise
    blocking: bool = False  # looked up to find candidates
    unique_capable: bool = False  # an admin may make it unique
    #: the stored kinds a value of this kind is looked up in (default: its own kind)
    matches: tuple[str, ...] = ()


KINDS: dict[str, KindSpec] = {
    # people (contacts, leads)
    "mobile": KindSpec(_("手机号"), blocking=True, unique_capable=True),
    "landline": KindSpec(_("座机"), blocking=True, unique_capable=True),
    "email": KindSpec(_("邮箱"), blocking=True, unique_capable=True),
    "wechat": KindSpec(_("微信"), blocking=True, unique_capable=True),
    "name": KindSpec(_("姓名")),
    "pinyin": KindSpec(_("姓名拼音")),
    "title": KindSpec(_("职位")),
    "company": KindSpec(_("单位")),
    "pinyin_company": KindSpec(_("姓名拼音+单位"), blocking=True),
    # One-sided blocking: "张主任" (surname only) must meet every 张 at the company, but two
    # full names are already paired by pinyin_company when they can match. So surname-only
    # records store surname_company, full names store surname_company_full, and only pairs
    # with a surname-only record come out of these groups (a big hospital's 40 张 do not
    # make 780 pairs).
    "surname_company": KindSpec(
        _("姓氏+单位"), blocking=True, matches=("surname_company", "surname_company_full")
    ),
    "surname_company_full": KindSpec(
        _("姓氏+单位(全名)"), blocking=True, matches=("surname_company",)
    ),
    "name_company_full": KindSpec(_("企业全称+联系人姓名"), unique_capable=True),
    # companies (accounts)
    "credit_code": KindSpec(_("统一社会信用代码"), blocking=True, unique_capable=True),
    "company_full": KindSpec(_("企业全称"), blocking=True, unique_capable=True),
    "company_core": KindSpec(_("企业名称(去地区/后缀)"), blocking=True),
    "brand": KindSpec(_("字号"), blocking=True),
    "branch": KindSpec(_("分支机构")),
    "phone": KindSpec(_("电话"), blocking=True),
    "website": KindSpec(_("网站"), blocking=True),
    "city": KindSpec(_("城市")),
}

BLOCKING_KINDS = tuple(kind for kind, spec in KINDS.items() if spec.blocking)


def stored_kinds(kind: str) -> tuple[str, ...]:
    """The kinds of stored key a looked-up key of `kind` is compared with."""
    return KINDS[kind].matches or (kind,)


ENTITY_KINDS = {
    "contact": (
        "mobile", "landline", "email", "wechat", "name", "pinyin", "title", "company",
        "pinyin_company", "surname_company", "surname_company_full", "name_company_full",
    ),
    "lead": (
        "mobile", "landline", "email", "wechat", "name", "pinyin", "title", "company",
        "pinyin_company", "surname_company", "surname_company_full", "name_company_full",
    ),
    "account": (
        "credit_code", "company_full", "company_core", "brand", "branch", "phone", "website",
        "city",
    ),
}  # fmt: skip


def kind_label(kind: str) -> str:
    spec = KINDS.get(kind)
    return str(spec.label) if spec else kind


Keys = dict[str, list[str]]


def _add(keys: Keys, kind: str, value: str) -> None:
    value = value[:MAX_VALUE]
    if value and value not in keys.setdefault(kind, []):
        keys[kind].append(value)


def person_keys(values: Mapping[str, Any]) -> Keys:
    """Keys of a person from the fields a contact or lead has: name, title, company (the
    account's name for a contact), mobile, phone, email, wechat."""
    keys: Keys = {}
    for field in ("mobile", "phone"):
        phone = parse_phone(values.get(field))
        if phone:
            _add(keys, "mobile" if phone.is_mobile else "landline", phone.e164)
    _add(keys, "email", normalize_email(values.get("email")))
    _add(keys, "wechat", fold(str(values.get("wechat") or "")).replace(" ", ""))
    raw_name = str(values.get("name") or "")
    person = split_name(raw_name)
    _add(keys, "name", person.name.replace(" ", ""))
    for key in pinyin_keys(raw_name):
        _add(keys, "pinyin", key)
    _add(keys, "title", normalize_title(str(values.get("title") or "")) or person.title)
    company = normalize_company(str(values.get("company") or ""))
    _add(keys, "company", company.core)
    if company.core:
        for key in pinyin_keys(raw_name):
            _add(keys, "pinyin_company", f"{key}|{company.core}")
        surname = surname_pinyin(raw_name)
        kind = "surname_company" if person.surname_only else "surname_company_full"
        _add(keys, kind, f"{surname}|{company.core}" if surname else "")
        if person.name:
            _add(keys, "name_company_full", f"{person.name}|{company.full}")
    return keys


def _website(raw: str) -> str:
    text = fold(raw).replace(" ", "")
    for prefix in ("https://", "http://", "www."):
        text = text.removeprefix(prefix)
    return text.split("/", 1)[0].split("?", 1)[0]


def company_keys(values: Mapping[str, Any]) -> Keys:
    """Keys of an account: name, short_name, credit_code, phone, website, city."""
    keys: Keys = {}
    _add(keys, "credit_code", credit_code_key(values.get("credit_code")))
    for field in ("name", "short_name"):
        company = normalize_company(str(values.get(field) or ""))
        if field == "name":
            _add(keys, "company_full", company.full)
            _add(keys, "branch", company.branch)
        _add(keys, "company_core", company.core)
        _add(keys, "brand", company.brand)
    phone = parse_phone(values.get("phone"))
    if phone:
        _add(keys, "phone", phone.e164)
    _add(keys, "website", _website(str(values.get("website") or "")))
    _add(keys, "city", fold(str(values.get("city") or "")).removesuffix("市"))
    return keys


def keys_for(entity: str, values: Mapping[str, Any]) -> Keys:
    if entity == "account":
        return company_keys(values)
    return person_keys(values)


def values_of(entity: str, instance: Any) -> dict[str, Any]:
    """The fields of a saved record the keys are computed from."""
    if entity == "account":
        fields = ("name", "short_name", "credit_code", "phone", "website", "city")
        return {f: getattr(instance, f, "") for f in fields}
    values = {
        f: getattr(instance, f, "") for f in ("name", "title", "mobile", "phone", "email", "wechat")
    }
    if entity == "contact":
        account = instance.account if instance.account_id else None
        values["company"] = account.name if account else ""
    else:
        values["company"] = instance.company
    return values
