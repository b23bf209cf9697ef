"""Every claim and header member given every JSON type, systematically: no response >= 500.

The property tests (``test_no_500.py``) explore combinations at random; this matrix makes sure
no cell is left to chance. Each member of the header, the payload and the nested objects Clerk
and DPoP read is set, in a token that is otherwise valid, to one value of each JSON kind (arrays,
objects, integers past the double range, a literal past it, numbers past ``datetime``'s range,
negative and fractional numbers, booleans, null, empty and long strings, a lone surrogate). The
token goes through each provider configuration in each carrier that reads that member: signed by
the trusted key in the header, a DPoP request, Clerk's cookies, a refresh of an expired session,
a handshake token; and unsigned in Clerk's suffixed cookies, whose rules read unverified
claims. The path is the decorator that reads the member (``/equals`` for ``tier``...).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from flask_idguard.devidp.tokens import SESSION_CATEGORY

from .apps import ORIGIN
from .apps import Setup
from .conftest import BackendAPI
from .conftest import setups
from .strategies import CLAIMS
from .strategies import DPOP_KEY
from .strategies import HEADER
from .strategies import PROOF_CLAIMS
from .strategies import PROOF_HEADER
from .strategies import Raw
from .strategies import Request
from .strategies import base_claims
from .strategies import fresh_session
from .strategies import sign
from .test_no_500 import assert_not_a_failure

#: One value of each JSON kind.
KINDS: list[Any] = [[], {"k": [1]}, 10**400, Raw("-1e400"), -1e20, 1e15, 253402300800, 1.5,
                    True, None, "", "\udc80", "a\r\nb: c", "x" * 11_000]  # fmt: skip
#: Members inside objects: (object, member).
NESTED = [("o", "id"), ("o", "rol"), ("o", "slg"), ("o", "per"), ("o", "fpm"), ("act", "sub"),
          ("cnf", "jkt")]  # fmt: skip
#: Arrays whose first element takes each kind (``fva`` keeps its second).
ARRAYS = ["fva", "aud", "groups", "permissions", "roles", "org_permissions", "scope",
          "handshake", "crit"]  # fmt: skip
#: The view that reads a member (the others go to the inspecting view and the rest in turn).
READER = {"tier": "/equals", "groups": "/includes", "age": "/check", "scope": "/scoped",
          "scp": "/any-scope", "permissions": "/permission", "roles": "/role",
          "org_role": "/role", "org_permissions": "/permission", "o": "/permission",
          "fva": "/inspect", "act": "/inspect", "https://ns.example/roles": "/role"}  # fmt: skip
OTHERS = ["/inspect", "/required", "/optional", "/pass-invalid", "/required-no-redirect",
          "/orgs/acme", "/me"]  # fmt: skip

Cell = tuple[str, str, Any]  # (where, member, value), see cells()


def cells() -> Iterator[Cell]:
    """(where, member, value): ``header``, ``claims``, an object's name, ``array``, or the
    DPoP proof's ``proof-header``/``proof-claims``."""
    for value in KINDS:
        for name in HEADER:
            yield "header", name, value
        for name in CLAIMS:
            yield "claims", name, value
        for parent, name in NESTED:
            yield parent, name, value
        for name in ARRAYS:
            yield "array", name, value
        for name in PROOF_HEADER:
            yield "proof-header", name, value
        for name in PROOF_CLAIMS:
            yield "proof-claims", name, value


def token(
    setup: Setup, cell: Cell, *, clerk: bool, expired: bool = False, how: str = "trusted"
) -> str:
    """A valid token of ``setup`` with the member of ``cell`` set to its value."""
    where, name, value = cell
    claims = base_claims(setup, clerk, expired)
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT"}
    if clerk:
        assert setup.clerk is not None
        header.update(kid=setup.clerk.key.kid, cat=SESSION_CATEGORY)
    else:
        assert setup.issuer is not None
        header["kid"] = setup.issuer.kid
        if "strict" in setup.name:
            header["typ"] = "at+jwt"
    if where == "header":
        header[name] = value
    elif where == "claims":
        claims[name] = value
    elif where == "array" and name == "crit":
        header["crit"] = [value]
    elif where == "array":
        claims[name] = [value, -1] if name == "fva" else [value]
    elif not where.startswith("proof"):
        claims[where] = {**(claims.get(where) or {}), name: value}
    return sign(setup, clerk, header, claims, how)


def path_for(cell: Cell, index: int) -> str:
    member = cell[1] if cell[0] in ("header", "claims") else cell[0]
    return READER.get(member) or OTHERS[index % len(OTHERS)]


Carrier = Callable[[Setup, Cell, str], Request]


def bearer(setup: Setup, cell: Cell, path: str) -> Request:
    rq = Request("GET", path, {"Authorization": f"Bearer {token(setup, cell, clerk=False)}"})
    return rq


def dpop(setup: Setup, cell: Cell, path: str) -> Request:
    """A DPoP request: the token bound to the proof's key (``cnf.jkt``), a proof with the
    member of a ``proof-*`` cell set."""
    value = token(setup, cell, clerk=False)
    where, name, member = cell
    header = {name: member} if where == "proof-header" else {}
    claims = {name: member} if where == "proof-claims" else {}
    proof = DPOP_KEY.proof("GET", ORIGIN + path, value, header=header, **claims)
    return Request("GET", path, {"Authorization": f"DPoP {value}"}, proofs=[proof])


