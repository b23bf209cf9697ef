"""``htu`` normalisation (RFC 9449 §4.3 item 9, RFC 3986 §6.2.2 and §6.2.3).

Both the proof's ``htu`` and the request URL are reduced to ``scheme://host[:port]/path``:
scheme and host lower-cased, an internationalised host in punycode, an IPv6 literal in its
canonical form, the default port dropped, userinfo, query and fragment removed, ``%XX``
escapes of unreserved characters decoded and the others upper-cased, other characters
outside the URI grammar percent-encoded (UTF-8), dot segments resolved, an empty path ``/``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import quote
from urllib.parse import urlsplit

__all__ = ["normalize_url"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9._-]+")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
#: Characters kept as they are in a path: unreserved, sub-delims, ":", "@", "/" and "%".
_PATH_SAFE = "-._~!$&'()*+,;=:@/%"
_PROTOCOL_IN_PATH = re.compile(r"/[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_MAX_URL = 8192


class URLError(ValueError):
    """A URL that cannot be normalised; ``source`` says whose it was."""

    def __init__(self, source: Literal["request", "proof"], detail: str = "") -> None:
        if source == "request":
            message = "Invalid request URL" + (f": {detail}" if detail else "")
        else:
            message = (
                f'Invalid "htu" claim URL: {detail}'
                if detail
                else '"htu" claim URL must be valid URL'
            )
        super().__init__(message)
        self.source = source
        self.message = message


def _escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4."""
    output: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _host(host: str, source: Literal["request", "proof"]) -> str:
    if host.startswith("["):
        if not host.endswith("]"):
            raise URLError(source)
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            raise URLError(source) from None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise URLError(source, "Host contains illegal characters or format") from None
    host = host.lower()
    if not _HOST.fullmatch(host):
        raise URLError(source, "Host contains illegal characters or format")
    return host


def normalize_url(url: str, source: Literal["request", "proof"]) -> str:
    """``url`` in the form compared for ``htu``; :class:`URLError` when it is no http(s) URL.

    For the request URL (``source="request"``), a path that starts with an absolute URL
    (``/https://...``) is refused as well.
    """
    if not isinstance(url, str) or not url or len(url) > _MAX_URL or not url.isprintable():
        raise URLError(source)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise URLError(source) from None
    scheme = parts.scheme.lower()
    if any(c in parts.netloc for c in "\\ "):
        raise URLError(source, "Host contains illegal characters or format")
    netloc = parts.netloc.rpartition("@")[2]
    host_text = netloc
    if port is not None or netloc.endswith(":"):
        host_text = netloc[: netloc.rfind(":")]
    if scheme not in _DEFAULT_PORTS or not host_text:
        raise URLError(source)
    if any(c in host_text for c in "/?#\\ "):
        raise URLError(source, "Host contains illegal characters or format")
    host = _host(host_text, source)
    path = parts.path or "/"
    if source == "request" and _PROTOCOL_IN_PATH.match(path):
        raise URLError(source, "Path must not contain an absolute URL")
    path = quote(path, safe=_PATH_SAFE)
    path = _remove_dot_segments(_ESCAPE.sub(_escape, path))
    authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{authority}{path}"
