"""Exporting a filtered list to .xlsx or .csv, through the viewer's visibility scope.

The rows are exactly those of the list page with the same query string: the entity's selector
(`accounts_for(user)` etc., visibility applied) narrowed by `apply_list_params` with the page's
ListSpec. The columns are the import template's (same labels), plus the system id and times, so
an exported sheet can be edited and imported back. Rows are read in chunks and written as they
come: CSV streams to the client; .xlsx is written row by row (openpyxl write-only) to a temporary
file that is then sent.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from jiepai.core.listing import ListSpec, apply_list_params
from jiepai.customers.selectors import ACCOUNT_LIST, CONTACT_LIST, accounts_for, contacts_for
from jiepai.customfields.models import FieldType
from jiepai.imports.fields import FieldSpec, field_specs
from jiepai.imports.reports import csv_safe, xlsx_cell
from jiepai.intake.selectors import LEAD_LIST, leads_for
from jiepai.org.models import User
from jiepai.pipeline.selectors import OPPORTUNITY_LIST, opportunities_for

XLSX_MAX_ROWS = 1_048_575  # Excel's limit, less the header row

SOURCES: dict[str, tuple[Callable[[User], QuerySet[Any]], ListSpec]] = {
    "account": (accounts_for, ACCOUNT_LIST),
    "contact": (contacts_for, CONTACT_LIST),
    "lead": (leads_for, LEAD_LIST),
    "opportunity": (opportunities_for, OPPORTUNITY_LIST),
}


class ExportError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def export_queryset(entity: str, user: User, params: QueryDict | dict[str, str]) -> QuerySet[Any]:
    """The rows of the entity's list page for these query parameters, as `user` sees them."""
    base, spec = SOURCES[entity]
    return apply_list_params(base(user), spec, params)


@dataclass
class Column:
    label: str
    value: Callable[[Model], Any]


def _builtin(spec: FieldSpec) -> Callable[[Model], Any]:
    name = spec.key
    if spec.kind == "user":
        return lambda r: getattr(r, name).username if getattr(r, name) else ""
    if spec.kind in ("account", "contact", "channel", "stage"):
        return lambda r: str(getattr(r, name)) if getattr(r, f"{name}_id") else ""
    if spec.kind == "choice":
        labels = dict(spec.choices)
        return lambda r: labels.get(getattr(r, name), getattr(r, name))
    return lambda r: getattr(r, name)


def _custom(spec: FieldSpec) -> Callable[[Model], Any]:
    assert spec.definition is not None
    key = spec.definition.key
    labels = dict(spec.choices)
    kind = spec.kind

    def value(record: Model) -> Any:
        raw = (getattr(record, "custom", None) or {}).get(key)
        if raw is None:
            return ""
        if kind == FieldType.MULTISELECT and isinstance(raw, list):
            return "、".join(str(labels.get(str(v), v)) for v in raw)
        if kind == FieldType.SELECT:
            return labels.get(str(raw), raw)
        if kind in (FieldType.NUMBER, FieldType.MONEY):
            try:
                return decimal.Decimal(str(raw))
            except decimal.InvalidOperation:
                return raw
        if kind == FieldType.DATE:
            try:
                return datetime.date.fromisoformat(str(raw))
            except ValueError:
                return raw
        return raw

    return value


def columns_for(entity: str) -> list[Column]:
    columns = [Column(_("系统编号"), lambda r: r.pk)]
    for spec in field_specs(entity):
        columns.append(Column(spec.label, _custom(spec) if spec.is_custom else _builtin(spec)))
    columns.append(Column(_("创建时间"), lambda r: r.created_at))
    columns.append(Column(_("更新时间"), lambda r: r.updated_at))
    return columns


def _cell(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if value is None:
        return ""
    return value


def _rows(queryset: QuerySet[Any], columns: list[Column]) -> Iterator[list[Any]]:
    for record in queryset.iterator(chunk_size=2000):
        yield [_cell(c.value(record)) for c in columns]


def csv_chunks(entity: str, queryset: QuerySet[Any]) -> Iterator[str]:
    """The CSV as text pieces for a streaming response: UTF-8 with a BOM so Excel reads the
    Chinese correctly; text a spreadsheet would run as a formula is neutralised."""
    columns = columns_for(entity)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([c.label for c in columns])
    for count, row in enumerate(_rows(queryset, columns), start=1):
        writer.writerow(
            [csv_safe(v.isoformat(sep=" ") if isinstance(v, datetime.datetime) else v) for v in row]
        )
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(entity: str, queryset: QuerySet[Any], handle: IO[bytes]) -> None:
    if queryset.count() > XLSX_MAX_ROWS:
        raise ExportError(
            _("超过 Excel 单表上限 %(n)s 行,请缩小筛选范围或导出为 CSV")
            % {"n": f"{XLSX_MAX_ROWS:,}"}
        )
    columns = columns_for(entity)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("导出"))
    sheet.append([c.label for c in columns])
    for row in _rows(queryset, columns):
        sheet.append([xlsx_cell(sheet, v) for v in row])
    workbook.save(handle)


def xlsx_file(entity: str, queryset: QuerySet[Any]) -> IO[bytes]:
    """The workbook in a temporary file (in memory up to 8 MB, then on disk), rewound."""
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_xlsx(entity, queryset, handle)
    handle.seek(0)
    return handle
