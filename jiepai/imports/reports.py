"""Spreadsheets Jiepai writes: the rejected rows of an import, and an empty template per entity.

The error report has the file's own header row plus an "错误原因" column, so a person fixes the
cells and imports the same sheet again (the extra column maps to no field and is ignored).
Templates carry the entity's current fields, custom fields included, with Excel drop-down lists
for choice fields (options in a hidden sheet, so long lists work).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from jiepai.customfields.models import FieldType
from jiepai.imports.fields import field_specs
from jiepai.imports.models import ImportJob, ImportRowResult, RowOutcome
from jiepai.imports.readers import column_letter

ERROR_COLUMN = gettext_lazy("错误原因")
_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FDE7D9")


_NUMBER_LIKE = re.compile(r"^[+-]?[\d\s().,-]*$")


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """A value for a write-only sheet; text starting with "=" stays text, never a formula."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def csv_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection);
    numbers and phone numbers such as +86 138… are left alone."""
    if (
        isinstance(value, str)
        and value[:1] in ("=", "+", "-", "@", "\t", "\r")
        and not _NUMBER_LIKE.match(value)
    ):
        return "'" + value
    return value


def write_error_report(
    job: ImportJob, handle: IO[bytes], *, rows: Iterable[Any] | None = None
) -> None:
    """Rejected rows of `job` (or the given results of a dry run) as .xlsx into `handle`."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("未导入的行"))
    headers = [h or column_letter(i) for i, h in enumerate(job.headers)]
    sheet.append([*headers, str(ERROR_COLUMN), _("原行号")])
    if rows is None:
        rows = (
            ImportRowResult.objects.filter(job=job, outcome=RowOutcome.FAILED)
            .order_by("row_number")
            .iterator(chunk_size=2000)
        )
    for result in rows:
        values = list(getattr(result, "values", None) or getattr(result, "cells", []))
        values = [*values, *[""] * (len(headers) - len(values))][: max(len(headers), len(values))]
        message = ";".join(
            f"{e['column']}:{e['message']}" if e.get("column") else e["message"]
            for e in result.errors
        )
        sheet.append([*(xlsx_cell(sheet, v) for v in values), message, result.row_number])
    workbook.save(handle)


def _hint(kind: str) -> str:
    return {
        "date": _("日期,如 2026-02-17、2026/2/17、2026年2月17日"),
        FieldType.DATE: _("日期,如 2026-02-17、2026/2/17、2026年2月17日"),
        "decimal": _("数字,可写 12万、¥3,000"),
        FieldType.MONEY: _("金额,可写 12万、¥3,000"),
        FieldType.NUMBER: _("数字"),
        "integer": _("整数"),
        "user": _("填写用户名或姓名"),
        FieldType.USER: _("填写用户名或姓名"),
        FieldType.MULTISELECT: _("可填多个,用、或逗号分隔"),
        "account": _("已有客户的名称或外部编号"),
        "contact": _("该客户下联系人的姓名或外部编号"),
        "stage": _("阶段名称,不填则为第一个阶段"),
        "channel": _("渠道名称,不填则为“批量导入”"),
    }.get(kind, "")


def write_template(entity: str, handle: IO[bytes]) -> None:
    """An empty import sheet for `entity` with its current fields as headers."""
    specs = field_specs(entity)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("导入模板")
    options = workbook.create_sheet(_("选项"))
    options.sheet_state = "hidden"
    option_column = 0
    for index, spec in enumerate(specs):
        letter = column_letter(index)
        cell = sheet.cell(
            row=1, column=index + 1, value=spec.label + (" *" if spec.required else "")
        )
        cell.font = _HEADER_FONT
        if spec.required:
            cell.fill = _REQUIRED_FILL
        sheet.column_dimensions[letter].width = max(12, len(spec.label) * 2 + 4)
        hint = _hint(spec.kind)
        if spec.choices:
            hint = _("可选:") + "、".join(label for _v, label in spec.choices)
            if spec.kind == FieldType.MULTISELECT:
                hint += ";" + _("可填多个,用、或逗号分隔")
        if hint:
            cell.comment = Comment(hint, "Jiepai")
        if spec.choices and spec.kind in ("choice", FieldType.SELECT, FieldType.MULTISELECT):
            option_letter = column_letter(option_column)
            option_column += 1
            options.cell(row=1, column=option_column, value=spec.label)
            for row, (_value, label) in enumerate(spec.choices, start=2):
                options.cell(row=row, column=option_column, value=label)
            last = len(spec.choices) + 1
            validation = DataValidation(
                type="list",
                formula1=f"'{options.title}'!${option_letter}$2:${option_letter}${last}",
                allow_blank=True,
                # A multi-select cell holds several values: offer the list, do not refuse.
                showErrorMessage=spec.kind != FieldType.MULTISELECT,
                errorTitle=_("不是可选项"),
                error=_("请从下拉列表中选择"),
            )
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}10001")
    sheet.freeze_panes = "A2"
    workbook.save(handle)
