"""``flask idguard``: commands to check, inspect and exercise this app's IdGuard setup.

Registered on ``app.cli`` by ``init_app``; run as ``flask --app yourapp idguard --help``.
"""

from __future__ import annotations

from flask.cli import AppGroup

from .check import check_command
from .decode import decode_command
from .info import info_command
from .token import token_command

__all__ = ["idguard_cli"]

idguard_cli = AppGroup(
    "idguard", help="Check, inspect and exercise this app's IdGuard configuration."
)
idguard_cli.add_command(check_command)
idguard_cli.add_command(info_command)
idguard_cli.add_command(decode_command)
idguard_cli.add_command(token_command)
