"""Sphinx configuration for the flask-idguard documentation."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Build from the checkout without requiring an install.
sys.path.insert(0, str(ROOT))

with (ROOT / "pyproject.toml").open("rb") as f:
    _project = tomllib.load(f)["project"]

# -- Project ---------------------------------------------------------------------------------

project = "flask-idguard"
copyright = "flask-idguard contributors"
author = "flask-idguard contributors"
release = _project["version"]
version = ".".join(release.split(".")[:2])

# -- General ---------------------------------------------------------------------------------

master_doc = "index"
default_role = "code"
exclude_patterns = ["_build"]
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "pallets_sphinx_themes",
]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

# The documentation is built offline: intersphinx is enabled but fetches nothing.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# -- HTML ------------------------------------------------------------------------------------

html_theme = "flask"
html_title = f"flask-idguard Documentation ({version})"
html_show_sourcelink = False
html_sidebars = {
    "index": ["localtoc.html", "searchbox.html"],
    "**": ["localtoc.html", "relations.html", "searchbox.html"],
}
singlehtml_sidebars = {"index": ["localtoc.html"]}
# No "unreleased version" banner script: it queries PyPI from the reader's browser.
version_banner = False
