"""Whatever a browser or a client sends, the provider answers without a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig

IDP = DevIdP(DevIdPConfig(instance="production"))
DEV = DevIdP(DevIdPConfig(instance="development"))

_text = st.text(max_size=40)
_names = st.sampled_from(
    ["redirect_url", "organization_id", "user_id", "email", "password", "suffixed_cookies",
     "__clerk_db_jwt", "format", "nonce", "first_name", "x"]
)  # fmt: skip
_params = st.dictionaries(_names, _text, max_size=4)
_routes = st.sampled_from(
    [
        ("GET", "/clerk/v1/client/handshake"),
        ("POST", "/clerk/v1/dev_browser"),
        ("GET", "/sign-in"),
        ("POST", "/sign-in"),
        ("POST", "/sign-up"),
        ("GET", "/account"),
        ("POST", "/organizations"),
        ("POST", "/sign-out"),
        ("GET", "/v1/clients/handshake_payload"),
        ("POST", "/v1/sessions/sess_x/refresh"),
        ("POST", "/v1/sessions/sess_x/tokens/integration"),
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    route=_routes,
    params=_params,
    cookies=st.dictionaries(st.sampled_from(["__client", "__clerk_db_jwt"]), _text, max_size=2),
    origin=st.none() | st.sampled_from(["https://evil.test", "null", "http://127.0.0.1:1"]),
    secret=st.booleans(),
    production=st.booleans(),
)
def test_no_input_gives_a_500(
    route: tuple[str, str],
    params: dict[str, str],
    cookies: dict[str, str],
    origin: str | None,
    secret: bool,
    production: bool,
) -> None:
    idp = IDP if production else DEV
    client = idp.app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    headers: dict[str, Any] = {"Origin": origin} if origin else {}
    if secret:
        headers["Authorization"] = f"Bearer {idp.secret_key}"
    method, path = route
    if method == "GET":
        r = client.get(path, query_string=params, headers=headers)
    else:
        r = client.post(path, data=params, headers=headers)
    assert r.status_code < 500


def test_a_form_from_another_site_is_refused() -> None:
    client = IDP.app.test_client()
    r = client.post(
        "/sign-in", data={"user_id": "user_alice"}, headers={"Origin": "https://evil.test"}
    )
    assert r.status_code == 403
    assert "__client" not in r.headers.get("Set-Cookie", "")
    ok = client.post(
        "/sign-in", data={"user_id": "user_alice"}, headers={"Origin": "http://127.0.0.1:5000"}
    )
    assert ok.status_code == 303