def clerk_header(setup: Setup, cell: Cell, path: str) -> Request:
    return Request("GET", path, {"Authorization": f"Bearer {token(setup, cell, clerk=True)}"})


def clerk_cookie(setup: Setup, cell: Cell, path: str) -> Request:
    assert setup.clerk is not None
    cookies = setup.clerk.cookies(token(setup, cell, clerk=True))
    cookies["__client_uat"] = str(int(time.time()) - 600)
    return Request("GET", path, {"Sec-Fetch-Dest": "document"}, cookies=cookies)


def clerk_refresh(setup: Setup, cell: Cell, path: str) -> Request:
    """An expired session with the refresh cookie: the refresh reads the expired token."""
    assert setup.clerk is not None
    cookies = setup.clerk.cookies(token(setup, cell, clerk=True, expired=True))
    cookies["__client_uat"] = str(int(time.time()) - 600)
    cookies[f"__refresh_{setup.clerk.cookie_suffix}"] = "rt_matrix"
    fresh = fresh_session(setup)
    rq = Request("GET", path, {"Sec-Fetch-Dest": "document"}, cookies=cookies)
    rq.refresh = (200, {"cookies": [f"__session={fresh}; Path=/"]})
    return rq


def clerk_handshake(setup: Setup, cell: Cell, path: str) -> Request:
    """A handshake token whose own header or payload carries the member."""
    assert setup.clerk is not None
    session = fresh_session(setup)
    where, name, value = cell
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "kid": setup.clerk.key.kid}
    directives = [f"__session={session}; Path=/"]
    claims: dict[str, Any] = {"handshake": directives}
    if where == "array":  # a directive of each kind before the session's
        claims["handshake"] = [value, *directives]
    else:
        (header if where == "header" else claims)[name] = value
    handshake = setup.clerk.key.sign_compact(header, claims)
    return Request(
        "GET", path, {"Sec-Fetch-Dest": "document"}, query=[("__clerk_handshake", handshake)]
    )


def clerk_suffixed(setup: Setup, cell: Cell, path: str) -> Request:
    """Unsigned tokens in the plain and suffixed cookies: the suffixed-cookie rules read them."""
    assert setup.clerk is not None
    sfx = setup.clerk.cookie_suffix
    forged = token(setup, cell, clerk=True, how="unsigned")
    cookies = {"__session": forged, f"__session_{sfx}": forged, f"__client_uat_{sfx}": "5",
               "__client_uat": "0" if cell[1] == "exp" else "7",
               "__clerk_db_jwt": setup.clerk.dev_browser}  # fmt: skip
    return Request("GET", path, cookies=cookies)


def everything(cell: Cell) -> bool:
    return not cell[0].startswith("proof")


def payload(cell: Cell) -> bool:
    return cell[0] not in ("header", "proof-header", "proof-claims") and cell[1] != "crit"


def named(*names: str) -> Callable[[Cell], bool]:
    """Cells of these members only (an object's members count under its name)."""
    return lambda cell: cell[1] in names or cell[0] in names


def handshake_members(cell: Cell) -> bool:
    return cell[0] == "header" or cell[1] in ("handshake", "crit")


#: Configuration → (carrier, the cells it reads): the header for any carrier that verifies a
#: JWT, the payload for one that reads claims; where another configuration already sends a
#: cell down the same code, it is left out (time).
PLAN: dict[str, list[tuple[Carrier, Callable[[Cell], bool]]]] = {
    "oidc": [(bearer, everything), (dpop, lambda c: c[0].startswith("proof") or named("cnf")(c))],
    "oidc-parties-strict-validators": [(bearer, everything)],
    "auth0-namespace-strict": [(bearer, everything)],
    "clerk-prod-parties-org-sync": [
        (clerk_cookie, everything),
        (clerk_refresh, named("sub", "aud", "azp", "exp", "nbf", "iat", "sid")),
        (clerk_handshake, handshake_members),
        (clerk_suffixed, payload),
    ],
    "clerk-dev": [(clerk_handshake, handshake_members), (clerk_suffixed, payload)],
    "clerk-and-oidc": [(bearer, named("iss")), (clerk_header, named("iss"))],
}


@pytest.mark.parametrize("name", list(PLAN))
def test_every_member_of_every_json_type(name: str, backend_api: BackendAPI) -> None:
    setup = setups()[name]
    client = setup.app.test_client(use_cookies=False)
    failures = []
    sent = 0
    for index, cell in enumerate(cells()):
        for carrier, reads in PLAN[name]:
            if not reads(cell):
                continue
            rq = carrier(setup, cell, path_for(cell, index))
            backend_api.current = rq
            sent += 1
            try:
                assert_not_a_failure(rq.send(client))
            except Exception as exc:  # every failing cell is listed, not only the first
                failures.append(
                    f"{carrier.__name__} {cell[0]}.{cell[1]}={cell[2]!r:.40}: {exc!r:.200}"
                )
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures)
