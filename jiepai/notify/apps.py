import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "jiepai.notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        from jiepai.core.config import register_config_section
        from jiepai.deadlines.registry import DeadlineKind, register_deadline
        from jiepai.notify import config
        from jiepai.notify.services import retry_due_delivery

        # Due deliveries (a retry time, or the lease of an attempt whose worker died) are
        # handed back to a task exactly once per due time by the sweeper's compare-and-set.
        register_deadline(
            DeadlineKind(
                name="notify.delivery_retry",
                model="notify.Delivery",
                due_field="next_attempt_at",
                act=retry_due_delivery,
                retry_after=datetime.timedelta(minutes=1),
            )
        )
        register_config_section("notification_kinds", config.export_kinds, config.import_kind)
        register_config_section("group_robots", config.export_robots, config.import_robot)
        register_config_section("delivery_policy", config.export_policy, config.import_policy)
