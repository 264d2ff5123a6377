"""Readings (the time series) and device events (vendor alarms mapped to one taxonomy)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gmina.consortium.scoping import TenantModel
from gmina.water.models.choices import AlarmCode, FlagState, ReadType, Source, TimeBasis


class Reading(TenantModel):
    """One register value of one meter at one UTC instant. Keyed by (meter, observed_at).

    Written only by the store (``gmina.water.store``), which never overwrites: the same key
    with a different value goes to quarantine as a conflict.
    """

    # The natural key is the primary key: one index to maintain on the hot insert path. The foreign
    # keys carry no database constraint: on PostgreSQL each one costs a row-locking lookup per
    # inserted reading at commit (three per reading, the larger part of an import's time). The store
    # is the only writer and resolves every meter from the importing member's own meters in the same
    # transaction; meters, members and batches are never deleted (PROTECT is enforced by the ORM);
    # ``tests/water/test_store.py`` checks that no reading points at a missing or foreign row.
    pk = models.CompositePrimaryKey("meter_id", "observed_at")
    member = models.ForeignKey(
        "consortium.Member",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("member"),
    )
    meter = models.ForeignKey(
        "water.Meter", on_delete=models.PROTECT, related_name="readings", db_index=False, db_constraint=False
    )
    observed_at = models.DateTimeField(_("observed at"))
    index_l = models.BigIntegerField(_("index (L)"))
    flow_lph = models.FloatField(_("flow (L/h)"), null=True, blank=True)
    backflow_l = models.BigIntegerField(_("reverse register (L)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    time_basis = models.CharField(_("time basis"), max_length=16, choices=TimeBasis.choices)
    read_type = models.CharField(_("read type"), max_length=16, choices=ReadType.choices, default=ReadType.ACTUAL)
    time_ambiguous = models.BooleanField(_("ambiguous local time"), default=False)
    batch = models.ForeignKey(
        "water.ImportBatch", on_delete=models.PROTECT, related_name="readings", db_index=False, db_constraint=False
    )

    class Meta:
        ordering = ["meter", "observed_at"]
        verbose_name = _("reading")
        verbose_name_plural = _("readings")

    def __str__(self) -> str:
        return f"{self.meter_id}@{self.observed_at:%Y-%m-%d %H:%M}: {self.index_l} L"


class DeviceEvent(TenantModel):
    """A device alarm as an interval: opened when a flag appears, closed when readings stop carrying it."""

    meter = models.ForeignKey("water.Meter", on_delete=models.PROTECT, related_name="events")
    code = models.CharField(_("alarm"), max_length=16, choices=AlarmCode.choices)
    state = models.CharField(_("state"), max_length=8, choices=FlagState.choices)
    raw_code = models.CharField(_("vendor code"), max_length=100)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)

    class Meta:
        ordering = ["-first_seen"]
        verbose_name = _("device event")
        verbose_name_plural = _("device events")
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "code", "state", "raw_code"],
                condition=models.Q(ended_at__isnull=True),
                name="water_event_one_open_per_flag",
            )
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.code} ({self.state}) from {self.first_seen:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
