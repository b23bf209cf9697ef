"""Clerk's identification objects: a user's email address and phone number, as the Backend
API and the Frontend API show them."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from .store import User

__all__ = ["email_address", "phone_number"]

#: How every email address and phone number here is verified: by the administrator (the seed).
_VERIFIED = {
    "object": "verification_admin",
    "status": "verified",
    "strategy": "admin",
    "attempts": None,
    "expire_at": None,
}


def email_address(user: User, created: int | None, updated: int | None) -> dict[str, Any]:
    """Clerk's email address object (the user's one, verified)."""
    return {
        "id": user.email_id,
        "object": "email_address",
        "email_address": user.email,
        "reserved": False,
        "verification": dict(_VERIFIED),
        "linked_to": [],
        "matches_sso_connection": False,
        "created_at": created,
        "updated_at": updated,
    }


def phone_number(user: User, created: int | None, updated: int | None) -> dict[str, Any]:
    """Clerk's phone number object (verified, not a second factor)."""
    return {
        "id": user.phone_id,
        "object": "phone_number",
        "phone_number": user.phone,
        "reserved": False,
        "reserved_for_second_factor": False,
        "default_second_factor": False,
        "verification": dict(_VERIFIED),
        "linked_to": [],
        "backup_codes": None,
        "created_at": created,
        "updated_at": updated,
    }
