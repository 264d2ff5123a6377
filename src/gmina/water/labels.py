"""Readable names of the water app's audited actions (registered with the audit log)."""

from django.utils.translation import gettext_lazy

ACTION_LABELS = {
    "create_zone": gettext_lazy("zone created"),
    "create_service_point": gettext_lazy("service point created"),
    "register_meter": gettext_lazy("meter registered"),
    "attach_device": gettext_lazy("radio device attached"),
    "replace_meter": gettext_lazy("meter replaced"),
    "add_boundary_meter": gettext_lazy("zone boundary meter added"),
    "add_mqtt_subscription": gettext_lazy("MQTT subscription added"),
    "import_readings": gettext_lazy("readings imported"),
    "reject_import": gettext_lazy("import file rejected"),
    "fix_quarantined": gettext_lazy("quarantined record corrected"),
    "reprocess_quarantined": gettext_lazy("quarantine re-processed"),
    "discard_quarantined": gettext_lazy("quarantined records discarded"),
    "run_detection": gettext_lazy("detection run"),
    "acknowledge_alert": gettext_lazy("alert acknowledged"),
    "assign_alert": gettext_lazy("alert assigned"),
    "resolve_alert": gettext_lazy("alert resolved"),
}
