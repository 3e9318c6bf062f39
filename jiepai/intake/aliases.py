"""Field alias maps: what a channel calls a field (`手机号`, `mobile_phone`) → what Jiepai calls it.

The shipped dictionary (data/default_aliases.yaml) covers the names common CMSs, site builders,
form services and ad platforms use; a channel's own `alias_map` wins over it. Names are compared
after `alias_key` (case, width, spaces and punctuation ignored), so one entry covers
"Mobile Phone", "mobile_phone" and "mobilePhone".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _

#: lead columns an intake payload can fill
LEAD_VALUE_FIELDS = (
    "name",
    "title",
    "company",
    "mobile",
    "email",
    "wechat",
    "industry",
    "province",
    "city",
    "budget",
    "message",
)
#: where the lead came from; kept in Lead.source_detail
SOURCE_FIELDS = (
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "keyword",
    "booth",
    "ad_id",
    "form_name",
)
#: identities: the anonymous visitor (behaviour events merge on it) and the sender's own id
IDENTITY_FIELDS = ("visitor_id", "external_id")
TARGET_FIELDS = LEAD_VALUE_FIELDS + SOURCE_FIELDS + IDENTITY_FIELDS
CUSTOM_PREFIX = "custom."

_KEY_NOISE = re.compile(r"[\s_\-.:：/\\()（）\[\]【】*]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_DATA_FILE = Path(__file__).parent / "data" / "default_aliases.yaml"
_LABEL_KEYS = ("name", "label", "key", "field", "title", "question")


def alias_key(name: str) -> str:
    """The comparable form of a field name: NFKC, camelCase split, case-folded, no separators."""
    text = unicodedata.normalize("NFKC", str(name)).strip()
    text = _CAMEL.sub("_", text)
    return unicodedata.normalize("NFKC", _KEY_NOISE.sub("", text).casefold())


@functools.cache
def default_aliases() -> dict[str, str]:
    """alias_key(name) → target field, from the shipped dictionary (the field names themselves
    included)."""
    data = yaml.safe_load(_DATA_FILE.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    for target in TARGET_FIELDS:
        aliases[alias_key(target)] = target
    for target, names in data.items():
        if target not in TARGET_FIELDS:
            raise ValueError(f"default_aliases.yaml: unknown field {target!r}")
        for name in names:
            aliases.setdefault(alias_key(name), target)
    return aliases


def is_target(name: str) -> bool:
    return name in TARGET_FIELDS or (name.startswith(CUSTOM_PREFIX) and len(name) > 7)


def check_alias_map(value: object) -> str | None:
    """A reason the alias map is unusable, or None."""
    if not isinstance(value, dict):
        return _("别名映射必须是“对方字段名: 线索字段”的对象")
    for source, target in value.items():
        if not isinstance(target, str) or not is_target(target):
            allowed = ", ".join(TARGET_FIELDS)
            return _("“%(source)s”映射到了未知字段“%(target)s”;可用:%(allowed)s、custom.<键>") % {
                "source": source,
                "target": target,
                "allowed": allowed,
            }
    return None


def check_field_list(value: object) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return _('必须是字段名列表,如 ["company", "title", "mobile"]')
    unknown = [v for v in value if v not in LEAD_VALUE_FIELDS and not is_target(v)]
    if unknown:
        return _("未知字段:%(fields)s") % {"fields": ", ".join(unknown)}
    return None


def flatten(payload: object) -> list[tuple[str, Any]]:
    """(name, value) pairs from a payload as platforms send them: a flat object, an object with
    nested objects ({"data": {...}}), or lists of {"label": "手机号", "value": "..."} items."""
    pairs: list[tuple[str, Any]] = []
    _flatten_into(payload, pairs, depth=0)
    return pairs


def _flatten_into(node: object, pairs: list[tuple[str, Any]], depth: int) -> None:
    if depth > 3:
        return
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, Mapping | list):
                if isinstance(value, list) and all(
                    not isinstance(v, Mapping | list) for v in value
                ):
                    pairs.append((str(key), ", ".join(str(v) for v in value if v is not None)))
                else:
                    _flatten_into(value, pairs, depth + 1)
            else:
                pairs.append((str(key), value))
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, Mapping) and "value" in item:
                label = next((item[k] for k in _LABEL_KEYS if item.get(k)), None)
                if label is not None and not isinstance(item["value"], Mapping | list):
                    pairs.append((str(label), item["value"]))
                    continue
            _flatten_into(item, pairs, depth + 1)


@dataclass
class MappedPayload:
    values: dict[str, Any] = field(default_factory=dict)  # target field → raw value
    custom: dict[str, Any] = field(default_factory=dict)  # custom field key → raw value
    unmapped: list[str] = field(default_factory=list)  # names nobody claimed (kept in raw only)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def map_fields(
    payload: object,
    *,
    channel_aliases: Mapping[str, str] | None = None,
    custom_keys: Iterable[str] = (),
) -> MappedPayload:
    """Sort a payload's fields into lead fields, custom fields and the rest. The first non-blank
    value for a field wins; everything stays in the raw payload regardless."""
    own = {alias_key(k): v for k, v in (channel_aliases or {}).items()}
    defaults = default_aliases()
    custom = {alias_key(k): k for k in custom_keys}
    mapped = MappedPayload()
    for name, value in flatten(payload):
        key = alias_key(name)
        target = own.get(key) or defaults.get(key)
        if target is None and key in custom:
            target = CUSTOM_PREFIX + custom[key]
        if target is None:
            if name not in mapped.unmapped:
                mapped.unmapped.append(name)
            continue
        if _is_blank(value):
            continue
        if target.startswith(CUSTOM_PREFIX):
            mapped.custom.setdefault(target[len(CUSTOM_PREFIX) :], value)
        else:
            mapped.values.setdefault(target, value)
    return mapped
