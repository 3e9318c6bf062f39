"""Chinese text helpers shared by the name normalisers, no Django here."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Traditional → simplified characters (OpenCC t2s); other text unchanged."""
    return _T2S.convert(text) if text else text


def is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def fold(text: str) -> str:
    """Half width (NFKC), simplified, lower case, trimmed: the base of every comparison."""
    return to_simplified(unicodedata.normalize("NFKC", text).strip().lower())
