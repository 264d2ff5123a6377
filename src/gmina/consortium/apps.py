from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsortiumConfig(AppConfig):
    name = "gmina.consortium"
    label = "consortium"
    verbose_name = _("Consortium")
