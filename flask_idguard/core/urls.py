"""Every URL, host and domain rule of the library, in one place.

* :func:`host_is_valid` / :func:`environ_host_ok`: a ``Host`` header must be a plain
  ``host[:port]`` before anything is built from it (the rule of Auth0's
  express-oauth2-jwt-bearer ``resolveHost``, v1.9.1). ``X-Forwarded-Host`` is never read here:
  trusting it is a deployment decision, made with Werkzeug's ``ProxyFix``.
* :func:`check_url`: a configured or discovered URL (issuer, JWKS, API) is http(s), has a host,
  no userinfo, and is ``https`` unless on loopback.
* :func:`safe_url`: a URL fit for messages and logs (no userinfo, query or fragment).
* :func:`normalize_domain`: an Auth0 domain as its issuer URL.
* :func:`parse_url`: how a browser's URL parser (WHATWG) sees an absolute URL's hostname and
  origin; :func:`origin_of` is the http(s) origin of a URL by that one parser.
* :func:`form_query`, :func:`with_params`, :func:`without_params`: query strings as
  ``URLSearchParams`` writes them (Clerk's redirect and handshake URLs).

DPoP's ``htu`` comparison (:mod:`flask_idguard.core.dpop.htu`) builds on these.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple
from urllib.parse import SplitResult
from urllib.parse import parse_qsl
from urllib.parse import quote_plus
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

__all__ = [
    "INVALID_HOST",
    "form_query",
    "with_params",
    "without_params",
    "ParsedURL",
    "check_url",
    "environ_host_ok",
    "host_is_valid",
    "is_loopback",
    "normalize_domain",
    "origin_of",
    "parse_url",
    "safe_url",
]

INVALID_HOST = "Invalid Host header"

# reg-name characters (letters, digits, ``-._~``) or a bracketed IPv6 literal, then an optional
# port of one to five digits (its range is checked below).
_HOST = re.compile(r"(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?")
_LOOPBACK_NAMES = frozenset({"localhost"})


# -- hosts ---------------------------------------------------------------------------------------


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


def is_loopback(host: str) -> bool:
    """Whether ``host`` is localhost or a loopback IP address."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- configured URLs -----------------------------------------------------------------------------


