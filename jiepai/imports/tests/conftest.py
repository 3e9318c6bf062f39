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


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
CITIES = ["上海", "杭州", "苏州", "南京", "合肥", "宁波", "无锡", "温州"]
TRADES = ["机械", "电子", "医疗", "化工", "物流", "软件", "材料", "能源"]


def distinct_leads(n: int) -> list[list[Any]]:
    """`n` rows of [姓名, 公司, 手机号, 邮箱, 预算] that the duplicate matcher does not pair up."""
    rows = []
    for i in range(n):
        name = SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + GIVEN[(i * 7) % 20]
        company = (
            f"{CITIES[i % 8]}{TRADES[(i // 8) % 8]}{'甲乙丙丁戊己庚辛'[(i // 64) % 8]}有限公司"
        )
        mobile = f"13{(i * 7919) % 10**9:09d}"
        rows.append([name, company, mobile, "", ""])
    return rows
