"""AuthState: the fast constructor the providers use builds what the dataclass's does."""

from __future__ import annotations

from dataclasses import fields
from types import MappingProxyType
from typing import Any

import pytest

from flask_idguard import AuthState


def values(state: AuthState) -> dict[str, Any]:
    return {f.name: getattr(state, f.name) for f in fields(AuthState)}


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"provider": "oidc", "token": "t", "scopes": frozenset({"a"}), "scheme": "bearer"},
        {"claims": MappingProxyType({"sub": "u"}), "org_id": "org_1", "headers": (("a", "b"),)},
        {f.name: object() for f in fields(AuthState) if f.name != "status"},
    ],
)
def test_build_equals_the_constructor(given: dict[str, Any]) -> None:
    assert values(AuthState._build("signed-in", **given)) == values(AuthState("signed-in", **given))


def test_build_refuses_an_unknown_field() -> None:
    with pytest.raises(TypeError):
        AuthState._build("signed-in", not_a_field=1)


def test_a_built_state_is_still_read_only() -> None:
    state = AuthState._build("signed-in", provider="oidc")
    with pytest.raises(AttributeError):
        state.provider = "other"  # type: ignore[misc]
