"""Template tags other apps' pages use to show routing:

{% load routing_tags %}
{% lead_routing_panel lead %}      the routing panel of a lead (countdown, claim, contacted
                                   links, reassign), e.g. in intake/lead_detail.html
{% if entry.item|is_routing_event %}{% routing_event entry.item %}{% endif %}
                                   a routing decision explained, in a timeline entry
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from jiepai.routing.panel import lead_actions

register = template.Library()

ROUTING_VERBS = {
    "lead.routed",
    "lead.claimed",
    "lead.locked",
    "lead.contacted",
    "lead.reassigned",
    "lead.escalated",
}


@register.inclusion_tag("routing/_lead_actions.html", takes_context=True)
def lead_routing_panel(context: template.Context, lead: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    data = lead_actions(user, lead, timezone.now())
    data["request"] = request
    data["csrf_token"] = context.get("csrf_token")
    data["panel"] = True
    return data


@register.filter
def is_routing_event(event: Any) -> bool:
    return getattr(event, "verb", "") in ROUTING_VERBS


@register.inclusion_tag("routing/_event.html")
def routing_event(event: Any) -> dict[str, Any]:
    data = event.data or {}
    candidates = data.get("candidates") or []
    return {
        "event": event,
        "data": data,
        "candidates": candidates,
        "eligible": [c for c in candidates if not c.get("excluded")],
        "excluded": [c for c in candidates if c.get("excluded")],
        "scored": any(c.get("score") is not None for c in candidates),
    }


@register.filter
def percent(value: Any) -> str:
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return "—"


@register.filter
def factor_label(name: str) -> str:
    from jiepai.routing.labels import FACTOR_LABELS

    return str(FACTOR_LABELS.get(name, name))


@register.filter
def reason_label(code: str) -> str:
    from jiepai.routing.labels import REASON_LABELS

    return str(REASON_LABELS.get(code, code))


@register.filter
def iso_datetime(value: Any) -> Any:
    """An ISO-8601 string from an event's JSON back to an aware datetime (for |date)."""
    import datetime

    if not isinstance(value, str):
        return value
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
