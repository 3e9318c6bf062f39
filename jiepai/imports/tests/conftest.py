"""Spreadsheet builders for the import tests."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook


def write_xlsx(path: Path, rows: list[list[Any]], *, merge: list[str] | None = None) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for area in merge or []:
        sheet.merge_cells(area)
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def sheet(tmp_path: Path) -> Callable[..., Path]:
    """sheet(rows, name="x.xlsx", merge=[...]) → a file in tmp_path (.xlsx or .csv by name)."""

    def build(rows: list[list[Any]], name: str = "data.xlsx", **kwargs: Any) -> Path:
        path = tmp_path / name
        if name.endswith(".csv"):
            return write_csv(path, rows, **kwargs)
        return write_xlsx(path, rows, **kwargs)

    return build
