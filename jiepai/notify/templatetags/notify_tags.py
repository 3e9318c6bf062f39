from __future__ import annotations

from django import template

from jiepai.notify.selectors import unread_count

register = template.Library()


@register.inclusion_tag("notify/badge.html", takes_context=True)
def inbox_badge(context: template.Context) -> dict[str, object]:
    """The top-bar bell with the unread count; htmx refreshes it (see badge.html)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"unread": 0, "hidden": True}
    return {"unread": unread_count(user)}
