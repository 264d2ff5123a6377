"""Finding a member from what a person types on the command line."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import Q

from gmina.consortium.models import Member


def find_member(value: str) -> Member:
    """A member by id, TERYT code or exact name (for centre staff's commands)."""
    query = Q(name=value) | Q(teryt=value)
    if value.isdigit():
        query |= Q(pk=int(value))
    matches = list(Member.all_tenants.filter(query))
    if len(matches) != 1:
        raise CommandError(f"--member {value!r}: expected one member by id, TERYT code or name, found {len(matches)}")
    return matches[0]
