"""Reading opportunities, always through the viewer's visibility."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from jiepai.core.listing import Filter, ListSpec
from jiepai.org.models import User
from jiepai.org.visibility import visible_to
from jiepai.pipeline.models import Opportunity, Stage

OPPORTUNITY_LIST = ListSpec(
    search_fields=("name", "account__name"),
    filters=(
        Filter("stage", "stage_id", _("阶段")),
        Filter("owner", "owner_id", _("负责人")),
        Filter("account", "account_id", _("客户")),
    ),
    sorts={
        "amount": "amount",
        "-amount": "-amount",
        "updated": "updated_at",
        "-updated": "-updated_at",
        "close": "expected_close_date",
        "-close": "-expected_close_date",
    },
    default_sort="-updated",
)


def opportunities_for(user: User) -> QuerySet[Opportunity]:
    return visible_to(user, Opportunity.objects.all()).select_related("owner", "account", "stage")


def stage_choices() -> list[tuple[str, str]]:
    return [
        (str(s.pk), f"{s.pipeline.name} · {s.name}")
        for s in Stage.objects.select_related("pipeline")
    ]
