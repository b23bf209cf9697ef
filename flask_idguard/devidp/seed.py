"""The seed: users with fixed ids and passwords, organizations with roles and permissions.

A seed is a JSON file (``--seed FILE``); :data:`DEFAULT_SEED` ships with the package::

    {
      "users": [{"id": "user_alice", "email": "alice@example.test", "password": "...",
                 "first_name": "Alice", "last_name": "Admin", "public_metadata": {}}],
      "organizations": [{"id": "org_acme", "slug": "acme", "name": "Acme Inc.",
                         "members": {"user_alice": "org:admin"}}],
      "roles": {"org:admin": ["org:billing:manage"], "org:member": []},
      "m2m_clients": [{"client_id": "...", "client_secret": "...", "scopes": ["read:messages"]}],
      "templates": {"my-template": {"claims": {"role": "authenticated"}}}
    }
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_SEED", "M2MClientSeed", "OrganizationSeed", "Seed", "SeedError", "UserSeed"]


class SeedError(ValueError):
    """A seed file that cannot be used; the message names the entry and the field."""


@dataclass(frozen=True)
class UserSeed:
    id: str
    email: str
    password: str
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    public_metadata: Mapping[str, Any] = field(default_factory=dict)
    private_metadata: Mapping[str, Any] = field(default_factory=dict)
    #: A phone number in E.164 form (``+12015550100``), for phone-code sign-in.
    phone: str | None = None


@dataclass(frozen=True)
class OrganizationSeed:
    id: str
    slug: str
    name: str
    #: user id → role (``org:admin``, ``org:member``...).
    members: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class M2MClientSeed:
    """A machine client of the Auth0 tenant (client credentials)."""

    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Seed:
    users: tuple[UserSeed, ...]
    organizations: tuple[OrganizationSeed, ...] = ()
    #: role → permissions (``org:<feature>:<permission>``).
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    m2m_clients: tuple[M2MClientSeed, ...] = ()
    #: JWT templates: name → ``{"claims": {...}, "lifetime": seconds}``.
    templates: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> Seed:
        """A seed from a JSON file. :raises SeedError: naming what is wrong."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SeedError(f"cannot read the seed file {path}: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object) -> Seed:
        """A seed from parsed JSON. :raises SeedError: naming what is wrong."""
        if not isinstance(data, dict):
            raise SeedError("the seed must be a JSON object")
        try:
            users = tuple(UserSeed(**_fields(u, "user")) for u in _list(data, "users"))
            orgs = tuple(
                OrganizationSeed(**_fields(o, "organization")) for o in _list(data, "organizations")
            )
            m2m = tuple(
                M2MClientSeed(**_tuples(_fields(c, "m2m client"), ("scopes", "permissions")))
                for c in _list(data, "m2m_clients")
            )
        except TypeError as exc:
            raise SeedError(f"seed: {exc}") from None
        roles = data.get("roles", {})
        if not isinstance(roles, dict) or not all(
            isinstance(p, list) and all(isinstance(x, str) for x in p) for p in roles.values()
        ):
            raise SeedError("seed: 'roles' must map each role to a list of permission strings")
        templates = data.get("templates", {})
        if not isinstance(templates, dict):
            raise SeedError("seed: 'templates' must be an object")
        seed = cls(users, orgs, {r: tuple(p) for r, p in roles.items()}, m2m, templates)
        seed._check()
        return seed

    def _check(self) -> None:
        ids = [u.id for u in self.users]
        emails = [u.email.lower() for u in self.users]
        if len(set(ids)) != len(ids) or len(set(emails)) != len(emails):
            raise SeedError("seed: user ids and emails must be unique")
        for user in self.users:
            if not user.id.startswith("user_") or "@" not in user.email or not user.password:
                raise SeedError(f"seed: user {user.id!r} needs a 'user_' id, an email, a password")
            if user.phone is not None and not E164.fullmatch(str(user.phone)):
                raise SeedError(f"seed: user {user.id!r}: phone must be E.164, like +12015550100")
        for org in self.organizations:
            if not org.id.startswith("org_"):
                raise SeedError(f"seed: organization {org.id!r} needs an 'org_' id")
            for member, role in org.members.items():
                if member not in ids:
                    raise SeedError(f"seed: organization {org.id!r} lists unknown user {member!r}")
                if not role.startswith("org:"):
                    raise SeedError(f"seed: role {role!r} in {org.id!r} must start with 'org:'")


#: A phone number as Clerk stores it: ``+``, the country code and the number, digits only.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise SeedError(f"seed: {key!r} must be a list")
    return value


def _fields(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SeedError(f"seed: each {what} must be an object")
    return value


def _tuples(value: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: tuple(v) if k in keys and isinstance(v, list) else v for k, v in value.items()}


def _default() -> Seed:
    text = resources.files(__package__).joinpath("default_seed.json").read_text(encoding="utf-8")
    return Seed.from_dict(json.loads(text))


#: The seed that ships: three users, two organizations, an admin and a member role.
DEFAULT_SEED = _default()
