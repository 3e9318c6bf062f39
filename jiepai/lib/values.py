"""Parsing the values people type or paste (numbers, money, dates) — no Django here."""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation

_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_DATE_PATTERNS = [
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_DATETIME_TAIL = re.compile(r"^(.*?)[\sT]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")


def to_half_width(text: str) -> str:
    """Full-width letters, digits and punctuation → half-width (NFKC), whitespace trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_decimal(value: object) -> Decimal:
    """'1,234.5', '１２万', '¥3000', 3000.0 → Decimal. Raises ValueError with a readable reason."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    text = to_half_width(str(value)).replace(",", "").replace("¥", "").replace("￥", "")
    text = text.removesuffix("元").strip()
    multiplier = Decimal(1)
    if text.endswith("万"):
        multiplier, text = Decimal(10000), text[:-1]
    elif text.endswith("亿"):
        multiplier, text = Decimal(100000000), text[:-1]
    try:
        number = Decimal(text) * multiplier
    except InvalidOperation as exc:
        raise ValueError(f"“{value}” is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"“{value}” is not a number")
    return number


def parse_date(value: object) -> datetime.date:
    """A date in the usual Chinese forms: 2026年2月17日, 2026/2/17, 2026-02-17, 20260217,
    an Excel serial number, or a date/datetime object."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise ValueError(f"“{value}” is not a date")
        return _EXCEL_EPOCH + datetime.timedelta(days=int(value))
    text = to_half_width(str(value))
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return parse_date(float(text))
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return datetime.date(year, month, day)
            except ValueError as exc:
                raise ValueError(f"“{value}” is not a valid date") from exc
    raise ValueError(f"“{value}” is not a date")


def parse_datetime(value: object) -> datetime.datetime:
    """A naive datetime from '2026-02-17 14:30', '2026年2月17日 14:30', Excel serials, objects."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        day = parse_date(value)
        seconds = round((float(value) % 1) * 86400)
        return datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(seconds=seconds)
    text = to_half_width(str(value))
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _DATETIME_TAIL.match(text)
    if match:
        day = parse_date(match.group(1))
        hour, minute, second = int(match.group(2)), int(match.group(3)), int(match.group(4) or 0)
        try:
            return datetime.datetime.combine(day, datetime.time(hour, minute, second))
        except ValueError as exc:
            raise ValueError(f"“{value}” is not a valid time") from exc
    return datetime.datetime.combine(parse_date(text), datetime.time())
