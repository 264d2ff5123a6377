"""The registered detectors. Importing this package registers every one of them (see ``gmina.engine.base``)."""

from gmina.engine.detectors import (
    abnormal_use,
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
    under_registration,
)

__all__ = [
    "abnormal_use",
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
    "under_registration",
]
