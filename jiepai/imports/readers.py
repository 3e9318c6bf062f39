"""Reading the rows of an uploaded .xlsx, .xls or .csv, refusing bad files with a clear reason.

What a file *is* is decided by its first bytes, not its name: Chinese business systems often
export real .xlsx files named .xls, or CSV named .xls. The extension only has to be one we
accept. Before any row is read into Python, the row count is checked against the limit with a
streaming pass (an .xlsx sheet's XML is scanned in 1 MB pieces; a CSV is counted row by row), so a
file over the limit is refused without holding it in memory.

python-calamine reads .xlsx/.xls (the sheet's cells live in Rust; Python sees one row at a time).
Calamine returns a formula's cached value; a formula saved without one (files written by some
tools) would read as empty, so such cells are found in the sheet XML and reported per row.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree  # expat ≥ 2.4.1 limits entity expansion; no external entities

import python_calamine
from django.utils.translation import gettext as _

EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_CHUNK = 1024 * 1024
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>]")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class ReadError(Exception):
    """A file we cannot import, with the reason in words for the person who uploaded it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Cell = Any  # str | int | float | bool | date | datetime | time | timedelta


@dataclass
class Table:
    """One sheet: `rows()` yields (1-based row number, cells) for rows that are not all empty.

    Cells are aligned so that index 0 is column A. `formula_cells` holds (row number, column index)
    of formulas that have no computed value in the file.
    """

    kind: str
    sheet_name: str
    row_count: int
    encoding: str = ""
    formula_cells: set[tuple[int, int]] = field(default_factory=set)
    _path: Path | None = None
    _delimiter: str = ","

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        assert self._path is not None
        if self.kind == "csv":
            yield from _csv_rows(self._path, self.encoding, self._delimiter)
        else:
            yield from _calamine_rows(self._path, self.sheet_name, self.kind)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def open_table(path: Path, *, filename: str, max_rows: int) -> Table:
    """Check the file and return its first visible sheet; raises ReadError with the reason."""
    extension = Path(filename).suffix.lower()
    if extension not in EXTENSIONS:
        raise ReadError(
            _("不支持“%(ext)s”文件,请上传 .xlsx、.xls 或 .csv 文件")
            % {"ext": extension or filename}
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise ReadError(_("文件无法读取")) from exc
    if not head:
        raise ReadError(_("文件是空的(0 字节)"))
    if head.startswith(_ZIP_MAGIC):
        return _open_xlsx(path, max_rows=max_rows)
    if head == _CFB_MAGIC:
        if _contains(path, _ENCRYPTED_STREAM):
            raise ReadError(_("文件设置了打开密码,请在 Excel 中取消密码后再导入"))
        return _open_xls(path, max_rows=max_rows)
    return _open_csv(path, max_rows=max_rows)


def _too_many(max_rows: int) -> ReadError:
    return ReadError(
        _("数据超过单次导入上限 %(limit)s 行,请拆分成多个文件后再导入") % {"limit": f"{max_rows:,}"}
    )


def _contains(path: Path, needle: bytes) -> bool:
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


# --- xlsx -------------------------------------------------------------------------------------


def _first_visible_sheet(workbook: python_calamine.CalamineWorkbook) -> tuple[int, str]:
    for index, meta in enumerate(workbook.sheets_metadata):
        if (
            meta.visible == python_calamine.SheetVisibleEnum.Visible
            and meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        ):
            return index, meta.name
    raise ReadError(_("文件里没有可见的工作表"))


def _sheet_part(archive: zipfile.ZipFile, sheet_index: int) -> str:
    """The zip member holding the sheet at `sheet_index` (workbook order)."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
    sheets = [s for s in workbook.iter(f"{_NS_MAIN}sheet")]
    rel_id = sheets[sheet_index].get(f"{_NS_REL}id")
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    for rel in rels.iter(f"{_NS_PKG_REL}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise KeyError(rel_id)


def _scan_sheet_xml(archive: zipfile.ZipFile, member: str, max_rows: int) -> tuple[int, bool]:
    """Count <row> elements (stopping past the limit) and note whether any formula exists,
    streaming the member in 1 MB pieces so memory stays flat whatever the file's size."""
    rows = 0
    has_formula = False
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            rows += len(_ROW_TAG.findall(window)) - len(_ROW_TAG.findall(tail))
            has_formula = has_formula or bool(_FORMULA_TAG.search(window))
            if rows > max_rows + 1:  # one header row is allowed on top of the limit
                raise _too_many(max_rows)
            tail = chunk[-16:]
    return rows, has_formula


def _uncomputed_formulas(archive: zipfile.ZipFile, member: str) -> set[tuple[int, int]]:
    """(row number, column index) of formula cells that carry no cached value."""
    found: set[tuple[int, int]] = set()
    with archive.open(member) as stream:
        for _event, element in ElementTree.iterparse(stream):  # noqa: S314
            if element.tag != f"{_NS_MAIN}c":
                if element.tag == f"{_NS_MAIN}row":
                    element.clear()
                continue
            formula = element.find(f"{_NS_MAIN}f")
            value = element.find(f"{_NS_MAIN}v")
            if formula is not None and (value is None or not (value.text or "").strip()):
                match = _CELL_REF.match(element.get("r", ""))
                if match:
                    column = 0
                    for letter in match.group(1):
                        column = column * 26 + ord(letter) - 64
                    found.add((int(match.group(2)), column - 1))
    return found


def _open_xlsx(path: Path, *, max_rows: int) -> Table:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(_("文件已损坏,无法作为 Excel 打开")) from exc
    with archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise ReadError(_("文件内容不是 Excel 工作簿(可能是 Word 文档或压缩包)"))
        workbook = _calamine(path, "xlsx")
        index, name = _first_visible_sheet(workbook)
        try:
            member = _sheet_part(archive, index)
            rows, has_formula = _scan_sheet_xml(archive, member, max_rows)
            formulas = _uncomputed_formulas(archive, member) if has_formula else set()
        except (KeyError, IndexError, ElementTree.ParseError, zipfile.BadZipFile) as exc:
            raise ReadError(_("文件已损坏,无法作为 Excel 打开")) from exc
        except (OSError, EOFError, zipfile.LargeZipFile) as exc:
            raise ReadError(_("文件已损坏,无法作为 Excel 打开")) from exc
    table = Table(kind="xlsx", sheet_name=name, row_count=rows, formula_cells=formulas)
    table._path = path
    return table


def _calamine(path: Path, kind: str) -> python_calamine.CalamineWorkbook:
    expected = (".xlsx", ".xlsm") if kind == "xlsx" else (".xls",)
    try:
        if path.suffix.lower() in expected:
            return python_calamine.CalamineWorkbook.from_path(str(path))
        # Named otherwise (or an .xlsx named .xls): calamine then decides by the content.
        with path.open("rb") as handle:
            return python_calamine.CalamineWorkbook.from_filelike(handle)
    except python_calamine.PasswordError as exc:
        raise ReadError(_("文件设置了打开密码,请在 Excel 中取消密码后再导入")) from exc
    except (python_calamine.CalamineError, OSError, ValueError) as exc:
        raise ReadError(_("文件已损坏,无法作为 Excel 打开")) from exc


def _open_xls(path: Path, *, max_rows: int) -> Table:
    workbook = _calamine(path, "xls")
    _index, name = _first_visible_sheet(workbook)
    try:
        sheet = workbook.get_sheet_by_name(name)
    except python_calamine.CalamineError as exc:
        raise ReadError(_("文件已损坏,无法作为 Excel 打开")) from exc
    # .xls holds at most 65,536 rows, so loading the sheet to count is bounded.
    if sheet.total_height > max_rows + 1:
        raise _too_many(max_rows)
    table = Table(kind="xls", sheet_name=name, row_count=sheet.total_height)
    table._path = path
    return table


def _tidy(value: Cell) -> Cell:
    """Calamine gives every number as float: 13800138000.0 → 13800138000, 12.5 stays."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _calamine_rows(path: Path, sheet_name: str, kind: str) -> Iterator[tuple[int, list[Cell]]]:
    workbook = _calamine(path, kind)
    try:
        sheet = workbook.get_sheet_by_name(sheet_name)
    except python_calamine.CalamineError as exc:
        raise ReadError(_("文件已损坏,无法作为 Excel 打开")) from exc
    if sheet.start is None:
        return
    first_row, first_col = sheet.start
    # Merged cells: Excel shows the top-left value across the area; calamine gives it once.
    # We carry it down the rows of the area's first column (a company cell merged over several
    # contacts), which is what the person reading the sheet sees.
    carry: dict[int, list[tuple[int, Cell]]] = {}
    merged = sheet.merged_cell_ranges or []
    starts: dict[int, list[tuple[int, int, int]]] = {}
    for (r0, c0), (r1, _c1) in merged:
        if r1 > r0:
            starts.setdefault(r0, []).append((c0, r0 + 1, r1))
    padding = [""] * first_col
    for offset, raw in enumerate(sheet.iter_rows()):
        row_index = first_row + offset
        cells = [*padding, *(_tidy(v) for v in raw)]
        for column, value in carry.pop(row_index, []):
            if column < len(cells) and cells[column] == "":
                cells[column] = value
        for column, r_from, r_to in starts.get(row_index, []):
            value = cells[column] if column < len(cells) else ""
            for r in range(r_from, r_to + 1):
                carry.setdefault(r, []).append((column, value))
        if any(v != "" and v is not None for v in cells):
            yield row_index + 1, cells


# --- csv --------------------------------------------------------------------------------------


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise ReadError(_("无法识别文件编码,请另存为 UTF-8 或 GBK 编码的 CSV")) from exc


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[Cell]]]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        for cells in reader:
            if any(c.strip() for c in cells):
                yield reader.line_num, cells


def _open_csv(path: Path, *, max_rows: int) -> Table:
    with path.open("rb") as handle:
        sample = handle.read(64 * 1024)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReadError(_("文件内容不是 Excel 或 CSV 表格"))
    encoding = detect_encoding(sample)
    text_start = sample.decode(encoding, errors="ignore").lstrip()
    if text_start[:1] == "<":
        raise ReadError(_("这是网页(HTML)格式的表格,请在 Excel 中另存为 .xlsx 后再导入"))
    if text_start.startswith("%PDF"):
        raise ReadError(_("文件内容不是 Excel 或 CSV 表格"))
    delimiter = _delimiter(text_start.splitlines()[0] if text_start else "")
    # The counting pass decodes the whole file, so a bad byte anywhere is found before any row
    # is written, and stops one row past the limit.
    rows = 0
    try:
        for _number, _cells in _csv_rows(path, encoding, delimiter):
            rows += 1
            if rows > max_rows + 1:
                raise _too_many(max_rows)
    except UnicodeDecodeError as exc:
        raise ReadError(_("文件中有无法识别的字符,请另存为 UTF-8 或 GBK 编码的 CSV")) from exc
    except csv.Error as exc:
        raise ReadError(_("CSV 格式有误:%(reason)s") % {"reason": exc}) from exc
    table = Table(kind="csv", sheet_name="", row_count=rows, encoding=encoding)
    table._path = path
    table._delimiter = delimiter
    return table
