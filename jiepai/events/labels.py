"""How an Event reads on a timeline. Apps register the verbs they write."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jiepai.core.entities import ENTITY_MODELS, model_for
from jiepai.events.models import Event

VERB_LABELS: dict[str, str | Promise] = {
    "lead.created": _("创建了线索"),
    "lead.updated": _("修改了线索"),
    "account.created": _("创建了客户"),
    "account.updated": _("修改了客户"),
    "contact.created": _("创建了联系人"),
    "contact.updated": _("修改了联系人"),
    "opportunity.created": _("创建了商机"),
    "opportunity.updated": _("修改了商机"),
    "tag.added": _("添加了标签"),
    "tag.removed": _("移除了标签"),
}


def register_verb_labels(labels: dict[str, str | Promise]) -> None:
    VERB_LABELS.update(labels)


def verb_label(verb: str) -> str:
    return str(VERB_LABELS.get(verb, verb))


def field_label(subject_type: str, name: str) -> str:
    if name == "custom":
        return str(_("自定义字段"))
    if subject_type not in ENTITY_MODELS:
        return name
    try:
        return str(model_for(subject_type)._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def changes(event: Event) -> list[dict[str, Any]]:
    """[{"field": label, "before": x, "after": y}] for the fields an event changed."""
    keys = list(dict.fromkeys([*event.before.keys(), *event.after.keys()]))
    return [
        {
            "field": field_label(event.subject_type, key),
            "before": event.before.get(key),
            "after": event.after.get(key),
        }
        for key in keys
    ]
