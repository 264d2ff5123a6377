from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsortiumConfig(AppConfig):
    name = "gmina.consortium"
    label = "consortium"
    verbose_name = _("Consortium")

    def ready(self) -> None:
        from gmina.consortium.api import schema  # noqa: F401 - registers the OpenAPI auth extension
