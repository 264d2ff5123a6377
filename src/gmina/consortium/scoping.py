"""The one tenant-scoping mechanism.

Every tenant-owned model derives from :class:`TenantModel`. Its ``objects`` manager returns a
:class:`TenantQuerySet` that refuses to run (raises :class:`UnscopedQueryError`) until it has
been narrowed with ``.scoped(scope)``. A view that forgets the member therefore fails loudly
in tests instead of leaking another member's rows. Framework code that must see every row
(unique validation, the competence-centre admin, token lookup) uses the explicit
``all_tenants`` manager; a test keeps the list of modules allowed to do that short.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class UnscopedQueryError(RuntimeError):
    """A tenant-owned query was evaluated without ``.scoped(scope)``."""


class CrossTenantReferenceError(ValidationError):
    """A tenant-owned object was pointed at an object of another member."""


@dataclass(frozen=True)
class Scope:
    """Which members an actor may see, and in which role.

    ``member_ids is None`` means every member (competence-centre staff, system jobs).
    """

    member_ids: frozenset[int] | None
    roles: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def everything(cls) -> Scope:
        return cls(member_ids=None)

    @classmethod
    def nothing(cls) -> Scope:
        return cls(member_ids=frozenset())

    @classmethod
    def of_members(cls, roles: Mapping[int, str]) -> Scope:
        return cls(member_ids=frozenset(roles), roles=dict(roles))

    @property
    def is_global(self) -> bool:
        return self.member_ids is None

    def allows(self, member_id: int | None) -> bool:
        if self.member_ids is None:
            return True
        return member_id is not None and member_id in self.member_ids

    def has_role(self, member_id: int | None, roles: Iterable[str]) -> bool:
        """True when the actor holds one of ``roles`` in the member (global scope holds all)."""
        if self.member_ids is None:
            return True
        return member_id is not None and self.roles.get(member_id) in set(roles)


class TenantQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """A queryset that must be scoped before it touches the database."""

    _gmina_scoped: bool = False

    def _clone(self) -> Self:
        clone: Self = super()._clone()  # type: ignore[misc]  # private Django API, not in the stubs
        clone._gmina_scoped = self._gmina_scoped
        return clone

    def scoped(self, scope: Scope) -> Self:
        """Narrow to the members ``scope`` allows; the only way to make the queryset usable."""
        clone: Self = self._chain()  # type: ignore[attr-defined]  # private Django API, not in the stubs
        if scope.member_ids is not None:
            lookup = f"{self.model.tenant_field}__in"
            clone = clone.filter(**{lookup: sorted(scope.member_ids)})
        clone._gmina_scoped = True
        return clone

    def _require_scope(self) -> None:
        if not self._gmina_scoped:
            raise UnscopedQueryError(
                f"{self.model.__name__}.objects was used without .scoped(scope); "
                "tenant-owned data must always be narrowed to the actor's members"
            )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Any:
        self._require_scope()
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            self._require_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._require_scope()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._require_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._require_scope()
        return super().delete()

    def explain(self, *, format: str | None = None, **options: Any) -> str:
        self._require_scope()
        return super().explain(format=format, **options)


TenantManager = models.Manager.from_queryset(TenantQuerySet)


class TenantModel(models.Model):
    """Base of every tenant-owned model: a ``member`` and the scoped ``objects`` manager.

    ``save()`` refuses a foreign key to another member's object (tenant-owned or the member
    itself), so B's objects cannot be attached to A's by any path that saves models.
    """

    tenant_field: ClassVar[str] = "member"

    member = models.ForeignKey(
        "consortium.Member",
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_set",
        verbose_name=_("member"),
    )

    # The first manager is Django's default manager: framework internals (unique checks,
    # the competence-centre admin) see all rows; application code uses ``objects``.
    all_tenants = models.Manager()
    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.check_tenant_references()
        super().save(*args, **kwargs)

    def check_tenant_references(self) -> None:
        """Raise :class:`CrossTenantReferenceError` if any foreign key leaves the member."""
        if self.member_id is None:
            raise CrossTenantReferenceError(_("A tenant-owned object needs a member."))
        for field_ in self._meta.concrete_fields:
            if not isinstance(field_, models.ForeignKey) or field_.name == "member":
                continue
            target = field_.related_model
            if not isinstance(target, type):
                continue
            raw_id = getattr(self, field_.attname)
            if raw_id is None:
                continue
            other_member = _member_of(target, raw_id, field_.get_cached_value(self, default=None))
            if other_member is not _NOT_TENANT and other_member != self.member_id:
                raise CrossTenantReferenceError(
                    _("%(field)s belongs to another member.") % {"field": field_.verbose_name}
                )


_NOT_TENANT = object()


def _member_of(model: type[models.Model], pk: Any, cached: models.Model | None) -> Any:
    """The member id owning ``model``'s object ``pk``, or ``_NOT_TENANT`` for global models."""
    tenant_field = getattr(model, "tenant_field", None)
    if tenant_field is None:
        return _NOT_TENANT
    if tenant_field == "pk":
        return pk
    if cached is not None and getattr(cached, "pk", None) == pk:
        return getattr(cached, f"{tenant_field}_id")
    return model._base_manager.filter(pk=pk).values_list(f"{tenant_field}_id", flat=True).first()


def tenant_models() -> list[type[models.Model]]:
    """Every installed model that is tenant-owned (for the isolation harness)."""
    from django.apps import apps

    return [model for model in apps.get_models() if getattr(model, "tenant_field", None) is not None]
