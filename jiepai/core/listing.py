"""Lists the way every list page, export and API list does them: search, filters, sort, pages.

An entity declares a `ListSpec`; `apply_list_params` narrows an already visibility-scoped
queryset by the request's query parameters. The same function serves the HTML list, the
export and the API, so they always agree on what "this filtered list" means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.functional import Promise

PAGE_SIZE = 25
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class Filter:
    param: str  # query parameter, e.g. "state"
    lookup: str  # ORM lookup, e.g. "state" or "owner_id"
    label: str | Promise
    choices: tuple[tuple[str, str | Promise], ...] = ()  # empty: free value (ids)


@dataclass(frozen=True)
class ListSpec:
    search_fields: tuple[str, ...]
    filters: tuple[Filter, ...] = ()
    sorts: dict[str, str] = field(default_factory=dict)  # param value → order_by expression
    default_sort: str = ""


def apply_list_params(
    qs: QuerySet[Any], spec: ListSpec, params: QueryDict | dict[str, str]
) -> QuerySet[Any]:
    query = (params.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    if query:
        condition = Q()
        for name in spec.search_fields:
            condition |= Q(**{f"{name}__icontains": query})
        qs = qs.filter(condition)
    for flt in spec.filters:
        value = (params.get(flt.param) or "").strip()
        if not value:
            continue
        if flt.choices and value not in {c for c, _ in flt.choices}:
            continue  # an unknown choice is ignored rather than answered with an error page
        if not flt.choices and flt.lookup.endswith("_id") and not value.isdigit():
            continue
        qs = qs.filter(**{flt.lookup: value})
    sort = params.get("sort") or spec.default_sort
    if sort in spec.sorts:
        qs = qs.order_by(spec.sorts[sort], "-pk")
    return qs


def paginate(qs: QuerySet[Any], page_number: str | None, per_page: int = PAGE_SIZE) -> Page:
    paginator = Paginator(qs, per_page)
    try:
        return paginator.page(page_number or 1)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


def query_without(params: QueryDict, *names: str) -> str:
    """The current query string minus some parameters (for sort and page links)."""
    copy = params.copy()
    for name in names:
        copy.pop(name, None)
    return copy.urlencode()


@dataclass(frozen=True)
class Column:
    label: str | Promise
    sort: str = ""  # a key of ListSpec.sorts, or "" when the column does not sort
    numeric: bool = False


def list_context(
    params: QueryDict,
    qs: QuerySet[Any],
    spec: ListSpec,
    columns: list[Column],
    *,
    extra_choices: dict[str, list[tuple[str, str]]] | None = None,
) -> dict[str, Any]:
    """Everything core/list_base.html needs: the page, filter widgets, sortable headers."""
    qs = apply_list_params(qs, spec, params)
    current_sort = params.get("sort") or spec.default_sort
    base = query_without(params, "sort", "page")
    headers = []
    for column in columns:
        link = ""
        if column.sort:
            flipped = column.sort[1:] if current_sort == column.sort else column.sort
            if current_sort == column.sort[1:] and column.sort.startswith("-"):
                flipped = column.sort
            link = f"?{base}&sort={flipped}" if base else f"?sort={flipped}"
        active = current_sort.lstrip("-") == column.sort.lstrip("-") if column.sort else False
        headers.append(
            {
                "column": column,
                "link": link,
                "active": active,
                "descending": active and current_sort.startswith("-"),
            }
        )
    widgets = []
    for flt in spec.filters:
        choices = list(flt.choices) or (extra_choices or {}).get(flt.param, [])
        if not choices:
            continue
        widgets.append(
            {
                "param": flt.param,
                "label": flt.label,
                "choices": choices,
                "value": params.get(flt.param, ""),
            }
        )
    page = paginate(qs, params.get("page"))
    return {
        "page": page,
        "rows": page.object_list,
        "headers": headers,
        "filter_widgets": widgets,
        "q": params.get("q", ""),
        "page_query": query_without(params, "page"),
        "filter_query": query_without(params, "page"),
    }
