"""The Frontend API's objects as ``@clerk/clerk-js`` reads them: environment, client,
session, user, sign-in attempt (snake_case, timestamps in milliseconds).

Read from the SDK's resource parsers (packages/clerk-js/src/core/resources/*.ts): every field
they read is here, with the value this provider means (single-session mode, email and password
sign-in, organizations on, no captcha, billing or bot protection).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from .users_json import avatar
from .users_json import clerk_user
from .users_json import millis

if TYPE_CHECKING:
    from .instance import Instance
    from .store import Client
    from .store import Session
    from .store import SignInAttempt
    from .store import User

__all__ = [
    "client_json",
    "first_factors",
    "environment_json",
    "session_json",
    "sign_in_json",
    "user_json",
]

#: How the instance signs people in: by email address with a password or an email code, or by
#: phone number with an SMS code.
_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "email_address": {
        "enabled": True,
        "required": True,
        "used_for_first_factor": True,
        "first_factors": ["email_code"],
        "used_for_second_factor": False,
        "second_factors": [],
        "verifications": ["email_code"],
        "verify_at_sign_up": True,
    },
    "password": {"enabled": True, "required": True},
    "first_name": {"enabled": True, "required": False},
    "last_name": {"enabled": True, "required": False},
    "username": {"enabled": False, "required": False},
    "phone_number": {
        "enabled": True,
        "required": False,
        "used_for_first_factor": True,
        "first_factors": ["phone_code"],
        "used_for_second_factor": False,
        "second_factors": [],
        "verifications": ["phone_code"],
        "verify_at_sign_up": True,
    },
}


#: Sign-in and sign-up settings: no second factor, social or enterprise sign-in, passkeys.
_USER_SETTINGS: dict[str, Any] = {
    "attributes": _ATTRIBUTES,
    "actions": {"delete_self": False, "create_organization": False},
    "sign_in": {"second_factor": {"required": False}},
    "sign_up": {"mode": "public", "captcha_enabled": False, "progressive": True},
    "social": {},
    "enterprise_sso": {"enabled": False},
    "password_settings": {"min_length": 8},
    "passkey_settings": {"allow_autofill": False, "show_sign_in_button": False},
}
#: Organizations on (seeded memberships), without domains, creation or deletion.
_ORGANIZATION_SETTINGS: dict[str, Any] = {
    "enabled": True,
    "max_allowed_memberships": 0,
    "force_organization_selection": False,
    "actions": {"admin_delete": False},
    "domains": {"enabled": False, "enrollment_modes": [], "default_role": None},
    "slug": {"disabled": False},
}
#: No billing.
_COMMERCE_SETTINGS: dict[str, Any] = {
    "billing": {
        "stripe_publishable_key": None,
        "organization": {"enabled": False, "has_paid_plans": False},
        "user": {"enabled": False, "has_paid_plans": False},
    }
}


def environment_json(idp: Instance) -> dict[str, Any]:
    """``GET /v1/environment``: the instance's settings."""
    config = idp.config
    base = config.base_url
    return {
        "object": "environment",
        "id": "env_devidp",
        "auth_config": {
            "object": "auth_config",
            "id": "aac_devidp",
            "single_session_mode": True,
            "claimed_at": None,
            "reverification": False,
            "preferred_channels": {},
            "session_minter": False,
        },
        "display_config": {
            "object": "display_config",
            "id": "display_config_devidp",
            "instance_environment_type": config.instance,
            "application_name": "flask-idguard local identity provider",
            "branded": False,
            "captcha_public_key": None,
            "captcha_public_key_invisible": None,
            "captcha_heartbeat": False,
            "captcha_oauth_bypass": [],
            "home_url": base,
            "sign_in_url": base + "/sign-in",
            "sign_up_url": base + "/sign-up",
            "user_profile_url": base + "/account",
            "preferred_sign_in_strategy": "password",
            "show_devmode_warning": False,
            "clerk_js_version": None,
        },
        "user_settings": _USER_SETTINGS,
        "organization_settings": _ORGANIZATION_SETTINGS,
        "commerce_settings": _COMMERCE_SETTINGS,
        "api_keys_settings": {"enabled": False},
        "maintenance_mode": False,
        "client_debug_mode": False,
        "partitioned_cookies": False,
    }


