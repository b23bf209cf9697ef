"""A provider-neutral view of a user: the fields Clerk and Auth0 both have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from types import MappingProxyType
from typing import Any

__all__ = ["User"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _map(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return MappingProxyType(dict(value)) if isinstance(value, Mapping) else _EMPTY


@dataclass(frozen=True)
class User:
    """The shared fields of a user; ``raw`` keeps the provider's object as it came.

    Metadata: Clerk's ``public_metadata``, ``private_metadata``, ``unsafe_metadata``;
    for Auth0, ``app_metadata`` (set by the back end, read-only to the user) is
    ``public_metadata`` and ``user_metadata`` (editable by the user) is
    ``unsafe_metadata``; Auth0 has no ``private_metadata``.
    """

    id: str
    provider: str
    email: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    image_url: str | None = None
    public_metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    private_metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    unsafe_metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False)

    @classmethod
    def from_clerk(cls, data: Mapping[str, Any]) -> User:
        """From a Clerk user object; the email is the primary one."""
        primary = data.get("primary_email_address_id")
        addresses = data.get("email_addresses")
        email = None
        if isinstance(addresses, list):
            for item in addresses:
                if isinstance(item, Mapping) and item.get("id") == primary:
                    email = _str(item, "email_address")
                    break
        first, last = _str(data, "first_name"), _str(data, "last_name")
        return cls(
            id=_id(data, "id"),
            provider="clerk",
            email=email,
            username=_str(data, "username"),
            first_name=first,
            last_name=last,
            full_name=" ".join(n for n in (first, last) if n) or None,
            image_url=_str(data, "image_url"),
            public_metadata=_map(data, "public_metadata"),
            private_metadata=_map(data, "private_metadata"),
            unsafe_metadata=_map(data, "unsafe_metadata"),
            raw=MappingProxyType(dict(data)),
        )

    @classmethod
    def from_auth0(cls, data: Mapping[str, Any]) -> User:
        """From an Auth0 Management API user object."""
        return cls(
            id=_id(data, "user_id"),
            provider="auth0",
            email=_str(data, "email"),
            username=_str(data, "username"),
            first_name=_str(data, "given_name"),
            last_name=_str(data, "family_name"),
            full_name=_str(data, "name"),
            image_url=_str(data, "picture"),
            public_metadata=_map(data, "app_metadata"),
            unsafe_metadata=_map(data, "user_metadata"),
            raw=MappingProxyType(dict(data)),
        )


def _id(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"the user object has no {key!r}")
    return value
