"""Fixtures: the local identity provider on loopback and the example app trusting it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from example_app import create_app
from flask_idguard.devidp import DevIdP


@pytest.fixture(scope="module")
def idp() -> Iterator[DevIdP]:
    with DevIdP().serve() as served:
        yield served


def example_app(idp: DevIdP, **config: Any) -> Flask:
    """The example app on the ``.env`` lines the identity provider prints, ``config`` on top."""
    return create_app({**idp.env(), **config})


@pytest.fixture
def app(idp: DevIdP) -> Flask:
    return example_app(idp)
