"""Import batches, the quarantine, and MQTT subscriptions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gmina.consortium.scoping import TenantModel
from gmina.water.models.choices import BatchStatus, PayloadFormat, QuarantineStatus, Source


class ImportBatch(TenantModel):
    """One ingestion unit: a file, an API request or a group of MQTT messages, with its counts."""

    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    label = models.CharField(_("label"), max_length=300, blank=True, help_text=_("file name, topic or client"))
    profile = models.CharField(_("profile"), max_length=100, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    received = models.PositiveIntegerField(_("records received"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    quarantined = models.PositiveIntegerField(_("quarantined"), default=0)
    error = models.TextField(_("error"), blank=True)
    zones = models.JSONField(
        _("zones affected"), default=list, blank=True, help_text=_("ids of the zones whose meters this import touched")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("performed by"), max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.label} ({timezone.localtime(self.started_at):%Y-%m-%d %H:%M})"


class QuarantinedRecord(TenantModel):
    """A record that was not stored, with why; browsable, fixable and re-processable. Nothing is lost."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="quarantine")
    line = models.BigIntegerField(_("line / index"))
    source_field = models.CharField(_("column / key"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=32, db_index=True)
    message = models.TextField(_("message"))
    raw = models.TextField(_("original record"))
    meter_ref = models.CharField(_("meter reference"), max_length=64, blank=True)
    ref_kind = models.CharField(max_length=8, blank=True)
    observed_at = models.DateTimeField(_("observed at"), null=True, blank=True)
    index_l = models.BigIntegerField(_("index (L)"), null=True, blank=True)
    payload = models.JSONField(_("normalised record"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=QuarantineStatus.choices,
        default=QuarantineStatus.OPEN,
        db_index=True,
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("quarantined record")
        verbose_name_plural = _("quarantine")

    def __str__(self) -> str:
        return f"{self.reason} (line {self.line}): {self.message[:80]}"


class MqttSubscription(TenantModel):
    """An MQTT topic filter whose messages belong to the member, and how to read them."""

    topic = models.CharField(_("topic filter"), max_length=300, help_text=_("e.g. gmina/zd/wmbusmeters/+"))
    payload_format = models.CharField(_("payload format"), max_length=16, choices=PayloadFormat.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["member", "topic"]
        verbose_name = _("MQTT subscription")
        verbose_name_plural = _("MQTT subscriptions")
        constraints = [models.UniqueConstraint(fields=["topic"], name="water_mqtt_topic_unique")]

    def __str__(self) -> str:
        return f"{self.topic} ({self.payload_format})"
