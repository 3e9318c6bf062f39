"""Duplicates of imported rows among existing records: the one place the importer asks.

Until the dedup app's matcher lands this is exact matching on normalised keys (mobile digits,
lower-cased e-mail, credit code, company name without spaces), done for a whole chunk of rows
with one query per key field. `find_existing` and `flag_duplicates` are the two functions to
switch over to jiepai.dedup.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from jiepai.core.entities import model_for
from jiepai.events.services import record_event
from jiepai.lib.values import to_half_width

_NON_DIGITS = re.compile(r"\D")


def normalise_mobile(value: Any) -> str:
    digits = _NON_DIGITS.sub("", to_half_width(str(value or "")))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if len(digits) >= 7 else ""


def normalise_email(value: Any) -> str:
    return to_half_width(str(value or "")).lower()


def normalise_name(value: Any) -> str:
    return re.sub(r"\s+", "", to_half_width(str(value or ""))).lower()


def normalise_code(value: Any) -> str:
    return re.sub(r"\s+", "", to_half_width(str(value or ""))).upper()


@dataclass(frozen=True)
class KeyField:
    field: str
    normalise: Callable[[Any], str]
    reason: str  # shown to the person: "手机号相同"


def key_fields(entity: str) -> tuple[KeyField, ...]:
    if entity in ("lead", "contact"):
        return (
            KeyField("mobile", normalise_mobile, _("手机号相同")),
            KeyField("email", normalise_email, _("邮箱相同")),
        )
    if entity == "account":
        return (
            KeyField("credit_code", normalise_code, _("统一社会信用代码相同")),
            KeyField("name", normalise_name, _("客户名称相同")),
        )
    return ()


def match_keys(entity: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, normalised key) pairs of one row's values, for finding and indexing duplicates."""
    keys = []
    for key_field in key_fields(entity):
        normalised = key_field.normalise(values.get(key_field.field))
        if normalised:
            keys.append((key_field.field, normalised))
    external = str(values.get("external_id") or "").strip()
    if external:
        keys.append(("external_id", external))
    return keys


def reason_for(entity: str, field: str) -> str:
    if field == "external_id":
        return _("外部编号相同")
    for key_field in key_fields(entity):
        if key_field.field == field:
            return key_field.reason
    return field


def _live(model: type[Model]) -> Any:
    qs = model._default_manager.all()
    if any(f.name == "merged_into" for f in model._meta.get_fields()):
        qs = qs.filter(merged_into__isnull=True)
    return qs


def find_existing(entity: str, rows: list[dict[str, Any]]) -> list[list[tuple[int, str]]]:
    """For each row's values, the existing records it duplicates: [(record id, reason), ...],
    strongest evidence first. Looks at every live record, whoever can see it (visibility is
    applied when deciding what to do with the match)."""
    model = model_for(entity)
    wanted: dict[str, set[str]] = {}
    per_row = [match_keys(entity, values) for values in rows]
    for values, keys in zip(rows, per_row, strict=True):
        for field, key in keys:
            # Look up both the normalised key and the value as typed: stored values are
            # whatever people typed, and an indexed `IN` beats a case-insensitive scan.
            wanted.setdefault(field, set()).update((key, str(values.get(field, "")).strip()))
    index: dict[tuple[str, str], list[int]] = {}
    normalisers = {k.field: k.normalise for k in key_fields(entity)}
    for field, keys in wanted.items():
        if not keys:
            continue
        raw_forms = {k for k in keys if k}
        if field == "mobile":
            raw_forms |= {f"+86{k}" for k in keys if k.isdigit()}
        found = _live(model).filter(**{f"{field}__in": raw_forms})
        normalise = normalisers.get(field, lambda v: str(v).strip())
        for pk, value in found.values_list("pk", field):
            index.setdefault((field, normalise(value)), []).append(pk)
    results: list[list[tuple[int, str]]] = []
    for keys in per_row:
        matches: list[tuple[int, str]] = []
        seen: set[int] = set()
        for field, key in sorted(keys, key=lambda k: k[0] != "external_id"):
            for pk in index.get((field, key), []):
                if pk not in seen:
                    seen.add(pk)
                    matches.append((pk, reason_for(entity, field)))
        results.append(matches)
    return results


def flag_duplicates(
    *,
    entity: str,
    record_id: int,
    candidate_ids: list[int],
    reasons: list[str],
    actor: Any,
    now: datetime.datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Mark a record as a likely duplicate of others, for review (the dedup app's queue reads
    the trace until it has its own table). Call inside the write's transaction."""
    payload = {"candidates": candidate_ids, "reasons": reasons, **(data or {})}
    record_event(
        subject_type=entity,
        subject_id=record_id,
        verb="duplicate.flagged",
        actor=actor,
        data=payload,
        now=now,
    )
    for other in candidate_ids:
        record_event(
            subject_type=entity,
            subject_id=other,
            verb="duplicate.flagged",
            actor=actor,
            data={"candidates": [record_id], "reasons": reasons, **(data or {})},
            now=now,
        )
