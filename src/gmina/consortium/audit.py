"""Writing the audit log: one row per state change, inside the action's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

from gmina.consortium.actors import Actor
from gmina.consortium.models import AuditEntry, Member

_ENCODER = DjangoJSONEncoder()
_SECRET_FIELDS = frozenset({"password", "digest"})


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """A JSON-ready dict of the object's concrete fields (secrets left out)."""
    names = set(fields) if fields is not None else None
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in _SECRET_FIELDS or (names is not None and field.name not in names):
            continue
        value = getattr(obj, field.attname)
        data[field.attname] = (
            value if isinstance(value, str | int | float | bool | type(None)) else _ENCODER.default(value)
        )
    return data


def record_audit(
    actor: Actor,
    action: str,
    obj: models.Model | None,
    *,
    member: Member | int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit row. Must run inside the action's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"record_audit({action!r}) must run inside the action's transaction")
    member_id = member.pk if isinstance(member, Member) else member
    return AuditEntry.all_tenants.create(
        actor=actor.user,
        actor_token=actor.token,
        actor_label=actor.label[:200],
        member_id=member_id,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        before=before,
        after=after,
    )
