from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from gmina.consortium.actors import Actor


class ScopeMiddleware:
    """Attach ``request.actor`` (the signed-in user's scope and roles), computed on first use."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = SimpleLazyObject(lambda: Actor.for_user(request.user))  # type: ignore[attr-defined]
        return self.get_response(request)
