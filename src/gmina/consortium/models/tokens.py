from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gmina.consortium.scoping import TenantModel

TOKEN_PREFIX = "gmina"  # noqa: S105 - a public prefix, not a secret


def digest_token(plaintext: str) -> str:
    """HMAC-SHA256 of the whole token under the deployment's pepper (hex)."""
    key = settings.API_TOKEN_PEPPER.encode()
    return hmac.new(key, plaintext.encode(), hashlib.sha256).hexdigest()


def new_token_material() -> tuple[str, str]:
    """A fresh ``(key_id, plaintext)``; the plaintext is shown once and never stored."""
    key_id = secrets.token_hex(6)
    return key_id, f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


class ApiToken(TenantModel):
    """A machine credential of one member. Only a keyed hash of the secret is kept."""

    name = models.CharField(_("name"), max_length=100)
    key_id = models.CharField(_("key id"), max_length=16, unique=True, editable=False)
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    can_write = models.BooleanField(_("may write"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["member__name", "name"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}_{self.key_id}_…)"

    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def matches(self, plaintext: str) -> bool:
        return hmac.compare_digest(self.digest, digest_token(plaintext))
