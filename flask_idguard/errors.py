"""Exceptions raised by the decorators, rendered as RFC 6750 responses.

Every error is a :class:`werkzeug.exceptions.HTTPException`, so an application
customises the response with ``@app.errorhandler(InvalidToken)`` (or the base
class :class:`IdGuardError`). The JSON body is ``{"error", "error_description"}``
except for :class:`AuthenticationRequired`, which RFC 6750 §3.1 wants bare.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException

__all__ = [
    "AuthenticationRequired",
    "Challenge",
    "ConfigurationError",
    "IdGuardError",
    "InsufficientPermission",
    "InsufficientScope",
    "InvalidAuthScheme",
    "InvalidDPoPProof",
    "InvalidRequest",
    "InvalidToken",
    "IssuerResolverError",
    "ServiceUnavailable",
    "UseDPoPNonce",
    "header_safe",
    "header_value_ok",
]

# RFC 6750 §3: error and error_description use %x20-21 / %x23-5B / %x5D-7E only.
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def header_safe(text: str) -> str:
    """``text`` reduced to the characters RFC 6750 allows in a challenge attribute."""
    return _UNSAFE.sub("?", text.replace('"', "'").replace("\\", "/"))


def header_value_ok(value: str) -> bool:
    """Whether ``value`` can be sent as a header value: Latin-1, no CR, LF or NUL."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return "\r" not in value and "\n" not in value and "\0" not in value


@dataclass(frozen=True)
class Challenge:
    """What an error's ``WWW-Authenticate`` offers, given by whoever raises it.

    The decorators give the app's (``IDGUARD_REALM``, its providers' DPoP offers, the scheme
    of the request's token, the RFC 9728 metadata URL); without one, a plain ``Bearer``.
    """

    realm: str | None = None
    #: Whether the ``Bearer`` scheme is offered (not in DPoP ``required`` mode).
    bearer: bool = True
    #: The DPoP proof algorithms offered (``algs``); empty when DPoP is not offered.
    dpop_algs: tuple[str, ...] = ()
    #: ``"bearer"`` or ``"dpop"``: the scheme the request's token came with, if any.
    used: str | None = None
    #: ``resource_metadata`` (RFC 9728 §5.1), when the document is served.
    resource_metadata: str | None = None


_PLAIN = Challenge()


class ConfigurationError(RuntimeError):
    """The application's configuration is wrong; raised at ``init_app``, never per request."""


class IdGuardError(HTTPException):
    """Base of every authentication/authorization error response.

    ``error`` is the RFC 6750 error code (None for a bare challenge), ``reason`` a
    stable machine reason such as ``token-expired``.
    """

    #: None on the base class, so ``@app.errorhandler(IdGuardError)`` catches every
    #: status (Flask files a handler for a class with a code under that code only).
    code: int | None = None
    error: str | None = None
    #: The challenge that carries the error attributes: ``"bearer"``, ``"dpop"``, or None
    #: for the scheme of the request's token (Bearer when there is none).
    scheme: str | None = None
    #: A "no information" answer (RFC 6750 §3.1): challenges without error attributes.
    bare: bool = False

    def __init__(
        self,
        description: str | None = None,
        *,
        reason: str | None = None,
        challenge: Challenge | None = None,
    ) -> None:
        super().__init__(description)
        self.reason = reason
        #: What ``WWW-Authenticate`` offers; None renders a plain ``Bearer`` challenge.
        self.challenge = challenge

    def challenge_params(self) -> list[tuple[str, str]]:
        """Attributes of the ``Bearer`` challenge after ``realm``."""
        params: list[tuple[str, str]] = []
        if self.error:
            params.append(("error", self.error))
            if self.description:
                params.append(("error_description", header_safe(self.description)))
        return params

    def challenges(self) -> list[str]:
        """The ``WWW-Authenticate`` values, one challenge per header line.

        ``Bearer`` (with ``realm``) and, where DPoP is accepted, ``DPoP algs="..."``
        (RFC 9449 §7.1); the error attributes go on the challenge of the scheme that
        failed, none at all for a bare error.
        """
        offer = self.challenge or _PLAIN
        bearer, algs, realm = offer.bearer, offer.dpop_algs, offer.realm
        target = self.scheme or offer.used or "bearer"
        if target == "dpop" and not algs:
            target = "bearer"
        elif target == "bearer" and not bearer:
            target = "dpop"
        params = [] if self.bare else self.challenge_params()
        # RFC 9728 §5.1: where to find the protected resource's metadata, when served.
        metadata = (
            [("resource_metadata", offer.resource_metadata)] if offer.resource_metadata else []
        )
        challenges = []
        if bearer:
            bearer_params = ([("realm", realm)] if realm else []) + (
                params if target == "bearer" else []
            )
            challenges.append(_challenge("Bearer", bearer_params + metadata))
        if algs:
            dpop_params = (params if target == "dpop" else []) + [("algs", " ".join(algs))]
            challenges.append(_challenge("DPoP", dpop_params + ([] if bearer else metadata)))
        return challenges

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        headers = [("Cache-Control", "no-store")]
        headers += [("WWW-Authenticate", c) for c in self.challenges()]
        if self.error:
            headers.append(("Content-Type", "application/json"))
        return headers

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        if not self.error:
            return ""
        return json.dumps({"error": self.error, "error_description": self.description or ""})


