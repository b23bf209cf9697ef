"""The request as providers see it: its bearer credentials (RFC 6750 §2), parsed once."""

from __future__ import annotations

from typing import NamedTuple

from flask import Request

from ..core.jwt import TokenError
from ..core.jwt import Unverified
from ..core.jwt import decode_unverified
from ..state import Failure

__all__ = ["Credentials", "RequestContext", "extract_bearer"]


class Credentials(NamedTuple):
    """The bearer token of a request, or why there is none usable.

    ``failure`` is None when a token was found or when there simply is none. (A named tuple:
    one is made per request with a token not seen moments ago.)
    """

    token: str | None = None
    scheme: str | None = None
    failure: Failure | None = None
    reason: str | None = None
    message: str | None = None


_NONE = Credentials()


def _header_credentials(header: str | None) -> Credentials:
    if header is None:
        return _NONE
    parts = header.split(" ")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return Credentials(
            failure="invalid_request",
            reason="authorization-header-malformed",
            message="Malformed Authorization header: expected 'Bearer <token>'.",
        )
    scheme, token = parts
    lowered = scheme.lower()
    if lowered not in ("bearer", "dpop"):
        return Credentials(
            failure="missing",
            reason="authorization-scheme-unsupported",
            message=f"The Authorization scheme {scheme[:20]!r} is not supported; use Bearer.",
        )
    return Credentials(token=token, scheme=lowered)


def extract_bearer(
    request: Request,
    *,
    allow_query: bool = False,
    allow_form: bool = False,
    authorization: str | None = None,
) -> Credentials:
    """The request's bearer token (RFC 6750 §2), from the header and, when enabled, elsewhere.

    ``Authorization: Bearer <token>`` or ``DPoP <token>`` (scheme case-insensitive, RFC 7235;
    ``scheme`` is ``"bearer"`` or ``"dpop"``, the provider applies its DPoP mode). A header that is
    not exactly ``<scheme> SP <token>`` is a malformed request (400); another scheme counts
    as no credentials (401 with a bare challenge, RFC 6750 §3.1). With ``allow_query`` the
    ``access_token`` query parameter counts, with ``allow_form`` the ``access_token`` field
    of an ``application/x-www-form-urlencoded`` body (never on GET). More than one method
    in one request is a malformed request (400), as RFC 6750 §2 requires.
    """
    header = authorization if authorization is not None else _authorization(request)
    found = _header_credentials(header)
    if found.failure == "invalid_request":
        return found
    tokens = [found] if found.token is not None else []
    if allow_query and "access_token" in request.args:
        tokens.append(Credentials(token=request.args["access_token"], scheme="query"))
    if (
        allow_form
        and request.method not in ("GET", "HEAD")
        and request.mimetype == "application/x-www-form-urlencoded"
        and "access_token" in request.form
    ):
        tokens.append(Credentials(token=request.form["access_token"], scheme="form"))
    if len(tokens) > 1:
        return Credentials(
            failure="invalid_request",
            reason="multiple-token-methods",
            message="More than one method used for authentication",
        )
    return tokens[0] if tokens else found


def _authorization(request: Request) -> str | None:
    header = request.environ.get("HTTP_AUTHORIZATION")
    return header if isinstance(header, str) else None


class RequestContext:
    """One request as providers see it: the ``Authorization`` header is read once, the
    bearer credentials are extracted (and the token parsed) only when a provider asks.

    (Computed on first use and kept in plain attributes: ``functools.cached_property`` takes
    a lock on each first access before Python 3.12, and Werkzeug's makes a Python call on
    every access, about 1 % of a fresh token's instructions on this path.)
    """

    def __init__(
        self,
        request: Request,
        *,
        routing: bool,
        allow_query: bool = False,
        allow_form: bool = False,
    ) -> None:
        self.request = request
        #: True when several providers accept bearer tokens and route by ``iss``.
        self.routing = routing
        #: The raw ``Authorization`` header (each provider reads it by its own rules).
        self.authorization = _authorization(request)
        self._allow_query = allow_query
        self._allow_form = allow_form
        self._credentials: Credentials | None = None
        self._parsed: Unverified | TokenError | None = None

    @property
    def credentials(self) -> Credentials:
        """The request's bearer credentials (:func:`extract_bearer`)."""
        found = self._credentials
        if found is None:
            found = self._credentials = extract_bearer(
                self.request,
                allow_query=self._allow_query,
                allow_form=self._allow_form,
                authorization=self.authorization,
            )
        return found

    @property
    def token(self) -> str | None:
        return self.credentials.token

    @property
    def parsed(self) -> Unverified | TokenError:
        """The strictly parsed, unverified token, or the parse error."""
        parsed = self._parsed
        if parsed is None:
            token = self.credentials.token
            assert token is not None
            try:
                parsed = decode_unverified(token)
            except TokenError as exc:
                parsed = exc
            self._parsed = parsed
        return parsed

    @property
    def issuer(self) -> str | None:
        """The token's unverified ``iss``: for routing only, never for a decision."""
        parsed = self.parsed
        if isinstance(parsed, TokenError):
            return None
        iss = parsed.claims.get("iss")
        return iss if isinstance(iss, str) else None
