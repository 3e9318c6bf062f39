"""`{% follow_up_panel record %}`: the "add follow-up" entry point on a lead, account, contact or
deal page, with that record's open next actions (as the viewer may see them)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone

from jiepai.activities.selectors import visible_tasks
from jiepai.core.entities import entity_of

register = template.Library()


@register.inclusion_tag("activities/_panel.html", takes_context=True)
def follow_up_panel(context: template.Context, record: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    entity = entity_of(record)
    params: dict[str, Any] = {"next": request.get_full_path() if request else ""}
    if entity == "contact":
        params.update({"account": record.account_id or "", "contact": record.pk})
    else:
        params[entity] = record.pk
    tasks = []
    if user is not None and user.is_authenticated:
        field = {"lead": "lead_id", "account": "account_id", "opportunity": "opportunity_id"}.get(
            entity
        )
        if field:
            tasks = list(visible_tasks(user).filter(done_at__isnull=True, **{field: record.pk})[:5])
    visit_params = {entity: record.pk} if entity in ("account", "lead", "opportunity") else {}
    return {
        "follow_up_url": f"{reverse('activities:follow_up_create')}?{urlencode(params)}",
        "visit_url": (
            f"{reverse('activities:visit_home')}?{urlencode(visit_params)}" if visit_params else ""
        ),
        "tasks": tasks,
        "now": timezone.now(),
        "entity": entity,
    }
