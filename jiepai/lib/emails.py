"""E-mail addresses as matching keys, no Django here."""

from __future__ import annotations

from jiepai.lib.text import fold


def normalize_email(raw: object) -> str:
    """E-mail addresses compare lower-cased and trimmed; "" when it is not an address."""
    text = fold(str(raw or "")).replace(" ", "")
    if text.count("@") != 1:
        return ""
    local, _, domain = text.partition("@")
    if not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        return ""
    return text
