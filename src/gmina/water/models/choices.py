from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MeterKind(models.TextChoices):
    CUSTOMER = "customer", _("customer meter")
    ZONE = "zone", _("zone (district) meter")
    BULK = "bulk", _("bulk meter")


class MeterStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    REMOVED = "removed", _("removed")
    FAULTY = "faulty", _("faulty")


class Direction(models.TextChoices):
    INLET = "in", _("inlet")
    OUTLET = "out", _("outlet")


class ServiceCategory(models.TextChoices):
    HOUSEHOLD = "household", _("household")
    COMMERCIAL = "commercial", _("commercial")
    INSTITUTION = "institution", _("institution")
    OTHER = "other", pgettext_lazy("service category", "other")


class Source(models.TextChoices):
    CSV = "csv", _("CSV import")
    API = "api", _("HTTP API")
    MQTT = "mqtt", _("MQTT")
    MANUAL = "manual", _("manual entry")


class TimeBasis(models.TextChoices):
    METER_CLOCK = "meter_clock", _("meter clock")
    RECEPTION = "reception", _("reception time")
    BILLING_DATE = "billing_date", _("billing date")
    MANUAL_ENTRY = "manual_entry", _("manual entry")


class ReadType(models.TextChoices):
    ACTUAL = "actual", _("actual")
    ESTIMATED = "estimated", _("estimated")
    CUSTOMER = "customer", _("by the customer")
    FINAL = "final", _("final (meter removed)")
    INITIAL = "initial", _("initial (meter installed)")


class AlarmCode(models.TextChoices):
    LEAK = "leak", _("leak")
    BURST = "burst", _("burst")
    BACKFLOW = "backflow", _("backflow")
    TAMPER_MAGNET = "tamper_magnet", _("magnetic tampering")
    TAMPER_OTHER = "tamper_other", _("other tampering")
    REMOVAL = "removal", _("removal")
    DRY = "dry", _("dry")
    BATTERY_LOW = "battery_low", _("battery low")
    SENSOR_ERROR = "sensor_error", _("sensor error")
    NO_USAGE = "no_usage", _("no usage")
    OTHER = "other", _("other")


class FlagState(models.TextChoices):
    ACTIVE = "active", _("active")
    HISTORIC = "historic", _("latched (historic)")


class BatchStatus(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    REJECTED = "rejected", _("file rejected")


class QuarantineStatus(models.TextChoices):
    OPEN = "open", _("open")
    REPROCESSED = "reprocessed", _("re-processed")
    DISCARDED = "discarded", _("discarded")


class PayloadFormat(models.TextChoices):
    GMINA_JSON = "gmina", _("gmina JSON")
    WMBUSMETERS = "wmbusmeters", _("wmbusmeters JSON")
    CHIRPSTACK = "chirpstack", _("ChirpStack v4 uplink")
