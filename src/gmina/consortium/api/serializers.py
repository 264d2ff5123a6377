from __future__ import annotations

from typing import Any

from rest_framework import serializers

from gmina.consortium.models import ApiToken, AuditEntry, Member, Membership, Role, User


class MemberSerializer(serializers.ModelSerializer[Member]):
    class Meta:
        model = Member
        fields = ["id", "name", "kind", "teryt", "active", "created_at"]


class ScopedMemberMixin:
    """Offer only the actor's own members as ``member``: another member's id does not exist."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actor = self.context.get("actor")  # type: ignore[attr-defined]
        field = self.fields.get("member")  # type: ignore[attr-defined]
        if actor is not None and field is not None and not field.read_only:
            field.queryset = Member.objects.scoped(actor.scope)


class MembershipSerializer(ScopedMemberMixin, serializers.ModelSerializer[Membership]):
    username = serializers.SlugRelatedField(
        source="user", slug_field="username", queryset=User.objects.filter(is_active=True)
    )
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["id", "member", "username", "role", "granted_at"]
        read_only_fields = ["granted_at"]
        validators: list[Any] = []


class ApiTokenSerializer(ScopedMemberMixin, serializers.ModelSerializer[ApiToken]):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "member",
            "name",
            "key_id",
            "can_write",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = ["key_id", "created_by", "created_at", "last_used_at", "revoked_at"]


class AuditEntrySerializer(serializers.ModelSerializer[AuditEntry]):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor_label",
            "member",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
        ]
