from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaterConfig(AppConfig):
    name = "gmina.water"
    label = "water"
    verbose_name = _("Water")

    def ready(self) -> None:
        from gmina.consortium.models.audit import register_action_labels
        from gmina.water.labels import ACTION_LABELS

        register_action_labels(ACTION_LABELS)