def _challenge(scheme: str, params: list[tuple[str, str]]) -> str:
    return f"{scheme} " + ", ".join(f'{k}="{v}"' for k, v in params) if params else scheme


class AuthenticationRequired(IdGuardError):
    """401 for a request without credentials: a bare challenge, no error body."""

    code = 401
    description = "Authentication is required."


class InvalidToken(IdGuardError):
    """401 ``invalid_token``: the token is malformed, expired, or fails a check."""

    code = 401
    error = "invalid_token"
    description = "Invalid token."


class InvalidRequest(IdGuardError):
    """400 ``invalid_request``: the request carries credentials in a malformed way."""

    code = 400
    error = "invalid_request"
    description = "Invalid request."


class InvalidAuthScheme(InvalidRequest):
    """400 for a scheme this API's DPoP mode refuses, or the DPoP scheme without a proof.

    The challenges carry no error attributes (RFC 6750 §3.1, as Auth0's SDKs answer);
    the JSON body says what is wrong.
    """

    bare = True


class InvalidDPoPProof(IdGuardError):
    """400 ``invalid_dpop_proof`` (RFC 9449 §7.1): the ``DPoP`` proof fails a check."""

    code = 400
    error = "invalid_dpop_proof"
    description = "Invalid DPoP proof."
    scheme = "dpop"


class UseDPoPNonce(IdGuardError):
    """401 ``use_dpop_nonce`` (RFC 9449 §9): retry with the nonce of ``DPoP-Nonce``."""

    code = 401
    error = "use_dpop_nonce"
    description = "Resource server requires nonce in DPoP proof"
    scheme = "dpop"


class InsufficientScope(IdGuardError):
    """403 ``insufficient_scope``; ``scopes`` are listed in the challenge's ``scope``."""

    code = 403
    error = "insufficient_scope"
    description = "Insufficient scope."

    def __init__(
        self,
        description: str | None = None,
        *,
        scopes: Iterable[str] = (),
        reason: str | None = None,
        challenge: Challenge | None = None,
    ) -> None:
        super().__init__(description, reason=reason, challenge=challenge)
        self.scopes = tuple(scopes)

    def challenge_params(self) -> list[tuple[str, str]]:
        params = super().challenge_params()
        if self.scopes:
            params.append(("scope", header_safe(" ".join(self.scopes))))
        return params


class InsufficientPermission(InsufficientScope):
    """403 for a signed-in user lacking a permission or role (``has_permission``, ``has_role``)."""

    description = "Insufficient permission."


class ServiceUnavailable(IdGuardError):
    """503 ``temporarily_unavailable``: the identity provider's keys cannot be had."""

    code = 503
    error = "temporarily_unavailable"
    description = "The identity provider cannot be reached; try again shortly."

    def challenges(self) -> list[str]:
        return []

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return super().get_headers(environ, scope) + [("Retry-After", "5")]


class IssuerResolverError(IdGuardError):
    """500 ``server_error``: the application's issuer resolver raised or returned garbage.

    A bug to fix, not a bad token; the cause is logged on the ``flask_idguard`` logger.
    """

    code = 500
    error = "server_error"
    description = "The issuer resolver failed; see the server log."

    def challenges(self) -> list[str]:
        return []
