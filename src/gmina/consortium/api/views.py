"""REST API v1 of the consortium app. Reads are scoped; writes call the actions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gmina.consortium import actions
from gmina.consortium.actors import Actor
from gmina.consortium.api import serializers
from gmina.consortium.api.permissions import actor_of
from gmina.consortium.filters import AuditFilterForm
from gmina.consortium.models import ApiToken, AuditEntry, Member, Membership


class ScopedViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Base of every tenant-owned API: the queryset is the model's, scoped to the actor."""

    model: type[Any]

    @cached_property
    def actor(self) -> Actor:
        return actor_of(self.request)

    def get_queryset(self) -> QuerySet[Any]:
        queryset: QuerySet[Any] = self.model.objects.scoped(self.actor.scope)
        return queryset

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "actor": self.actor}


class WhoAmISerializer(drf.Serializer[None]):
    actor = drf.CharField()
    kind = drf.ChoiceField(choices=["user", "token"])
    all_members = drf.BooleanField()
    members = drf.ListField(child=drf.DictField())


class WhoAmIView(APIView):
    """Who the request acts as, and for which members in which role."""

    @extend_schema(responses=WhoAmISerializer)
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        members = Member.objects.scoped(actor.scope).filter(active=True)
        return Response(
            {
                "actor": actor.label,
                "kind": "token" if actor.token else "user",
                "all_members": actor.is_global,
                "members": [{"id": m.pk, "name": m.name, "role": actor.scope.roles.get(m.pk)} for m in members],
            }
        )


class MemberViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = Member
    serializer_class = serializers.MemberSerializer


class MembershipViewSet(
    ScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    model = Membership
    serializer_class = serializers.MembershipSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("user", "member")

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = actions.grant_role(
            self.actor, user=data["user"], member=data["member"], role=data["role"]
        )

    def perform_destroy(self, instance: Membership) -> None:
        actions.revoke_role(self.actor, instance)


class ApiTokenViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    model = ApiToken
    serializer_class = serializers.ApiTokenSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("created_by")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, plaintext = actions.issue_api_token(
            self.actor,
            member=data["member"],
            name=data["name"],
            can_write=data.get("can_write", False),
            expires_at=data.get("expires_at"),
        )
        body = {**self.get_serializer(token).data, "token": plaintext}
        return Response(body, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        token = actions.revoke_api_token(self.actor, self.get_object())
        return Response(self.get_serializer(token).data)


class AuditEntryViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = AuditEntry
    serializer_class = serializers.AuditEntrySerializer

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        form = AuditFilterForm(self.request.query_params, actor=self.actor)
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        return form.filter(queryset)
