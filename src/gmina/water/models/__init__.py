"""Water network and data: zones, service points, meters, readings, device events, imports."""

from gmina.water.models.alerts import Alert, DetectionRun
from gmina.water.models.imports import ImportBatch, MqttSubscription, QuarantinedRecord
from gmina.water.models.network import (
    CustomerContact,
    DeviceAssignment,
    Meter,
    MeterDirectoryStamp,
    MeterInstallation,
    ServicePoint,
    Zone,
    ZoneBoundaryMeter,
)
from gmina.water.models.readings import DeviceEvent, Reading

__all__ = [
    "Alert",
    "DetectionRun",
    "CustomerContact",
    "DeviceAssignment",
    "DeviceEvent",
    "ImportBatch",
    "Meter",
    "MeterDirectoryStamp",
    "MeterInstallation",
    "MqttSubscription",
    "QuarantinedRecord",
    "Reading",
    "ServicePoint",
    "Zone",
    "ZoneBoundaryMeter",
]
