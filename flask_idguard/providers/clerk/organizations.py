"""Organization sync (``CLERK_ORGANIZATION_SYNC_OPTIONS``): which organization a path names.

Clerk's ``organizationSyncOptions``: path patterns such as ``/orgs/:slug`` or
``/orgs/:id/(.*)`` name the organization that should be active; personal-account patterns
name none. A mismatch with the session's active organization asks for a handshake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ...errors import ConfigurationError
from .claims import SessionFields

__all__ = ["OrganizationSync", "Target", "organization_target"]

_PARAM = re.compile(r":(id|slug)(?!\w)")

#: What a path names: ``("id", value)``, ``("slug", value)`` or ``("personal", "")``.
Target = tuple[Literal["id", "slug", "personal"], str]


@dataclass(frozen=True)
class OrganizationSync:
    """``CLERK_ORGANIZATION_SYNC_OPTIONS``: path patterns that name the active organization."""

    organization_patterns: tuple[str, ...] = ()
    personal_account_patterns: tuple[str, ...] = ()

    @classmethod
    def from_value(cls, value: object) -> OrganizationSync | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                "CLERK_ORGANIZATION_SYNC_OPTIONS must be a dict with 'organization_patterns' "
                "and/or 'personal_account_patterns' (lists of path patterns)."
            )
        unknown = set(value) - {"organization_patterns", "personal_account_patterns"}
        if unknown:
            raise ConfigurationError(
                f"CLERK_ORGANIZATION_SYNC_OPTIONS has unknown keys {sorted(unknown)}; use "
                "'organization_patterns' and 'personal_account_patterns'."
            )
        lists = {}
        for name in ("organization_patterns", "personal_account_patterns"):
            patterns = value.get(name, [])
            if not isinstance(patterns, (list, tuple)) or not all(
                isinstance(p, str) and p.startswith("/") for p in patterns
            ):
                raise ConfigurationError(
                    f"CLERK_ORGANIZATION_SYNC_OPTIONS['{name}'] must be a list of paths "
                    "starting with '/', such as '/orgs/:slug' or '/orgs/:id/(.*)'."
                )
            lists[name] = tuple(patterns)
        for pattern in lists["organization_patterns"]:
            if not _PARAM.search(pattern):
                raise ConfigurationError(
                    f"The organization pattern {pattern!r} has neither ':id' nor ':slug'."
                )
        return cls(lists["organization_patterns"], lists["personal_account_patterns"])


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    """A path pattern (``/orgs/:slug``, ``/orgs/:id/(.*)``) as a case-insensitive regex."""
    out = []
    seen: set[str] = set()
    for piece in re.split(r"(:[A-Za-z_]\w*|\(\.\*\))", pattern):
        if piece.startswith(":") and len(piece) > 1:
            name = piece[1:]
            # Only :id and :slug name the organization; other parameters match a segment.
            group = name if name in ("id", "slug") and name not in seen else None
            seen.add(name)
            out.append(f"(?P<{group}>[^/]+?)" if group else "(?:[^/]+?)")
        elif piece == "(.*)":
            out.append("(?:.*)")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out) + "/?", re.IGNORECASE)


def organization_target(sync: OrganizationSync, path: str) -> Target | None:
    """The organization a path names: ("id"|"slug", value), ("personal", ""), or None."""
    for pattern in sync.organization_patterns:
        match = _compile(pattern).fullmatch(path)
        if match is not None:
            groups = match.groupdict()
            if groups.get("id") is not None:
                return "id", groups["id"]
            if groups.get("slug") is not None:
                return "slug", groups["slug"]
    for pattern in sync.personal_account_patterns:
        if _compile(pattern).fullmatch(path):
            return "personal", ""
    return None


def mismatched(target: Target, fields: SessionFields) -> bool:
    """Whether the session's active organization is not the one ``target`` names."""
    kind, value = target
    return (
        (kind == "slug" and value != fields.org_slug)
        or (kind == "id" and value != fields.org_id)
        or (kind == "personal" and fields.org_id is not None)
    )
