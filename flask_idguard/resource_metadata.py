"""RFC 9728 protected resource metadata, served at ``/.well-known/oauth-protected-resource``.

Off by default. ``IDGUARD_RESOURCE_METADATA = True`` (or a dict of fields to add or override)
serves the document and adds ``resource_metadata="<its URL>"`` to every ``Bearer`` challenge
(RFC 9728 §5.1), so a client that was refused can find out which authorization servers issue
tokens for this API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Response
from flask import jsonify
from flask import request

from .config import ConfigReader
from .core.urls import INVALID_HOST
from .core.urls import check_url
from .core.urls import environ_host_ok
from .errors import ConfigurationError
from .errors import InvalidRequest

__all__ = ["WELL_KNOWN", "ResourceMetadata"]

WELL_KNOWN = "/.well-known/oauth-protected-resource"


@dataclass(frozen=True)
class ResourceMetadata:
    """The configured document; ``resource`` None means "this app's origin, per request"."""

    fields: Mapping[str, Any]
    resource: str | None

    @property
    def route(self) -> str:
        """Where the document is served: the well-known path, then the resource's path."""
        if self.resource is None:
            return WELL_KNOWN
        return WELL_KNOWN + urlsplit(self.resource).path.rstrip("/")

    @classmethod
    def from_config(
        cls, reader: ConfigReader, defaults: Mapping[str, Any]
    ) -> ResourceMetadata | None:
        """``IDGUARD_RESOURCE_METADATA``: false/unset (off), true, or a dict of fields."""
        key = "IDGUARD_RESOURCE_METADATA"
        value = reader.raw(key)
        if value is None or isinstance(value, (bool, str)):
            return cls(dict(defaults), None) if reader.flag(key, False) else None
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise ConfigurationError(
                f"{key} must be True or a dict of RFC 9728 fields, got {type(value).__name__}."
            )
        resource = value.get("resource")
        if resource is not None:
            try:
                check_url(resource, allow_insecure_http=False, what=f"{key}['resource']")
            except ValueError as exc:
                raise ConfigurationError(f"{exc}.") from exc
            parts = urlsplit(resource)
            if parts.query or parts.fragment or "#" in resource:
                raise ConfigurationError(
                    f"{key}['resource'] must not have a query or fragment (RFC 9728 §2)."
                )
        fields = {**defaults, **{k: v for k, v in value.items() if v is not None}}
        return cls(fields, resource)

    def url(self) -> str | None:
        """The document's URL for the current request; None when its Host is invalid."""
        if self.resource is not None:
            parts = urlsplit(self.resource)
            return f"{parts.scheme}://{parts.netloc}{self.route}"
        if not environ_host_ok(request.environ):
            return None
        return request.host_url.rstrip("/") + WELL_KNOWN

    def view(self) -> Response:
        """The metadata document (JSON).

        A configured ``resource`` makes the document the same for every request: shared
        caches may keep it. Taken from the request's ``Host``, it must not be shared: a cache
        that keys on another header (or on none) would hand one client's ``Host`` (a forged
        one) to everyone, so it is ``private`` and varies on ``Host``.
        """
        if self.resource is None and not environ_host_ok(request.environ):
            raise InvalidRequest(INVALID_HOST, reason="host-invalid")
        resource = self.resource or request.host_url.rstrip("/")
        response = jsonify({"resource": resource, **self.fields})
        if self.resource is not None:
            response.headers["Cache-Control"] = "public, max-age=3600"
        else:
            response.headers["Cache-Control"] = "private, max-age=3600"
            response.vary.add("Host")
        return response
