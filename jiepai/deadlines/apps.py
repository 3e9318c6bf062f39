from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeadlinesConfig(AppConfig):
    name = "jiepai.deadlines"
    verbose_name = _("到期处理")
