"""Reading leads, always through the viewer's visibility."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from jiepai.core.listing import Filter, ListSpec
from jiepai.intake.models import Channel, Lead, LeadState
from jiepai.org.models import User
from jiepai.org.visibility import visible_to

LEAD_LIST = ListSpec(
    search_fields=("name", "company", "mobile", "email"),
    filters=(
        Filter("state", "state", _("状态"), tuple(LeadState.choices)),
        Filter("channel", "channel_id", _("渠道")),
        Filter("owner", "owner_id", _("负责人")),
    ),
    sorts={
        "created": "created_at",
        "-created": "-created_at",
        "score": "score",
        "-score": "-score",
        "company": "company",
        "-company": "-company",
        "due": "response_due_at",
        "-due": "-response_due_at",
    },
    default_sort="-created",
)


def leads_for(user: User) -> QuerySet[Lead]:
    """Live (not merged away) leads the user may see."""
    return visible_to(user, Lead.objects.filter(merged_into__isnull=True)).select_related(
        "owner", "channel"
    )


def channel_choices() -> list[tuple[str, str]]:
    return [(str(c.pk), c.name) for c in Channel.objects.all()]
