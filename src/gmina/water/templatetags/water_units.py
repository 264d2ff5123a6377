"""Units at the edge: litres inside, m³ on screen."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def to_m3(litres: int | None) -> Decimal | None:
    """Integer litres as exact m³ (format with ``floatformat:3``)."""
    return None if litres is None else Decimal(litres) / 1000
