"""The network: zones (DMAs), service points, meters and their installation history."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from gmina.consortium.scoping import TenantModel
from gmina.water.models.choices import Direction, MeterKind, MeterStatus, ServiceCategory


class Zone(TenantModel):
    """A district metered area (strefa). Zones may nest; flows cross them through boundary meters."""

    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent zone"),
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["member", "code"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        constraints = [models.UniqueConstraint(fields=["member", "code"], name="water_zone_code_per_member")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ServicePoint(TenantModel):
    """A premise supplied with water (punkt poboru). No personal data: see CustomerContact."""

    code = models.CharField(_("service point code"), max_length=64)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="service_points", verbose_name=_("zone"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    category = models.CharField(
        _("category"), max_length=16, choices=ServiceCategory.choices, default=ServiceCategory.HOUSEHOLD
    )

    class Meta:
        ordering = ["member", "code"]
        verbose_name = _("service point")
        verbose_name_plural = _("service points")
        constraints = [models.UniqueConstraint(fields=["member", "code"], name="water_servicepoint_code_per_member")]

    def __str__(self) -> str:
        return self.code


class CustomerContact(TenantModel):
    """The customer's personal data, kept apart from the analytics tables (RODO: minimal, separable)."""

    service_point = models.OneToOneField(ServicePoint, on_delete=models.CASCADE, related_name="contact")
    customer_ref = models.CharField(_("customer reference"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("customer contact")
        verbose_name_plural = _("customer contacts")

    def __str__(self) -> str:
        return f"{self.service_point}: {self.customer_ref}"


class Meter(TenantModel):
    """A physical meter, identified by its printed serial within the member."""

    serial = models.CharField(_("serial number"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=MeterKind.choices, default=MeterKind.CUSTOMER)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    dn_mm = models.PositiveSmallIntegerField(_("nominal size DN (mm)"), null=True, blank=True)
    q3_m3h = models.DecimalField(
        _("Q3 (m³/h)"),
        max_digits=8,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    register_capacity_l = models.BigIntegerField(
        _("register capacity (L)"), null=True, blank=True, help_text=_("The index wraps to zero after this.")
    )
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=MeterStatus.choices, default=MeterStatus.ACTIVE)
    zone = models.ForeignKey(
        Zone, on_delete=models.PROTECT, null=True, blank=True, related_name="meters", verbose_name=_("zone")
    )
    service_point = models.ForeignKey(
        ServicePoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meters",
        verbose_name=_("service point"),
    )

    class Meta:
        ordering = ["member", "serial"]
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        constraints = [models.UniqueConstraint(fields=["member", "serial"], name="water_meter_serial_per_member")]

    def __str__(self) -> str:
        return self.serial


class ZoneBoundaryMeter(TenantModel):
    """A meter on a pipe crossing a zone's boundary: ``in`` adds to the zone's inflow, ``out`` subtracts."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="boundary_meters", verbose_name=_("zone"))
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="boundaries", verbose_name=_("meter"))
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)

    class Meta:
        verbose_name = _("zone boundary meter")
        verbose_name_plural = _("zone boundary meters")
        constraints = [models.UniqueConstraint(fields=["zone", "meter"], name="water_boundary_once_per_zone")]

    def __str__(self) -> str:
        return f"{self.zone} {self.direction} {self.meter}"


class MeterInstallation(TenantModel):
    """Which meter served a service point when, with the index at installation and removal."""

    service_point = models.ForeignKey(ServicePoint, on_delete=models.PROTECT, related_name="installations")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="installations")
    installed_at = models.DateTimeField(_("installed at"))
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    initial_index_l = models.BigIntegerField(_("initial index (L)"), default=0)
    final_index_l = models.BigIntegerField(_("final index (L)"), null=True, blank=True)

    class Meta:
        ordering = ["service_point", "installed_at"]
        verbose_name = _("meter installation")
        verbose_name_plural = _("meter installations")

    def __str__(self) -> str:
        return f"{self.meter} @ {self.service_point} from {self.installed_at:%Y-%m-%d}"


class DeviceAssignment(TenantModel):
    """A radio id (wM-Bus id, DevEUI, overlay number) attached to a meter for a time interval.

    Readings that name a device are given to the meter the device was on at ``observed_at``, so
    an overlay moved onto a new meter does not make the old meter's index "drop".
    """

    device_key = models.CharField(_("device id"), max_length=64)
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="devices", verbose_name=_("meter"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["device_key", "valid_from"]
        verbose_name = _("device assignment")
        verbose_name_plural = _("device assignments")
        indexes = [models.Index(fields=["member", "device_key"], name="water_device_member_key")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "device_key"],
                condition=models.Q(valid_to__isnull=True),
                name="water_device_one_open_assignment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_key} → {self.meter}"


class MeterDirectoryStamp(models.Model):
    """One row (id 1) whose stamp the database's own triggers change whenever how a source's meter
    reference resolves may change: a meter, service point, zone boundary or device assignment
    inserted, deleted or updated in a column the lookup reads (migration 0005). Each process keeps
    its meter lookups while the stamp it read them under is current (gmina.water.store.resolve).
    The stamp is random, not a counter: a value seen inside a transaction that rolled back is never
    given again. Not tenant data: it holds no member's rows."""

    stamp = models.BigIntegerField(_("stamp"))

    class Meta:
        verbose_name = _("meter directory stamp")
        verbose_name_plural = _("meter directory stamps")

    def __str__(self) -> str:
        return f"meter directory stamp {self.stamp}"
