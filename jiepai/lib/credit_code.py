"""The unified social credit code 统一社会信用代码 (GB 32100-2015), no Django here.

18 characters: registration authority (1), organisation type (1), administrative division (6
digits), organisation code (9), check character (1). The alphabet has 31 characters (no I, O, S,
V, Z); the check character is 31 − (Σ value × weight mod 31), the weights being 3^i mod 31.
Because 31 is prime and no weight is 0, any single mistyped character is detected.
"""

from __future__ import annotations

import re
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_SHAPE = re.compile(rf"^[{ALPHABET}]{{2}}\d{{6}}[{ALPHABET}]{{10}}$")


def normalize_credit_code(raw: object) -> str:
    """Upper case, half width, without spaces and dashes; not validated."""
    if raw is None:
        return ""
    text = re.sub(r"[\s\-_.]", "", unicodedata.normalize("NFKC", str(raw)).upper())
    # once more: removing a space can leave a combining mark that composes with its neighbour
    return unicodedata.normalize("NFKC", text)


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be in the alphabet)."""
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    """True for a normalised 18-character code whose check character is right."""
    if not _SHAPE.match(code):
        return False
    return check_character(code[:17]) == code[17]


def credit_code_key(raw: object) -> str:
    """The code as a matching key, or "" when it is not a valid code."""
    code = normalize_credit_code(raw)
    return code if is_valid_credit_code(code) else ""
