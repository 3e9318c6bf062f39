from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DedupConfig(AppConfig):
    name = "jiepai.dedup"
    verbose_name = _("查重与合并")

    def ready(self) -> None:
        from jiepai.dedup import report

        report.register()
