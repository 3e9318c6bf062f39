import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "jiepai.activities"
    verbose_name = _("跟进")

    def ready(self) -> None:
        from jiepai.activities.services import remind_task, run_closure_check
        from jiepai.deadlines.registry import DeadlineKind, register_deadline
        from jiepai.events.labels import register_verb_labels

        register_verb_labels(
            {
                "activity.logged": _("记录了跟进"),
                "task.done": _("完成了待办"),
                "visit.started": _("拜访签到"),
                "visit.ended": _("拜访签退"),
                "closure_check.passed": _("闭环校验达标"),
                "closure_check.failed": _("闭环校验未达标"),
            }
        )

        register_deadline(
            DeadlineKind("activities.task_reminder", "activities.Task", "remind_at", remind_task)
        )
        register_deadline(
            DeadlineKind(
                "activities.closure_check",
                "activities.ClosureCheck",
                "check_at",
                run_closure_check,
                retry_after=datetime.timedelta(minutes=30),
            )
        )