def user_json(idp: Instance, user: User) -> dict[str, Any]:
    """The signed-in user as the browser sees it: the Backend API's user without private
    metadata, with organization memberships."""
    data = clerk_user(user)
    del data["private_metadata"]
    memberships: list[dict[str, Any]] = []
    for org, role in idp.store.memberships(user.id):
        created = millis(org.created_at)
        memberships.append(
            {
                "object": "organization_membership",
                "id": f"orgmem_{org.id}_{user.id}",
                "role": role,
                "role_name": role.removeprefix("org:").capitalize(),
                "permissions": list(idp.store.permissions(role)),
                "public_metadata": {},
                "organization": {
                    "object": "organization",
                    "id": org.id,
                    "name": org.name,
                    "slug": org.slug,
                    "image_url": "",
                    "has_image": False,
                    "members_count": len(org.members),
                    "pending_invitations_count": 0,
                    "public_metadata": {},
                    "created_at": created,
                    "updated_at": created,
                },
                "created_at": created,
                "updated_at": created,
            }
        )
    data["organization_memberships"] = memberships
    return data


def session_json(idp: Instance, session: Session) -> dict[str, Any]:
    """A session of the client. The token comes from ``/tokens`` (``last_active_token`` is
    left empty: minting one per answer would only age the client's ``__client_uat``)."""
    user = idp.store.users[session.user_id]
    minutes = 0
    if user.last_sign_in_at is not None:
        minutes = max(0, int(session.last_active_at - user.last_sign_in_at) // 60)
    return {
        "object": "session",
        "id": session.id,
        "status": session.status,
        "expire_at": millis(session.expire_at),
        "abandon_at": millis(session.expire_at),
        "last_active_at": millis(session.last_active_at),
        "last_active_organization_id": session.org_id,
        "last_active_token": None,
        "factor_verification_age": [minutes, -1],
        "actor": None,
        "tasks": None,
        "user": user_json(idp, user),
        "public_user_data": {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "image_url": avatar(user),
            "has_image": False,
            "identifier": user.email,
            "user_id": user.id,
        },
        "created_at": millis(session.created_at),
        "updated_at": millis(session.last_active_at),
    }


def first_factors(user: User) -> list[dict[str, Any]]:
    """The factors a user can sign in with: a password, an email code, an SMS code."""
    factors: list[dict[str, Any]] = [
        {"strategy": "password"},
        {
            "strategy": "email_code",
            "safe_identifier": user.email,
            "email_address_id": user.email_id,
            "primary": True,
        },
    ]
    if user.phone is not None:
        factors.append(
            {
                "strategy": "phone_code",
                "safe_identifier": user.phone,
                "phone_number_id": user.phone_id,
                "primary": True,
            }
        )
    return factors


def sign_in_json(idp: Instance, attempt: SignInAttempt) -> dict[str, Any]:
    """A sign-in attempt: who it identified, the factors offered, the verification so far."""
    user = idp.store.users.get(attempt.user_id or "")
    factors = first_factors(user) if user is not None else []
    verification = None
    if attempt.strategy is not None:
        verification = {
            "object": "verification",
            "status": attempt.verification,
            "strategy": attempt.strategy,
            "attempts": attempt.attempts,
            "expire_at": millis(attempt.abandon_at),
        }
    user_data = None
    if user is not None:
        user_data = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "image_url": avatar(user),
            "has_image": False,
        }
    return {
        "object": "sign_in_attempt",
        "id": attempt.id,
        "status": attempt.status,
        "supported_identifiers": ["email_address", "phone_number"],
        "identifier": attempt.identifier,
        "supported_first_factors": factors,
        "supported_second_factors": None,
        "first_factor_verification": verification,
        "second_factor_verification": None,
        "user_data": user_data,
        "created_session_id": attempt.created_session_id,
        "abandon_at": millis(attempt.abandon_at),
    }


def client_json(idp: Instance, client: Client) -> dict[str, Any]:
    """The browser's client: its signed-in sessions and the sign-in in progress."""
    store = idp.store
    sessions = [store.sessions[s] for s in client.session_ids if s in store.sessions]
    attempt = store.sign_ins.get(client.sign_in_id or "")
    return {
        "object": "client",
        "id": client.id,
        "sessions": [session_json(idp, s) for s in sessions if s.active],
        "sign_in": sign_in_json(idp, attempt) if attempt is not None else None,
        "sign_up": None,
        "last_active_session_id": client.last_active_session_id,
        "last_authentication_strategy": None,
        "cookie_expires_at": None,
        "captcha_bypass": False,
        "created_at": millis(client.created_at),
        "updated_at": millis(client.updated_at),
    }
