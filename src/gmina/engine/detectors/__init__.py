"""The registered detectors. Importing this package registers every one of them (see ``gmina.engine.base``)."""

from gmina.engine.detectors import (
    comm_loss,
    customer_burst,
    customer_leak,
    device_alarms,
    network,
    register,
    reverse_flow,
    stuck,
    unauthorized,
)

__all__ = [
    "comm_loss",
    "customer_burst",
    "customer_leak",
    "device_alarms",
    "network",
    "register",
    "reverse_flow",
    "stuck",
    "unauthorized",
]
