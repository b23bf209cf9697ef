"""Reading configuration: ``app.config`` first, then the environment variable of the same name.

Every reader validates its value and raises :class:`ConfigurationError` naming the
key and the fix. Values read from the environment are strings and are parsed here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any
from typing import Literal

from flask import Flask

from .errors import ConfigurationError

__all__ = ["SOURCES_KEY", "ConfigReader", "Source"]

#: ``app.extensions`` key of where each configuration value came from (``flask idguard info``).
SOURCES_KEY = "idguard.sources"

#: Where an effective value came from: ``app.config``, the environment, or the default.
Source = Literal["config", "environment", "default"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigReader:
    """Typed access to one app's configuration with environment fallback.

    Each value read is written back with ``app.config.setdefault`` so the effective
    configuration is visible in ``app.config``.
    """

    def __init__(self, app: Flask, environ: Mapping[str, str] | None = None) -> None:
        self._config = app.config
        self._environ = os.environ if environ is None else environ
        #: Every key read, with where its value came from (``flask idguard info`` shows it).
        self.sources: dict[str, Source] = {}

    def raw(self, key: str, default: Any = None) -> Any:
        """The value of ``key``: app.config, else the environment, else ``default``."""
        value = self._config.get(key)
        source: Source = "config"
        if value is None:
            value = self._environ.get(key)
            source = "environment"
        if value is None:
            value = default
            source = "default"
        self.sources.setdefault(key, source)
        if value is not None:
            self._config[key] = value
        else:
            self._config.setdefault(key, None)
        return value

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.raw(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigurationError(f"{key} must be a string, got {type(value).__name__}.")
        value = value.strip()
        return value or None

    def write_back(self, key: str, value: object) -> None:
        """Record the value actually used for ``key`` (normalised) in ``app.config``."""
        self._config[key] = value

    def strings(self, key: str, default: list[str] | None = None) -> list[str] | None:
        """A list of strings; a string is split on commas (and whitespace around them)."""
        value = self.raw(key, default)
        if value is None:
            return None
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",")]
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = list(value)
        else:
            raise ConfigurationError(
                f"{key} must be a list of strings or a comma-separated string, "
                f"got {type(value).__name__}."
            )
        if not all(isinstance(v, str) for v in items):
            raise ConfigurationError(f"{key} must contain only strings.")
        items = [v for v in items if v]
        return items or None

    def number(self, key: str, default: float, *, minimum: float = 0) -> float:
        value = self.raw(key, default)
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise ConfigurationError(
                    f"{key} must be a number of seconds, got {value!r}."
                ) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(f"{key} must be a number, got {type(value).__name__}.")
        if not math.isfinite(value) or value < minimum:
            raise ConfigurationError(f"{key} must be a finite number >= {minimum}, got {value!r}.")
        return float(value)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ConfigurationError(f"{key} must be a boolean (true/false), got {value!r}.")
