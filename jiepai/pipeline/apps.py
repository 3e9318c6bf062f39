from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "jiepai.pipeline"
    verbose_name = _("商机")

    def ready(self) -> None:
        from jiepai.core.config import register_config_section
        from jiepai.deadlines.registry import register_deadline
        from jiepai.events.labels import register_verb_labels
        from jiepai.pipeline import config
        from jiepai.pipeline.stalls import STALL_DEADLINE

        register_deadline(STALL_DEADLINE)
        register_config_section("stage_gates", config.export_gates, config.import_gate)
        register_verb_labels(
            {
                "opportunity.stage_changed": _("推进了阶段"),
                "opportunity.stalled": _("阶段停滞提醒"),
                "attachment.added": _("上传了文件"),
                "task.created": _("约定了下一步"),
            }
        )
