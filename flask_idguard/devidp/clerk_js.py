"""Clerk's browser SDK, ``@clerk/clerk-js``, served from a local npm installation.

Clerk's own loaders fetch ``<frontend api or proxy>/npm/@clerk/clerk-js@<version>/dist/
clerk.browser.js`` from Clerk's CDN; here the same path under ``/clerk`` answers from the
installation the project's set-up makes (``make clerk-js``: ``clerkjs/package.json`` and its
lock file), so a page using the SDK loads nothing from the network. The bundle loads its
chunks from the folder it came from, with its exact version in the path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint
from flask import abort
from flask import send_from_directory
from werkzeug.wrappers import Response

from .web import current_idp

__all__ = ["CLERK_JS_PACKAGE", "InstalledClerkJS", "clerk_js", "find_clerk_js"]

CLERK_JS_PACKAGE = "@clerk/clerk-js"
#: The npm project of a source checkout (``make clerk-js`` installs into it).
DEFAULT_NPM_DIR = Path(__file__).resolve().parents[2] / "clerkjs"

clerk_js = Blueprint("clerk_js", __name__, url_prefix="/clerk")


@dataclass(frozen=True)
class InstalledClerkJS:
    """An installed ``@clerk/clerk-js``: its version and its ``dist`` folder."""

    version: str
    dist: Path

    def serves(self, spec: str) -> bool:
        """Whether ``@clerk/clerk-js@<spec>`` names this installation: its exact version, its
        major version (what Clerk's loaders ask for) or ``latest``."""
        return spec in (self.version, self.version.split(".")[0], "latest")


def find_clerk_js(npm_dir: str | Path | None) -> InstalledClerkJS | None:
    """The ``@clerk/clerk-js`` installed in the npm project ``npm_dir`` (default: the
    checkout's ``clerkjs/``), or None when it is not installed."""
    package = Path(npm_dir or DEFAULT_NPM_DIR) / "node_modules" / CLERK_JS_PACKAGE
    try:
        manifest = json.loads((package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    dist = package / "dist"
    if not isinstance(version, str) or not (dist / "clerk.browser.js").is_file():
        return None
    return InstalledClerkJS(version, dist)


@clerk_js.get(f"/npm/{CLERK_JS_PACKAGE}@<spec>/dist/<path:name>")
def script(spec: str, name: str) -> Response:
    """A file of the installed bundle; 404 for another version or a missing installation."""
    installed = find_clerk_js(current_idp().config.clerk_js_dir)
    if installed is None:
        abort(404, "@clerk/clerk-js is not installed: run `make clerk-js` (npm ci in clerkjs/).")
    if not installed.serves(spec):
        abort(404, f"Only @clerk/clerk-js@{installed.version} is installed here.")
    exact = spec == installed.version
    # Chunks come with the exact version in their URL: they never change. The entry point
    # under a major version or "latest" may, with the next installation.
    return send_from_directory(installed.dist, name, max_age=31536000 if exact else 300)
