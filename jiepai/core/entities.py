"""The record types users work with, by their short name ("lead", "account", ...).

Events, tags, attachments and custom fields refer to a record as (entity, id); this is the one
place that maps the short name to its model.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _

ENTITY_MODELS: dict[str, str] = {
    "lead": "intake.Lead",
    "account": "customers.Account",
    "contact": "customers.Contact",
    "opportunity": "pipeline.Opportunity",
}

ENTITY_LABELS = {
    "lead": _("线索"),
    "account": _("客户"),
    "contact": _("联系人"),
    "opportunity": _("商机"),
}

ENTITY_CHOICES = [(key, label) for key, label in ENTITY_LABELS.items()]


def model_for(entity: str) -> type[models.Model]:
    return apps.get_model(ENTITY_MODELS[entity])


def entity_of(instance: models.Model) -> str:
    label = instance._meta.label
    for entity, model_label in ENTITY_MODELS.items():
        if model_label == label:
            return entity
    return instance._meta.model_name or label
