"""Messages the docs quote are asserted by tests: :func:`quoted_in` ties each to its page."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def quoted_in(page: str, message: str) -> bool:
    """Whether ``docs/<page>`` quotes ``message`` (whitespace and line breaks aside)."""
    return _flat(message) in _flat((DOCS / page).read_text(encoding="utf-8"))