def safe_url(url: str) -> str:
    """``url`` without userinfo, query string or fragment, fit for messages and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path}"


def check_url(url: str, *, allow_insecure_http: bool, what: str) -> None:
    """Refuse a URL that is not http(s), has userinfo or no host, or is ``http://`` on a
    non-loopback host (unless ``allow_insecure_http``).

    :param what: names the URL in the error message (e.g. a config key).
    :raises ValueError: with a message naming ``what``.
    """
    if not isinstance(url, str):
        raise ValueError(f"{what} must be a URL string")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise ValueError(f"{what} is not a valid URL: {safe_url(url)!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"{what} must be an https:// URL, got scheme {parts.scheme!r}")
    if not host:
        raise ValueError(f"{what} has no host: {safe_url(url)!r}")
    if "@" in parts.netloc:
        raise ValueError(f"{what} must not contain user information (user:password@)")
    if scheme == "http" and not allow_insecure_http and not is_loopback(host):
        raise ValueError(
            f"{what} uses http:// on a non-loopback host ({host}); use https://, or set "
            "IDGUARD_ALLOW_INSECURE_HTTP for development"
        )


def normalize_domain(domain: str) -> str:
    """The issuer for an Auth0 domain: ``tenant.auth0.com`` → ``https://tenant.auth0.com/``.

    ``https://`` may be given; ``http://`` is refused except on a loopback host (local
    development servers). Credentials, a query, a fragment or a path are refused; the host
    must be a plain ``name[:port]`` (or bracketed IPv6) and is lower-cased.

    :raises ValueError: with a message saying what is wrong.
    """
    if not isinstance(domain, str):
        raise ValueError(f"{type(domain).__name__} is not a domain string")
    text = domain.strip()
    scheme = "https"
    if "://" in text:
        scheme, _, text = text.partition("://")
        scheme = scheme.lower()
    if scheme not in ("https", "http"):
        raise ValueError(f"{domain!r} is not a domain such as 'tenant.us.auth0.com'")
    if "@" in text:
        raise ValueError(f"{domain!r} must not contain credentials")
    if "?" in text or "#" in text:
        raise ValueError(f"{domain!r} must not contain a query or a fragment")
    netloc, slash, path = text.partition("/")
    if path:
        raise ValueError(f"{domain!r} must be a bare domain, without a path")
    if not host_is_valid(netloc) or netloc.startswith(":"):
        raise ValueError(f"{domain!r} is not a domain such as 'tenant.us.auth0.com'")
    parts = urlsplit(f"{scheme}://{netloc}/")
    host = (parts.hostname or "").lower()
    if scheme == "http" and not is_loopback(host):
        raise ValueError(f"{domain!r}: https is required (http only for a loopback host)")
    port = parts.port
    name = f"[{host}]" if ":" in host else host
    return f"{scheme}://{name}{'' if port is None else f':{port}'}/"


# -- URLs as a browser parses them ---------------------------------------------------------------

_SPECIAL_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21, "file": None}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_STRIPPED = "".join(chr(c) for c in range(0x21))
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_DOTTED_QUAD = re.compile(r"(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}")
#: The common shape, parsed without the general steps: http(s), a plain host, a port, then
#: the path, query, fragment or the end (no whitespace, userinfo, brackets or backslashes).
_PLAIN = re.compile(r"(https?)://([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?(?=[/?#]|\Z)", re.IGNORECASE)


class ParsedURL(NamedTuple):
    """What :func:`parse_url` reads of an absolute URL."""

    scheme: str
    hostname: str
    #: The serialised origin (``"null"`` for an opaque one).
    origin: str


def _special_host(host: str) -> str | None:
    """The hostname of a special URL, or None where the parse fails or needs more than ASCII.

    Returning None is the safe side for callers that match hosts: percent-encoded or
    internationalised hosts, and the numeric IPv4 shorthands browsers rewrite, are not matched.
    """
    if host.startswith("["):
        if not host.endswith("]") or "%" in host:  # browsers refuse zone ids
            return None
        try:
            return "[" + ipaddress.IPv6Address(host[1:-1]).compressed + "]"
        except ValueError:
            return None
    if not host or not host.isascii() or _FORBIDDEN_HOST.search(host):
        return None
    host = host.lower()
    labels = host.split(".")
    last = labels[-2] if labels[-1] == "" and len(labels) > 1 else labels[-1]
    if last.isdigit() or last.startswith("0x"):
        # Browsers parse such a host as IPv4; accept only the canonical dotted quad.
        if not _DOTTED_QUAD.fullmatch(host) or any(int(p) > 255 for p in host.split(".")):
            return None
    return host


def parse_url(url: str) -> ParsedURL | None:
    """Scheme, hostname and serialised origin of an absolute URL, as a browser's URL parser
    reads them, or None if it does not parse (or needs more than ASCII to)."""
    plain = _PLAIN.match(url)
    if plain is not None and (plain.group(3) is None or int(plain.group(3)) <= 65535):
        scheme, host, port = plain.groups()
        scheme = scheme.lower()
        lowered = host.lower()
        hostname = lowered
        if lowered.rstrip(".")[-1:].isdigit() or "0x" in lowered:  # maybe IPv4: full rules
            hostname = _special_host(host)
        if not hostname:
            return None
        origin = f"{scheme}://{hostname}"
        if port is not None and int(port) != _SPECIAL_PORTS[scheme]:
            origin += f":{int(port)}"
        return ParsedURL(scheme, hostname, origin)
    return _parse_general(url)


def _parse_general(url: str) -> ParsedURL | None:
    """:func:`parse_url` for any input: the WHATWG steps this library needs."""
    url = url.translate({9: None, 10: None, 13: None}).strip(_STRIPPED)
    match = _SCHEME.match(url)
    if not match:
        return None
    scheme = match.group(1).lower()
    rest = url[match.end() :]
    if scheme not in _SPECIAL_PORTS:
        if not rest.startswith("//"):
            return ParsedURL(scheme, "", "null")
        hostport = re.split(r"[/?#]", rest[2:], maxsplit=1)[0].rpartition("@")[2]
        return ParsedURL(
            scheme, hostport.rpartition(":")[0] if ":" in hostport else hostport, "null"
        )
    authority = re.split(r"[/\\?#]", rest.lstrip("/\\"), maxsplit=1)[0]
    hostport = authority.rpartition("@")[2]
    port: int | None = None
    if not hostport.endswith("]") and ":" in hostport:
        hostport, _, port_text = hostport.rpartition(":")
        if port_text:
            if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
                return None
            port = int(port_text)
    if scheme == "file":
        return ParsedURL(scheme, hostport.lower(), "null")
    hostname = _special_host(hostport)
    if hostname is None:
        return None
    origin = f"{scheme}://{hostname}"
    if port is not None and port != _SPECIAL_PORTS[scheme]:
        origin += f":{port}"
    return ParsedURL(scheme, hostname, origin)


def origin_of(url: str) -> str | None:
    """The http(s) origin of ``url`` (scheme, lower-cased host, non-default port), or None."""
    parsed = parse_url(url)
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    return parsed.origin


# -- query strings as URLSearchParams writes them ------------------------------------------


def _form_quote(value: str) -> str:
    # application/x-www-form-urlencoded as URLSearchParams writes it: * stays, ~ is escaped.
    return quote_plus(value, safe="*").replace("~", "%7E")


def form_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Serialise query pairs the way ``URLSearchParams`` does."""
    return "&".join(f"{_form_quote(k)}={_form_quote(v)}" for k, v in pairs)


def _rebuild(parts: SplitResult, pairs: list[tuple[str, str]]) -> str:
    # A special-scheme URL always has a path: "http://h" is "http://h/" (WHATWG URL).
    path = parts.path or ("/" if parts.scheme.lower() in ("http", "https") else "")
    return urlunsplit(parts._replace(path=path, query=form_query(pairs)))


def without_params(url: str, names: Iterable[str]) -> str:
    """``url`` with every query parameter in ``names`` removed; the query is re-serialised
    (spaces as ``+``, ``a`` as ``a=``) and the fragment kept, as Clerk's URL handling does."""
    parts = urlsplit(url)
    drop = set(names)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop]
    return _rebuild(parts, pairs)


def with_params(url: str, params: Iterable[tuple[str, str]], *, replace: bool = False) -> str:
    """``url`` with ``params`` appended (or, with ``replace``, set in place)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for name, value in params:
        if replace and any(k == name for k, _ in pairs):
            # URLSearchParams.set: the first one takes the value, the others go.
            first = next(i for i, (k, _) in enumerate(pairs) if k == name)
            pairs = [(k, value if i == first else v) for i, (k, v) in enumerate(pairs)
                     if k != name or i == first]  # fmt: skip
        else:
            pairs.append((name, value))
    return _rebuild(parts, pairs)
