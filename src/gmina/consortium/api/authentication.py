"""Machine authentication: ``Authorization: Bearer gmina_<key id>_<secret>``.

Every failure (malformed, unknown, wrong secret, revoked, expired, inactive member) gives the
same 401 with the same message, so a caller learns nothing about which tokens exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from gmina.consortium.models import ApiToken
from gmina.consortium.models.tokens import TOKEN_PREFIX

INVALID = "Invalid or missing credentials."
_TOUCH_EVERY = timedelta(minutes=1)


class TokenPrincipal:
    """``request.user`` for a token: authenticated, never staff, no password."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_center_staff = False

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.pk = None

    def get_username(self) -> str:
        return f"token:{self.token.name}"

    def __str__(self) -> str:
        return self.get_username()


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(INVALID)
        try:
            plaintext = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(INVALID) from None
        prefix, _, rest = plaintext.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != TOKEN_PREFIX or not key_id or not secret:
            raise AuthenticationFailed(INVALID)
        token = ApiToken.all_tenants.select_related("member").filter(key_id=key_id).first()
        if token is None or not token.matches(plaintext) or not token.is_usable() or not token.member.active:
            raise AuthenticationFailed(INVALID)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
            ApiToken.all_tenants.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return TokenPrincipal(token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="gmina"'
