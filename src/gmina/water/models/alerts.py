"""Alerts: one per ongoing problem, merged across detection runs, with an audited lifecycle."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gmina.consortium.scoping import TenantModel


class AlertClass(models.TextChoices):
    STUCK = "stuck", _("meter stopped or stuck")
    REVERSE_FLOW = "reverse_flow", _("reverse flow / reversed meter")
    ROLLBACK = "rollback", _("index rollback")
    SPIKE = "spike", _("index spike")
    COMM_LOSS = "comm_loss", _("communication loss")
    UNDER_REGISTRATION = "under_registration", _("under-registration")
    CUSTOMER_LEAK = "customer_leak", _("leak behind the meter")
    CUSTOMER_BURST = "customer_burst", _("burst behind the meter")
    ABNORMAL_USE = "abnormal_use", _("abnormal consumption")
    NETWORK_LEAK = "network_leak", _("network leak")
    NETWORK_BURST = "network_burst", _("network burst")
    ILLEGAL_CONNECTION = "illegal_connection", _("illegal connection")
    METER_BYPASS = "meter_bypass", _("meter bypass or tampering")


class AlertStatus(models.TextChoices):
    NEW = "new", _("new")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    ASSIGNED = "assigned", _("assigned")
    RESOLVED = "resolved", _("resolved")


class Resolution(models.TextChoices):
    CONFIRMED = "confirmed", _("confirmed")
    FALSE_ALARM = "false_alarm", _("false alarm")
    CLEARED = "cleared", _("cleared by itself")


class Severity(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")
    CRITICAL = "critical", _("critical")


class DetectionRun(TenantModel):
    """One pass of the engine over a member's data up to ``as_of``."""

    as_of = models.DateTimeField(_("analysed up to"))
    window_start = models.DateTimeField(_("window start"))
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    readings = models.PositiveBigIntegerField(_("readings analysed"), default=0)
    cases = models.PositiveIntegerField(_("cases found"), default=0)
    opened = models.PositiveIntegerField(_("alerts opened"), default=0)
    updated = models.PositiveIntegerField(_("alerts updated"), default=0)
    cleared = models.PositiveIntegerField(_("alerts cleared"), default=0)
    zones = models.JSONField(_("zones analysed"), default=list, blank=True, help_text=_("empty: every zone"))
    through_batch = models.BigIntegerField(
        _("newest import seen"), null=True, blank=True, help_text=_("id of the newest import batch this run took in")
    )

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name = _("detection run")
        verbose_name_plural = _("detection runs")

    def __str__(self) -> str:
        return f"{self.member_id} @ {self.as_of:%Y-%m-%d %H:%M}"


class Alert(TenantModel):
    """A problem the engine found, with its evidence, what is at stake, and what the operators did."""

    alert_class = models.CharField(_("class"), max_length=24, choices=AlertClass.choices)
    family = models.CharField(_("family"), max_length=16)
    location_kind = models.CharField(_("location kind"), max_length=16)
    meter = models.ForeignKey(
        "water.Meter", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts", verbose_name=_("meter")
    )
    zone = models.ForeignKey(
        "water.Zone", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts", verbose_name=_("zone")
    )
    status = models.CharField(_("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.NEW)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    confidence = models.FloatField(_("confidence"))
    volume_m3 = models.FloatField(_("volume at stake (m³)"))
    cost_pln = models.FloatField(_("cost at stake (PLN)"))
    start = models.DateTimeField(_("started"))
    end = models.DateTimeField(_("ended"), null=True, blank=True)
    first_detected_at = models.DateTimeField(_("first detected"))
    last_detected_at = models.DateTimeField(_("last detected"))
    detectors = models.CharField(_("detectors"), max_length=300)
    evidence = models.JSONField(_("evidence"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(_("resolution"), max_length=16, choices=Resolution.choices, blank=True)
    resolution_reason = models.TextField(_("reason"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-cost_pln", "-last_detected_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [models.Index(fields=["member", "status"], name="water_alert_member_status")]

    def __str__(self) -> str:
        where = self.meter or self.zone
        return f"{self.get_alert_class_display()} — {where}"

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.RESOLVED
