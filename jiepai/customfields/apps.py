from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "jiepai.customfields"
    verbose_name = _("自定义字段")
