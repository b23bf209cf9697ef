"""Clerk's ``acceptsToken``: which token types a route accepts, and the request decided again
for it (``authenticateRequest``'s dispatch, clerk.md §1.4; ``request.ts``).

The ``before_request`` hook decides every request as Clerk's default does (session tokens
only), before the view is known. A route that accepts machine tokens
(``@requires_auth(accepts_token=...)``) asks the state's :attr:`~AuthState.retype`, which
verifies a machine token in the ``Authorization`` header only then: a route that does not
accept machine tokens never costs a Backend API call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...config import ConfigReader
from ...errors import ConfigurationError
from ...state import MACHINE_TOKEN_TYPES
from ...state import AuthState
from ...state import Failure
from .machine_verify import MachineError
from .machine_verify import MachineVerifier
from .machine_verify import machine_token_type
from .outcome import Outcome

__all__ = [
    "TOKEN_TYPES",
    "Accepts",
    "MachineConfig",
    "MachineTokens",
    "accepts_value",
]

TOKEN_TYPES = frozenset({"session_token", *MACHINE_TOKEN_TYPES})
#: ``"any"``, one token type, or a set of them (Clerk's array).
Accepts = str | frozenset[str]


def accepts_value(value: str | Iterable[str]) -> Accepts:
    """Check a route's ``accepts_token``: ``"any"``, a token type, or a non-empty list."""
    if isinstance(value, str):
        if value != "any" and value not in TOKEN_TYPES:
            raise ValueError(
                f"accepts_token must be 'any' or one of {sorted(TOKEN_TYPES)}, not {value!r}"
            )
        return value
    items = frozenset(value)
    if not items or not items <= TOKEN_TYPES:
        raise ValueError(f"accepts_token lists must hold token types of {sorted(TOKEN_TYPES)}")
    return items


@dataclass(frozen=True)
class MachineConfig:
    """``CLERK_MACHINE_SECRET_KEY`` (the bearer of M2M verification, else the secret key) and
    ``CLERK_MACHINE_TOKEN_CACHE_TTL`` (seconds a verified opaque token is remembered)."""

    machine_secret_key: str | None = None
    cache_ttl: float = 10.0

    def __repr__(self) -> str:  # never show the key
        return f"MachineConfig(cache_ttl={self.cache_ttl!r})"

    @classmethod
    def from_config(cls, reader: ConfigReader) -> MachineConfig:
        key = reader.string("CLERK_MACHINE_SECRET_KEY")
        ttl = reader.number("CLERK_MACHINE_TOKEN_CACHE_TTL", 10.0)
        if ttl > 3600:
            raise ConfigurationError(
                "CLERK_MACHINE_TOKEN_CACHE_TTL is at most 3600 seconds: a revoked token keeps "
                "working that long."
            )
        return cls(machine_secret_key=key, cache_ttl=ttl)


def _never(**_: Any) -> bool:
    return False  # Clerk's machine auth objects: has() is always false


class MachineTokens:
    """Turns a request's header token into the state a route accepting ``accepts`` sees."""

    def __init__(self, verifier: MachineVerifier, *, debug_headers: bool = True) -> None:
        self.verifier = verifier
        self.debug_headers = debug_headers
        #: The retyper of requests without a header token (shared, nothing to remember).
        self.no_header = _Retyper(self, None)

    def retyper(self, header_token: str | None) -> _Retyper:
        """The :data:`~flask_idguard.state.Retyper` of a request with this header token."""
        return self.no_header if header_token is None else _Retyper(self, header_token)

    def signed_out(
        self, reason: str, token_type: str | None, failure: Failure, message: str = ""
    ) -> AuthState:
        headers = Outcome.signed_out(reason, message).debug_headers() if self.debug_headers else ()
        return AuthState(
            "signed-out",
            provider="clerk",
            reason=reason,
            message=message,
            failure=failure,
            token_type=token_type,
            headers=headers,
        )

    def verified(self, token_type: str, token: str) -> AuthState:
        """``verifyMachineAuthToken``: a signed-in machine state, or signed out with Clerk's
        code and message (503 when the Backend API or the keys could not be had)."""
        try:
            resource = self.verifier.verify(token_type, token)
        except MachineError as exc:
            return self.signed_out(exc.code, token_type, exc.failure, exc.full_message)
        subject = resource["subject"]
        custom = resource.get("claims")
        org = token_type == "api_key" and subject.startswith("org_")
        return AuthState(
            "signed-in",
            provider="clerk",
            token=token,
            token_type=token_type,
            claims=custom if isinstance(custom, dict) else {},
            scopes=frozenset(s for s in resource.get("scopes") or () if isinstance(s, str)),
            org_id=subject if org else None,
            machine=resource,
            authorizer=_never,
        )


class _Retyper:
    """``authenticateRequest`` with ``acceptsToken``, for one request's header token."""

    __slots__ = ("header_token", "tokens")

    def __init__(self, tokens: MachineTokens, header_token: str | None) -> None:
        self.tokens = tokens
        self.header_token = header_token

    def __call__(self, state: AuthState, accepts: Accepts) -> AuthState:
        if accepts == "session_token":
            return state
        token, tokens = self.header_token, self.tokens
        kind = machine_token_type(token) if token is not None else None
        failure: Failure = "missing" if token is None else "invalid_token"
        single = isinstance(accepts, str) and accepts != "any"
        if isinstance(accepts, frozenset) and (kind or "session_token") not in accepts:
            return tokens.signed_out("token-type-mismatch", None, failure)
        if token is None:
            if single:  # a machine type: never read from cookies
                return tokens.signed_out("No token in header", str(accepts), "missing")
            return state  # the cookie path's decision
        if kind is None:  # a session token
            if single:
                return tokens.signed_out("token-type-mismatch", str(accepts), failure)
            return state  # the session header path's decision
        if single and accepts != kind:
            return tokens.signed_out("token-type-mismatch", str(accepts), failure)
        return tokens.verified(kind, token)
