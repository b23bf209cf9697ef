"""Several issuers for one provider: an allow-list or a resolver (Auth0's Multiple Custom Domains).

The token's *unverified* ``iss`` picks the issuer, but only among those allowed: a token whose
``iss`` is not allowed is refused before any network request, so a forged ``iss`` can never make
the server fetch a document from a URL of the attacker's choosing. An allowed issuer's keys are
found by discovery, whose ``issuer`` must equal the token's ``iss``; the full verification then
checks ``iss`` once more. Discovery sources (per issuer) and key sets (per ``jwks_uri``) are kept
in bounded LRU maps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace
from typing import Any
from typing import TypeVar

from werkzeug.datastructures import Headers

from ..config import ConfigReader
from ..core.cache import LRU
from ..core.discovery import DiscoveredJWKS
from ..core.jwks import RemoteJWKS
from ..core.jwt import Policy
from ..core.jwt import TokenError
from ..core.jwt import shown
from ..core.keys import KeySource
from ..errors import ConfigurationError
from ..errors import IssuerResolverError
from ..state import AuthState
from .settings import Settings

__all__ = ["NO_KEYS", "IssuerContext", "IssuerResolver", "IssuerRouter", "Issuers"]

logger = logging.getLogger("flask_idguard")

#: Default bound of the per-issuer and per-``jwks_uri`` maps.
MAX_ENTRIES = 100

T = TypeVar("T")


@dataclass(frozen=True)
class IssuerContext:
    """What an issuer resolver is given: the request and the token's unverified ``iss``."""

    #: The request's full URL (``request.url``).
    url: str
    #: The request's headers (case-insensitive ``headers.get("X-Tenant")``).
    headers: Headers
    #: The token's ``iss`` claim, *not verified*: use it to look up, never to trust.
    unverified_iss: str | None


#: ``fn(ctx) -> [issuer or domain, ...]``: the issuers allowed for this request.
IssuerResolver = Callable[[IssuerContext], Iterable[str]]


class Issuers:
    """The allowed issuers: a fixed list, or a resolver asked on every token."""

    def __init__(
        self,
        key: str,
        normalize: Callable[[str], str],
        *,
        static: Iterable[str] = (),
        resolver: IssuerResolver | None = None,
    ) -> None:
        self.key = key
        self.normalize = normalize
        self.static = frozenset(static)
        self.resolver = resolver

    @classmethod
    def from_config(
        cls, reader: ConfigReader, key: str, normalize: Callable[[str], str]
    ) -> Issuers | None:
        """``key`` as a list (or comma-separated string) of issuers, or a resolver callable."""
        value = reader.raw(key)
        if value is None:
            return None
        if callable(value):
            return cls(key, normalize, resolver=value)
        entries = reader.strings(key)
        if not entries:
            raise ConfigurationError(f"{key} must not be empty.")
        try:
            static = [normalize(entry) for entry in entries]
        except ValueError as exc:
            raise ConfigurationError(f"{key}: {exc}.") from exc
        return cls(key, normalize, static=static)

    def owns(self, issuer: str | None) -> bool:
        """Whether a token with this ``iss`` is routed here (a resolver takes every token)."""
        return issuer is not None and (self.resolver is not None or issuer in self.static)

    def allowed(self, ctx: IssuerContext) -> frozenset[str]:
        """The issuers allowed for this request.

        :raises IssuerResolverError: the resolver raised or returned something else than a
            list of valid issuers (a bug in the application: answered ``500``).
        """
        if self.resolver is None:
            return self.static
        try:
            result = self.resolver(ctx)
        except Exception as exc:
            logger.exception("The issuer resolver (%s) raised", self.key)
            raise IssuerResolverError(reason="issuer-resolver-failed") from exc
        if isinstance(result, (str, bytes)) or not isinstance(
            result, (list, tuple, set, frozenset)
        ):
            logger.error(
                "The issuer resolver (%s) must return a list of issuers, got %s",
                self.key,
                type(result).__name__,
            )
            raise IssuerResolverError(reason="issuer-resolver-failed")
        try:
            return frozenset(self.normalize(_string(entry)) for entry in result)
        except ValueError as exc:
            logger.error("The issuer resolver (%s) returned an invalid issuer: %s", self.key, exc)
            raise IssuerResolverError(reason="issuer-resolver-failed") from exc


def _string(entry: object) -> str:
    if not isinstance(entry, str):
        raise ValueError(f"{type(entry).__name__} is not an issuer string")
    return entry


class _NoKeys:
    """The key source of a provider whose router picks one per issuer; never consulted."""

    def get(self, kid: str | None) -> None:
        raise AssertionError("a routed provider verifies with its issuer's keys")


#: The ``keys`` of a provider with a router (each issuer has its own).
NO_KEYS = _NoKeys()


class IssuerRouter:
    """Chooses the policy and keys for a token among several issuers."""

    def __init__(
        self,
        name: str,
        issuers: Issuers,
        template: Policy,
        settings: Settings,
        *,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.name = name
        self.issuers = issuers
        self.template = template
        self.settings = settings
        self._sources: LRU[tuple[Policy, DiscoveredJWKS]] = LRU(max_entries)
        self._jwks: LRU[RemoteJWKS] = LRU(max_entries)

    def _remote(self, url: str) -> RemoteJWKS:
        return self._jwks.get(url, lambda: self.settings.key_sets.remote(url))

    def _source(self, issuer: str) -> tuple[Policy, DiscoveredJWKS]:
        def make() -> tuple[Policy, DiscoveredJWKS]:
            keys = self.settings.discovered(issuer, jwks_factory=self._remote)
            return replace(self.template, issuer=issuer), keys

        return self._sources.get(issuer, make)

    def select(self, parsed: Any, ctx: IssuerContext) -> tuple[Policy, KeySource] | AuthState:
        """The policy and keys of the token's issuer, or the signed-out state refusing it.

        ``parsed`` is the unverified token (or its parse error); nothing is fetched here.
        """
        if isinstance(parsed, TokenError):
            return self._refuse(parsed.reason, parsed.message)
        iss = ctx.unverified_iss
        if iss is None:
            return self._refuse("token-invalid-issuer", "Missing 'iss' claim")
        if iss not in self.issuers.allowed(ctx):
            logger.info("%s: token issuer %s is not allowed", self.name, shown(iss))
            return self._refuse(
                "token-invalid-issuer", f"Unexpected 'iss' value {shown(iss)}: issuer not allowed."
            )
        return self._source(iss)

    def _refuse(self, reason: str, message: str) -> AuthState:
        return AuthState.signed_out(reason, message, failure="invalid_token", provider=self.name)

    @property
    def cached_sources(self) -> int:
        """How many issuers have a discovery source in memory (bounded by ``max_entries``)."""
        return len(self._sources)
