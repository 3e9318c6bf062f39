from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "jiepai.pipeline"
    verbose_name = _("商机")

    def ready(self) -> None:
        from jiepai.deadlines.registry import register_deadline
        from jiepai.pipeline.stalls import STALL_DEADLINE

        register_deadline(STALL_DEADLINE)
