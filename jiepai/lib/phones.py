"""Phone numbers as people type them in China → one comparable form (E.164), no Django here.

"+86 138 0013 8000", "0086 138-0013-8000", "１３８００１３８０００" and "138 0013 8000" are the same
mobile; "(021)1234-5678", "021-12345678" and "+86 21 1234 5678" the same landline. Extensions
("转808", "分机 808", "ext. 808", "021-12345678-808") are split off: colleagues share a switchboard,
so the extension is kept for display but the key is the number itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

DEFAULT_REGION = "CN"

# "转" (transfer to) and "分机" (extension) are how Chinese business cards write extensions.
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
# 021-12345678-808 / 0755-2345678-12: area code, number, extension, all dash-separated.
_DASHED_EXTENSION = re.compile(r"^(\(?0\d{2,3}\)?[\s-]?\d{7,8})-(\d{1,6})$")
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


@dataclass(frozen=True)
class Phone:
    e164: str  # "+8613800138000": the comparable key
    extension: str  # "808" or ""
    is_mobile: bool

    def __str__(self) -> str:
        return f"{self.e164} 转{self.extension}" if self.extension else self.e164


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    # People paste numbers with Chinese punctuation and invisible separators.
    text = text.replace("—", "-").replace("–", "-").replace("－", "-").replace("\u200b", "")
    return text


def _plain_cn_mobile(text: str) -> Phone | None:
    """The fast path for what most sheets hold — a Chinese mobile, maybe with spaces, dashes or
    +86 ("138 0013 8000", "+86 138-0013-8000", 13800138000 typed as a number): whether it is a
    valid mobile is asked of phonenumbers' own metadata (number_type), only the text parsing is
    skipped, so the answer is the one parse() gives (a test compares them on many variants).
    Anything else goes the whole way."""
    digits = text.replace(" ", "").replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if len(digits) != 11 or digits[0] != "1" or digits[1] not in "3456789":
        return None
    if not digits.isdigit() or not digits.isascii():
        return None
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits))
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return _INVALID
    return Phone(e164="+86" + digits, extension="", is_mobile=kind in _MOBILE_TYPES)


_INVALID = Phone("", "", False)  # the fast path's "not a number", never returned


def parse_phone(raw: object, *, region: str = DEFAULT_REGION) -> Phone | None:
    """The phone number in `raw`, or None when it is not a valid number.

    Short numbers, numbers missing a digit and free text are None: a wrong key is worse for
    duplicate matching than no key.
    """
    if raw is None or raw == "":
        return None
    if region == DEFAULT_REGION and isinstance(raw, str | int) and not isinstance(raw, bool):
        plain = _plain_cn_mobile(str(raw))
        if plain is not None:
            return None if plain is _INVALID else plain
    return _parse(str(raw), region)


def _parse(raw: str, region: str) -> Phone | None:
    """parse_phone the whole way: clean, split off an extension, phonenumbers.parse."""
    text = _clean(raw)
    if not text or len(text) > 60:
        return None
    extension = ""
    match = _EXTENSION.search(text)
    if match:
        extension, text = match.group(1), text[: match.start()]
    else:
        dashed = _DASHED_EXTENSION.match(text)
        if dashed:
            text, extension = dashed.group(1), dashed.group(2)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    extension = extension or (number.extension or "")
    number.extension = None
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        extension=extension,
        is_mobile=phonenumbers.number_type(number) in _MOBILE_TYPES,
    )


def phone_key(raw: object, *, region: str = DEFAULT_REGION) -> str:
    """The E.164 key of `raw` ("+8613800138000"), or "" when it is not a valid number."""
    phone = parse_phone(raw, region=region)
    return phone.e164 if phone else ""


def one_digit_apart(a: str, b: str) -> bool:
    """Two keys that differ by one mistyped digit or two swapped neighbours (seed 002:
    "2条电话号码错一位"). Same length only: a missing digit makes an invalid number, no key."""
    if len(a) != len(b) or a == b:
        return False
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diffs) == 1:
        return True
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and a[diffs[0]] == b[diffs[1]]
        and a[diffs[1]] == b[diffs[0]]
    )
