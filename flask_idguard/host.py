"""The request's host, validated before anything is built from it.

A ``Host`` header is attacker-controlled. flask-idguard builds URLs from it (the RFC 9728
``resource_metadata`` URL, the sign-in ``redirect_url``, a DPoP ``htu``), so a request whose
host is not a plain ``host[:port]`` is refused as ``400 invalid_request`` "Invalid Host header"
(the rule of Auth0's express-oauth2-jwt-bearer ``resolveHost``, v1.9.1).

``X-Forwarded-Host`` is never read here: trusting it is a deployment decision, made with
Werkzeug's ``ProxyFix``, which moves the trusted value into ``Host`` before this check sees it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["INVALID_HOST", "environ_host_ok", "host_is_valid"]

INVALID_HOST = "Invalid Host header"

# reg-name characters (letters, digits, ``-._~``) or a bracketed IPv6 literal, then an optional
# port of one to five digits (its range is checked below).
_HOST = re.compile(r"(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?")


def host_is_valid(host: object) -> bool:
    """Whether ``host`` is ``name[:port]`` or ``[ipv6][:port]`` with a port in 0–65535.

    Anything carrying a path, query, fragment, userinfo, scheme, whitespace or a bad port
    is not.
    """
    if not isinstance(host, str):
        return False
    match = _HOST.fullmatch(host)
    if match is None:
        return False
    port = match.group(1)
    return port is None or int(port) <= 65535


def environ_host_ok(environ: Mapping[str, Any]) -> bool:
    """Whether the WSGI request's ``Host`` header, when it sent one, is valid.

    Without a ``Host`` header (HTTP/1.0) Werkzeug uses ``SERVER_NAME``, which the server
    sets and which is trusted.
    """
    host = environ.get("HTTP_HOST")
    return host is None or host_is_valid(host)
