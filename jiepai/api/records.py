"""Plumbing shared by the record endpoints (leads, accounts, contacts, opportunities).

List parameters, sorting, pagination, text-field schema helpers, and turning ids a caller sent
into records: an id the caller cannot see is a field error, exactly like an id that does not
exist, so ids reveal nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Schema
from pydantic import ConfigDict

from jiepai.core.listing import ListSpec, apply_list_params
from jiepai.org.models import User
from jiepai.org.selectors import assignable_users
from jiepai.org.visibility import visible_to

#: ids are 64-bit; a bigger number is a field error, not a database overflow
MAX_ID = 2**63 - 1
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
MAX_LIMIT = 200

T = TypeVar("T")


class WriteSchema(Schema):
    """Input bodies: a field the API does not know is an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ListParams(Schema):
    q: str = Field("", max_length=100, description=gettext_lazy("搜索文本"))
    owner: str = Field("", max_length=20, description=gettext_lazy("负责人编号,或 me(本人)"))
    sort: str = Field(
        "", max_length=40, description=gettext_lazy("排序键(见各列表),前加 - 表示倒序")
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=gettext_lazy("每页条数"))
    offset: int = Field(0, ge=0, le=10**9, description=gettext_lazy("跳过条数"))


class Page(Schema, Generic[T]):
    count: int
    limit: int
    offset: int
    items: list[T]


def char(model: type[models.Model], name: str, *, required: bool = False) -> Any:
    """A text field of `model` as a schema field with the same maximum length."""
    field = model._meta.get_field(name)
    return Field(
        ... if required else "",
        max_length=getattr(field, "max_length", None),
        description=str(field.verbose_name),
    )


def list_page(
    queryset: models.QuerySet, spec: ListSpec, params: ListParams, user: User
) -> dict[str, Any]:
    """One page of a list, filtered and sorted exactly as the HTML list (jiepai.core.listing)
    does it, except that a bad parameter is an error here rather than ignored."""
    query = {
        name: "" if value is None else str(value) for name, value in params.model_dump().items()
    }
    if query.get("owner") == "me":
        query["owner"] = str(user.pk)
    errors: dict[str, list[str]] = {}
    if query["sort"] and query["sort"] not in spec.sorts:
        errors["sort"] = [_("可选:%(keys)s") % {"keys": ", ".join(spec.sorts)}]
    for flt in spec.filters:
        value = query.get(flt.param, "")
        if value and not flt.choices and not (value.isdigit() and int(value) <= MAX_ID):
            errors[flt.param] = [_("应为编号")]
    if errors:
        raise ValidationError(errors)
    rows = apply_list_params(queryset, spec, query)
    return {
        "count": rows.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": list(rows[params.offset : params.offset + params.limit]),
    }


# --- ids sent by the caller ------------------------------------------------------------------

Lookup = Callable[[User, int], models.Model]


class RefError(Exception):
    """An id in the input that does not name a record the caller may use."""


def visible(model: type[models.Model], label: str | Promise) -> Lookup:
    """A lookup of `model` rows through the caller's visibility. `label` names the record in
    the error (pass it lazily translated: pgettext_lazy("api record", "客户"))."""

    def lookup(user: User, pk: int) -> models.Model:
        found = visible_to(user, model._default_manager.filter(pk=pk)).first()
        if found is None:
            raise RefError(_("编号 %(id)s 的%(what)s不存在或无权访问") % {"id": pk, "what": label})
        return found

    return lookup


def any_row(queryset_factory: Callable[[], models.QuerySet], label: str | Promise) -> Lookup:
    """A lookup of configuration rows (channels, stages) that everyone may refer to."""

    def lookup(user: User, pk: int) -> models.Model:
        found = queryset_factory().filter(pk=pk).first()
        if found is None:
            raise RefError(_("编号 %(id)s 的%(what)s不存在") % {"id": pk, "what": label})
        return found

    return lookup


def assignable_owner(user: User, pk: int) -> models.Model:
    """An owner the caller may hand a record to (the same rule as the edit forms)."""
    candidate = assignable_users(user).filter(pk=pk).first()
    if candidate is None:
        raise RefError(_("编号 %(id)s 的用户不存在或不能指定为负责人") % {"id": pk})
    return candidate


def resolve(user: User, values: dict[str, Any], lookups: dict[str, Lookup]) -> dict[str, Any]:
    """Replace ids in `values` by records; every bad id is reported at once, by field."""
    errors: dict[str, list[str]] = {}
    resolved = dict(values)
    for field, lookup in lookups.items():
        pk = values.get(field)
        if pk is None:
            continue
        try:
            resolved[field] = lookup(user, pk)
        except RefError as exc:
            errors[field] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return resolved


def split_custom(payload: Schema) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(built-in values the caller sent, custom values or None when not sent)."""
    values = payload.model_dump(exclude_unset=True)
    return values, values.pop("custom", None)
