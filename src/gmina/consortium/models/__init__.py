"""Consortium models: members (tenants), users and roles, API tokens, the audit log."""

from gmina.consortium.models.audit import AuditEntry
from gmina.consortium.models.members import Member, MemberKind, Membership, Role, User
from gmina.consortium.models.tokens import ApiToken

__all__ = ["ApiToken", "AuditEntry", "Member", "MemberKind", "Membership", "Role", "User"]
