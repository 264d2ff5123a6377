from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from gmina.consortium.actors import Actor
from gmina.consortium.models import ApiToken


def actor_of(request: Request) -> Actor:
    """The actor of an API request: its token if one authenticated it, else the session user."""
    if isinstance(request.auth, ApiToken):
        return Actor.for_token(request.auth)
    return Actor.for_user(request.user)


class IsScopedActor(BasePermission):
    """Authenticated; a token writes only when issued with ``can_write``.

    Whether the actor may act on a given member is decided by the action it calls.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        token = request.auth
        return not isinstance(token, ApiToken) or token.can_write
