"""The registered detectors. Importing this package registers every one of them (see ``gmina.engine.base``)."""

from gmina.engine.detectors import (
    bypass,
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
    "bypass",
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
