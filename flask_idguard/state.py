"""The per-request authentication state: who made the request, as the providers decided it.

Nothing here imports Flask: providers build :class:`AuthState` objects, the extension keeps one
per request on ``g`` and :data:`flask_idguard.current_auth` proxies it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import MISSING
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from types import MappingProxyType
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Literal

if TYPE_CHECKING:
    from .clients.user import User

__all__ = [
    "AuthState",
    "Failure",
    "MACHINE_TOKEN_TYPES",
    "Retyper",
    "Scheme",
    "Status",
    "UserLookup",
    "install_user_lookup",
]

Status = Literal["signed-in", "signed-out", "handshake"]

#: Why a request is not signed in, as the decorators answer it:
#: ``missing`` → 401 bare challenge, ``invalid_token`` → 401 ``invalid_token``,
#: ``invalid_request`` → 400, ``unavailable`` → 503; DPoP adds ``invalid_scheme`` (400,
#: challenges without error attributes), ``invalid_dpop_proof`` (400) and
#: ``use_dpop_nonce`` (401).
Failure = Literal[
    "missing",
    "invalid_token",
    "invalid_request",
    "unavailable",
    "invalid_scheme",
    "invalid_dpop_proof",
    "use_dpop_nonce",
]
#: The authentication scheme of the request's token: ``bearer`` (header, query or form
#: body) or ``dpop``.
Scheme = Literal["bearer", "dpop"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})

#: Clerk's machine token types (``current_auth.token_type`` of a machine request).
MACHINE_TOKEN_TYPES = frozenset({"api_key", "m2m_token", "oauth_token"})

#: Re-decides a request for a route that accepts other token types (Clerk's
#: ``acceptsToken``): ``retype(state, accepts) -> AuthState``, where ``accepts`` is
#: ``"any"`` or a set of token types. Set by a provider that knows machine tokens.
Retyper = Callable[["AuthState", "str | frozenset[str]"], "AuthState"]

#: How :meth:`AuthState.get_user` finds the signed-in user: ``fn(state) -> User``.
UserLookup = Callable[["AuthState"], "User"]


def _no_lookup(state: AuthState) -> User:
    raise RuntimeError("get_user() needs the Flask extension: import flask_idguard first.")


_user_lookup: UserLookup = _no_lookup


def install_user_lookup(lookup: UserLookup) -> None:
    """Set how :meth:`AuthState.get_user` finds users (the Flask extension installs its own,
    which asks the current app's users API client and keeps the answer on ``g``)."""
    global _user_lookup
    _user_lookup = lookup


def _str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) else None


