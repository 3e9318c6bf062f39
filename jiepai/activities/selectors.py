"""Reading follow-ups for a record's timeline, through the record's own visibility."""

from __future__ import annotations

from django.db.models import QuerySet

from jiepai.activities.models import Activity


def activities_for(entity: str, ids: list[int]) -> QuerySet[Activity]:
    """Follow-ups of a lead, account or opportunity (account includes its deals' and contacts')."""
    if entity == "account":
        qs = Activity.objects.filter(account_id__in=ids)
    elif entity == "contact":
        qs = Activity.objects.filter(contact_id__in=ids)
    elif entity == "lead":
        qs = Activity.objects.filter(lead_id__in=ids)
    elif entity == "opportunity":
        qs = Activity.objects.filter(opportunity_id__in=ids)
    else:
        return Activity.objects.none()
    return qs.select_related("owner", "contact")
