from __future__ import annotations

import pytest

from tests.factories import Tenant, make_tenant, make_user


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return make_tenant("ALPHAMARK")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return make_tenant("BETAMARK")


@pytest.fixture
def center_user(db: None):
    return make_user("centrum-staff", staff=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """PBKDF2's deliberate slowness is not under test here; real hashing is used in production."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
