"""Handing a complete lead to routing: the one call site between intake and jiepai.routing."""

from __future__ import annotations

import datetime
import importlib
import importlib.util
from typing import Any

from jiepai.intake.models import Lead


def hand_to_routing(*, lead: Lead, now: datetime.datetime, actor: Any = None) -> Lead:
    """Route a lead that is complete and not held in the nurture pool, in the caller's
    transaction (the lead and its assignment commit together).

    ROUTING HOOK: until jiepai.routing exposes `route_lead(lead=..., now=...)` in its
    services module, the lead stays `unassigned` (the manager's unassigned queue).
    """
    if importlib.util.find_spec("jiepai.routing") is None:
        return lead
    services = importlib.import_module("jiepai.routing.services")
    route_lead = getattr(services, "route_lead", None)
    if route_lead is None:
        return lead
    route_lead(lead=lead, now=now, actor=actor)
    return lead
