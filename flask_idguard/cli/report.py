"""What the ``flask idguard`` commands print: rows of a plain-text table, or JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from typing import Literal

import click

__all__ = ["Row", "Status", "echo_json", "mask", "render_table", "shown_value"]

Status = Literal["ok", "fail", "warn", "note"]

_MARKS: dict[Status, str] = {"ok": "ok", "fail": "FAIL", "warn": "warn", "note": "note"}
_CLERK_KEY_PREFIX = re.compile(r"^(?:sk|pk)_(?:test|live)_")


@dataclass(frozen=True)
class Row:
    """One line of a report: its status, what was checked, what was found, and the fix."""

    status: Status
    what: str
    detail: str
    fix: str = ""


def render_table(rows: Sequence[Row], *, color: bool | None = None) -> str:
    """A terminal table: status, what, detail; a fix on its own indented line."""
    width = max((len(r.what) for r in rows), default=0)
    lines = []
    for row in rows:
        mark = _MARKS[row.status].ljust(4)
        style = {"ok": "green", "fail": "red", "warn": "yellow", "note": None}[row.status]
        mark = click.style(mark, fg=style, bold=row.status == "fail") if style else mark
        lines.append(f"{mark}  {row.what.ljust(width)}  {row.detail}".rstrip())
        if row.fix:
            lines.append(f"{'':4}  {'':{width}}  fix: {row.fix}")
    return "\n".join(lines)


def echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def rows_json(rows: Sequence[Row]) -> list[dict[str, str]]:
    return [asdict(r) for r in rows]


def is_secret(key: str) -> bool:
    """Keys whose values are credentials (never printed)."""
    return any(word in key for word in ("SECRET", "TOKEN", "PASSWORD", "PRIVATE"))


def mask(value: str) -> str:
    """A credential as ``sk_test_…`` and its length: enough to tell which key, not the key."""
    match = _CLERK_KEY_PREFIX.match(value)
    prefix = match.group(0) if match else ""
    return f"{prefix}… ({len(value)} characters, masked)"


def shown_value(key: str, value: object) -> object:
    """A configuration value as the commands show it: secrets masked, objects as ``repr``."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if is_secret(key):
            return mask(value)
        if "\n" in value.strip():  # a PEM key: its first line says what it is
            return f"{value.strip().splitlines()[0]} … ({len(value)} characters)"
        return value
    if is_secret(key):
        return f"<{type(value).__name__}, masked>"
    if isinstance(value, (list, tuple, frozenset, set)) and all(isinstance(v, str) for v in value):
        return list(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
