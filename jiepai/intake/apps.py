from __future__ import annotations

from django.apps import AppConfig
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def marketing_sees_all_leads(user: object) -> Q | None:
    """Marketing runs the channels and works the incomplete pool: it sees every lead."""
    if getattr(user, "role", "") == "marketing":
        return Q(pk__isnull=False)  # an empty Q() would add nothing to the OR
    return None


class IntakeConfig(AppConfig):
    name = "jiepai.intake"
    verbose_name = _("线索接入")

    def ready(self) -> None:
        from jiepai.deadlines.registry import register_deadline
        from jiepai.intake.housekeeping import HOUSEKEEPING
        from jiepai.org.visibility import register_grant

        register_grant("intake.Lead", marketing_sees_all_leads)
        register_deadline(HOUSEKEEPING)
