"""Consumption of a service point over a period, across meter replacements.

Each installed meter contributes the difference of its own register between the start and the
end of its part of the period, so a new meter's index restarting near zero never shows as a
negative (or, the other way round, a huge) consumption.
"""

from __future__ import annotations

from datetime import datetime

from gmina.water.models import MeterInstallation, Reading, ServicePoint


def _index_at(meter_id: int, at: datetime, *, fallback: int | None) -> int | None:
    """The meter's index at ``at``: its last reading at or before ``at``, else ``fallback``."""
    readings = Reading.all_tenants.filter(meter_id=meter_id)
    latest = readings.filter(observed_at__lte=at).order_by("-observed_at").values_list("index_l", flat=True).first()
    return latest if latest is not None else fallback


def _first_index_after(meter_id: int, at: datetime, until: datetime) -> int | None:
    readings = Reading.all_tenants.filter(meter_id=meter_id, observed_at__gt=at, observed_at__lte=until)
    return readings.order_by("observed_at").values_list("index_l", flat=True).first()


def consumption_l(point: ServicePoint, start: datetime, end: datetime) -> int:
    """Litres registered at ``point`` between ``start`` and ``end`` (UTC), summed over its meters.

    A meter installed inside the period starts from its initial index; one removed inside the
    period ends at its final index. Without readings a meter contributes nothing.
    """
    total = 0
    installations = MeterInstallation.all_tenants.filter(service_point=point, installed_at__lt=end).exclude(
        removed_at__lte=start
    )
    for installation in installations:
        begin_at = max(start, installation.installed_at)
        finish_at = min(end, installation.removed_at) if installation.removed_at else end
        first = (
            installation.initial_index_l
            if installation.installed_at >= start
            else _index_at(
                installation.meter_id,
                begin_at,
                fallback=_first_index_after(installation.meter_id, begin_at, finish_at),
            )
        )
        if installation.removed_at and installation.removed_at <= end and installation.final_index_l is not None:
            last: int | None = installation.final_index_l
        else:
            last = _index_at(installation.meter_id, finish_at, fallback=first)
        if first is not None and last is not None:
            total += last - first
    return total
