"""The one URL parser (``core.urls.parse_url``): browser rules, and its fast path agreeing
with the general steps on every input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.core.urls import _parse_general
from flask_idguard.core.urls import origin_of
from flask_idguard.core.urls import parse_url

ORIGINS = [
    ("https://example.com/a?b#c", "https://example.com"),
    ("HTTPS://Example.COM:443/", "https://example.com"),
    ("http://localhost:5000", "http://localhost:5000"),
    ("http://127.0.0.1:80/x", "http://127.0.0.1"),
    ("https://h:080/", "https://h:80"),
    ("https://[::1]:8443/", "https://[::1]:8443"),
    ("https://user:pw@example.com/", "https://example.com"),
    ("https:\\\\example.com\\x", "https://example.com"),  # backslashes are slashes (special)
    ("  https://example.com/", "https://example.com"),  # C0 and spaces are stripped
    ("https://exa\tmple.com/", "https://example.com"),  # tabs and newlines are removed
    ("https://a.1./", None),  # the last label is numeric: IPv4, and not a valid one
    ("http://0x7f.1/", None),
    ("http://256.1.1.1/", None),
    ("https://h:65536/", None),
    ("https://ex%41mple.com/", None),  # needs percent-decoding: not matched
    ("https://bücher.example/", None),  # needs IDNA: not matched
    ("ftp://example.com/", None),  # not http(s)
    ("javascript:alert(1)", None),
    ("/relative", None),
    ("", None),
]


@pytest.mark.parametrize(("url", "origin"), ORIGINS)
def test_origin_of(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


_URL_CHARS = st.sampled_from(list("aAzZ09.-:/?#@[]\\%\t \x00x") + ["0x", "http", "s://", "80"])


@settings(max_examples=500, deadline=None)
@given(
    scheme=st.sampled_from(["http://", "https://", "HTTP://", "Https://", "http:/", "ftp://", ""]),
    host=st.lists(st.sampled_from([*"abz09.-X", "0x"]), max_size=8).map("".join),
    port=st.none() | st.integers(min_value=0, max_value=99999).map(str) | st.just(""),
    rest=st.lists(_URL_CHARS, max_size=6).map("".join),
)
def test_the_fast_path_agrees_with_the_general_steps(
    scheme: str, host: str, port: str | None, rest: str
) -> None:
    url = scheme + host + (f":{port}" if port is not None else "") + rest
    assert parse_url(url) == _parse_general(url)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_without_raising(url: str) -> None:
    assert parse_url(url) == _parse_general(url)
