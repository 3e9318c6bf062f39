from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "jiepai.routing"
    verbose_name = _("线索分配")

    def ready(self) -> None:
        from jiepai.core.config import register_config_section
        from jiepai.deadlines.registry import DeadlineKind, register_deadline
        from jiepai.events.labels import register_verb_labels
        from jiepai.org.visibility import register_grant
        from jiepai.routing import config, grants, labels, services

        register_deadline(
            DeadlineKind(
                "routing_response_window",
                "intake.Lead",
                "response_due_at",
                services.expire_response_window,
            )
        )
        register_deadline(
            DeadlineKind(
                "routing_offer_lock", "routing.OfferRound", "lock_due_at", services.lock_offer_round
            )
        )
        register_grant("intake.Lead", grants.offered_to_me)
        register_grant("intake.Lead", grants.my_unassigned_queue)
        register_verb_labels(labels.VERB_LABELS)
        register_config_section("routing_policies", config.export_policies, config.import_policy)
        register_config_section("routing_rules", config.export_rules, config.import_rule)
