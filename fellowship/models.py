"""Imports every model so Alembic and the tests see the whole schema. Add new domains here."""

from fellowship.audit import AuditEvent
from fellowship.auth.models import Invitation, LoginSession, PasswordReset, RecoveryCode, User
from fellowship.mail import OutboxMessage

__all__ = [
    "AuditEvent",
    "Invitation",
    "LoginSession",
    "OutboxMessage",
    "PasswordReset",
    "RecoveryCode",
    "User",
]