@dataclass(frozen=True, eq=False, slots=True)
class AuthState:
    """Who made this request, computed once by the ``before_request`` hook.

    A signed-out state is falsy; ``reason``/``message`` say why. Provider-specific
    derivations (Clerk organisations, Auth0 permissions) are done by the provider
    when it builds the state; nothing downstream re-derives them.
    """

    status: Status
    provider: str | None = None
    reason: str | None = None
    message: str | None = None
    failure: Failure | None = None
    claims: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    token: str | None = field(default=None, repr=False)
    token_type: str | None = None
    scopes: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    org_id: str | None = None
    org_role: str | None = None
    org_slug: str | None = None
    org_permissions: frozenset[str] = frozenset()
    #: Clerk's ``sts`` (``"active"``, ``"pending"``...), ``act`` (impersonation) and ``fva``.
    session_status: str | None = None
    actor: Mapping[str, Any] | None = None
    factor_verification_age: tuple[float, float] | None = None
    #: Namespaced custom claims without their namespace (``AUTH0_CLAIMS_NAMESPACE``).
    custom_claims: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    #: Response headers the ``after_request`` hook appends (Set-Cookie, x-clerk-auth-*...).
    headers: tuple[tuple[str, str], ...] = ()
    #: A handshake answers the request itself with a 307 to this URL.
    redirect: str | None = None
    #: The provider's own ``has()`` (Clerk's roles, permissions, features, plans, reverification).
    authorizer: Callable[..., bool] | None = field(default=None, repr=False)
    #: Mints a new token for this session (Clerk's ``getToken`` with options).
    token_minter: Callable[[str | None, int | None], str] | None = field(default=None, repr=False)
    #: ``"bearer"`` or ``"dpop"``: the scheme the token came with (its challenge carries
    #: the error attributes of a failure).
    scheme: Scheme | None = None
    #: The request is refused before any view with ``failure``'s error (a development Clerk
    #: instance handed a handshake token that does not verify: 400).
    refuse: bool = False
    #: A verified Clerk machine token (API key, M2M or OAuth token) as the Backend API or
    #: its JWT describes it: ``id``, ``subject``, ``scopes``, ``claims``, ``client_id``...
    machine: Mapping[str, Any] | None = None
    #: How a route that accepts machine tokens re-decides this request (:data:`Retyper`).
    retype: Retyper | None = field(default=None, repr=False)

    #: ``AuthState(status, **values)``, faster: the providers build one state per token
    #: verified, and the frozen dataclass's ``__init__`` calls ``object.__setattr__`` per
    #: field. Set below from the fields (tests/test_state.py holds the two ways equal).
    _build: ClassVar[Callable[..., AuthState]]

    @classmethod
    def signed_out(
        cls,
        reason: str,
        message: str,
        *,
        failure: Failure = "missing",
        provider: str | None = None,
        token: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        scheme: Scheme | None = None,
    ) -> AuthState:
        """A signed-out state with its reason."""
        return cls(
            "signed-out",
            provider=provider,
            reason=reason,
            message=message,
            failure=failure,
            token=token,
            headers=headers,
            scheme=scheme,
        )

    @property
    def is_signed_in(self) -> bool:
        """True only for a verified token."""
        return self.status == "signed-in"

    def __bool__(self) -> bool:
        return self.is_signed_in

    @property
    def user_id(self) -> str | None:
        """The ``sub`` claim of a verified token; for a machine token, the user it acts for
        (an OAuth token's subject, an API key issued to a ``user_…``), else None."""
        if not self.is_signed_in:
            return None
        if self.machine is None:
            return _str(self.claims, "sub")
        subject = self.subject
        if self.token_type == "oauth_token" or (
            self.token_type == "api_key" and subject is not None and subject.startswith("user_")
        ):
            return subject
        return None

    @property
    def subject(self) -> str | None:
        """Who a verified machine token stands for (a ``mch_``, ``user_`` or ``org_`` id)."""
        return _str(self.machine, "subject") if self.machine is not None else None

    @property
    def machine_id(self) -> str | None:
        """The machine (``mch_…``) of a verified M2M token, else None."""
        return self.subject if self.token_type == "m2m_token" else None

    @property
    def session_id(self) -> str | None:
        """The ``sid`` claim (Clerk session id), when present."""
        if not self.is_signed_in or self.machine is not None:
            return None
        return _str(self.claims, "sid")

    def get_user(self) -> User | None:
        """The signed-in user from ``idguard.users`` (one API call per request, kept on
        ``g``), or ``None`` when signed out.

        The client is the one of the provider that signed the request in. Raises
        :class:`~flask_idguard.IdGuardAPIError` when the call fails,
        :class:`~flask_idguard.ConfigurationError` when no users client is configured and
        ``RuntimeError`` when none is for this provider (a user id of one provider means
        nothing to another).
        """
        if self.user_id is None:
            return None
        return _user_lookup(self)

    def has(
        self,
        *,
        permission: str | None = None,
        role: str | None = None,
        feature: str | None = None,
        plan: str | None = None,
        reverification: object | None = None,
        scope: str | None = None,
    ) -> bool:
        """Clerk's ``has()`` semantics: fail closed; at least one check asked, all pass.

        ``feature``, ``plan`` and ``reverification`` are Clerk session concepts and
        are false for other providers.
        """
        checks = (permission, role, feature, plan, reverification, scope)
        if not self.is_signed_in or all(c is None for c in checks):
            return False
        if self.authorizer is not None:
            asked = {"permission": permission, "role": role, "feature": feature, "plan": plan,
                     "reverification": reverification}  # fmt: skip
            return scope is None and self.authorizer(
                **{k: v for k, v in asked.items() if v is not None}
            )
        if feature is not None or plan is not None or reverification is not None:
            return False
        if permission is not None and not (
            permission in self.permissions or permission in self.org_permissions
        ):
            return False
        if role is not None and not (role in self.roles or role == self.org_role):
            return False
        return scope is None or scope in self.scopes

    def get_token(
        self, template: str | None = None, expires_in_seconds: int | None = None
    ) -> str | None:
        """The session's token; with ``template`` or ``expires_in_seconds``, a new one minted
        by the identity provider (Clerk's ``getToken``). None when signed out."""
        if not self.is_signed_in:
            return None
        if template is None and expires_in_seconds is None:
            return self.token
        if self.token_minter is None:
            raise RuntimeError(
                f"The {self.provider} provider cannot mint tokens; get_token() with a template "
                "or an expiry needs a Clerk session."
            )
        return self.token_minter(template, expires_in_seconds)


#: Every field's default but ``status``'s (the factories' values are immutable, shared).
_DEFAULTS: dict[str, Any] = {
    f.name: f.default_factory() if f.default_factory is not MISSING else f.default
    for f in fields(AuthState)
    if f.name != "status"
}


def _make_builder() -> Callable[..., AuthState]:
    """``build(status, *, field=default, ...)``: one descriptor call per slot, no keyword
    dict merged at run time (generated from the fields, as ``dataclasses`` makes ``__init__``).
    """
    names = ["status", *_DEFAULTS]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": AuthState, "_defaults": _DEFAULTS}
    namespace.update({f"_set_{name}": getattr(AuthState, name).__set__ for name in names})
    params = ", ".join(f"{name}=_defaults[{name!r}]" for name in _DEFAULTS)
    body = "".join(f"    _set_{name}(state, {name})\n" for name in names)
    source = f"def build(status, *, {params}):\n    state = _new(_cls)\n{body}    return state\n"
    exec(source, namespace)  # noqa: S102 - built from the dataclass's own field names
    build: Callable[..., AuthState] = namespace["build"]
    return build


AuthState._build = staticmethod(_make_builder())
