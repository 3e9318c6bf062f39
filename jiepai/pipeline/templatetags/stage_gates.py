"""`{% stage_panel opportunity %}`: the stage box on a deal's page — where it is, how long it has
been there, what the next stage's gate still needs, and the buttons to move it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone

from jiepai.pipeline.kanban import is_stalled
from jiepai.pipeline.models import Opportunity, Stage
from jiepai.pipeline.stages import allowed_targets, preview_move

register = template.Library()


def next_stage(opportunity: Opportunity) -> Stage | None:
    current = opportunity.stage
    if current.is_closed:
        return None
    later = [
        s
        for s in current.pipeline.stages.order_by("position", "id")
        if not s.is_lost and (s.position, s.pk) > (current.position, current.pk)
    ]
    return later[0] if later else None


@register.inclusion_tag("pipeline/board_stage_panel.html", takes_context=True)
def stage_panel(context: dict[str, Any], opportunity: Opportunity) -> dict[str, Any]:
    user = context["request"].user
    now = timezone.now()
    upcoming = next_stage(opportunity)
    missing = preview_move(opportunity=opportunity, to_stage=upcoming, now=now) if upcoming else []
    return {
        "deal": opportunity,
        "next": upcoming,
        "missing": missing,
        "targets": allowed_targets(opportunity, user),
        "stalled": is_stalled(opportunity, now),
    }


@register.filter
def yuan(value: object) -> str:
    """A whole-yuan amount with thousands separators (Django's zh-Hans format groups nothing)."""
    try:
        return f"{round(Decimal(str(value))):,}"
    except (InvalidOperation, ValueError, TypeError):
        return ""
