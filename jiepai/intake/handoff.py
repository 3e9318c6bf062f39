"""Handing a complete lead to routing: the one call site between intake and jiepai.routing."""

from __future__ import annotations

import datetime
from typing import Any

from jiepai.intake.models import Lead


def hand_to_routing(*, lead: Lead, now: datetime.datetime, actor: Any = None) -> Any:
    """Route a lead that is complete and not held in the nurture pool, in the caller's
    transaction (the lead and its assignment commit together). Routing decides, explains and
    writes (`lead.routed`); with nobody eligible the lead stays `unassigned` in its queue.
    Returns routing's RoutingDecision."""
    from jiepai.routing.services import route_lead  # routing imports intake's models

    return route_lead(lead=lead, now=now, actor=actor)
