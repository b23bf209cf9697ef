"""Session claims (v1 and v2) as auth fields, and Clerk's ``has()`` (fail-closed, per dimension)."""

from __future__ import annotations

from typing import Any

import pytest

from flask_idguard.providers.clerk.claims import ClaimError
from flask_idguard.providers.clerk.claims import SessionFields
from flask_idguard.providers.clerk.claims import check_authorization
from flask_idguard.providers.clerk.claims import session_fields
from flask_idguard.providers.clerk.claims import split_by_scope

BASE: dict[str, Any] = {
    "exp": 1234567890,
    "iat": 1234567890,
    "iss": "https://api.clerk.com",
    "sub": "sub",
    "sid": "sid",
    "azp": "azp",
    "nbf": 1234567890,
}


def v2(fea: str | None = None, **org: Any) -> dict[str, Any]:
    """v2 claims with an active organization ``o`` built from ``org`` (None values dropped)."""
    claims: dict[str, Any] = {**BASE, "v": 2, "o": {k: v for k, v in org.items() if v is not None}}
    if fea is not None:
        claims["fea"] = fea
    return claims


def permissions(claims: dict[str, Any]) -> tuple[str, ...] | None:
    return session_fields(claims).org_permissions


# -- v1 / v2 parsing: Clerk's vectors (jwtPayloadParser.spec.ts) -----------------------------


def test_v1_and_v2_give_the_same_fields() -> None:
    from_v2 = session_fields(
        v2("o:impersonation", id="org_x", rol="admin", slg="org_test", per="read,manage", fpm="3")
    )
    from_v1 = session_fields(
        {
            **BASE,
            "org_id": "org_x",
            "org_role": "org:admin",
            "org_slug": "org_test",
            "org_permissions": ["org:impersonation:read", "org:impersonation:manage"],
        }
    )
    assert from_v1 == from_v2
    assert from_v2 == SessionFields(
        user_id="sub",
        session_id="sid",
        session_status=None,
        actor=None,
        factor_verification_age=None,
        org_id="org_x",
        org_role="org:admin",
        org_slug="org_test",
        org_permissions=("org:impersonation:read", "org:impersonation:manage"),
    )


def test_v2_without_o_has_no_organization_even_with_features() -> None:
    fields = session_fields({**BASE, "v": 2, "fea": "u:impersonation,u:memberships"})
    assert fields == session_fields(BASE)
    assert (fields.org_id, fields.org_role, fields.org_slug, fields.org_permissions) == (None,) * 4


@pytest.mark.parametrize(
    ("fea", "per", "fpm", "expected"),
    [
        pytest.param(
            "o:impersonation,o:memberships", "read,manage", "1,3",
            ("org:impersonation:read", "org:memberships:read", "org:memberships:manage"),
            id="fea-per-fpm",
        ),
        pytest.param(
            "o:impersonation,o:memberships,o:feature3", "read,manage", "1,3",
            ("org:impersonation:read", "org:memberships:read", "org:memberships:manage"),
            id="short-fpm-trailing-feature-gets-nothing",
        ),
        pytest.param(
            "uo:impersonation,o:memberships,uo:feature3", "read,manage", "1,3,1",
            (
                "org:impersonation:read", "org:memberships:read", "org:memberships:manage",
                "org:feature3:read",
            ),
            id="org-and-user-scoped",
        ),
        pytest.param(
            "ou:memberships,u:impersonation", "read,manage", "3",
            ("org:memberships:read", "org:memberships:manage"),
            id="user-only-feature-after-org-ones",
        ),
        pytest.param(
            "o:billing,o:email,o:fraud,o:instance,o:staging_plans", "manage,read", "3,3,3,3,1",
            (
                "org:billing:manage", "org:billing:read", "org:email:manage", "org:email:read",
                "org:fraud:manage", "org:fraud:read", "org:instance:manage", "org:instance:read",
                "org:staging_plans:manage",
            ),
            id="case-2",
        ),
        pytest.param(
            "o:repositories,o:projects", "read,create,update,delete,revoke", "7,21",
            (
                "org:repositories:read", "org:repositories:create", "org:repositories:update",
                "org:projects:read", "org:projects:update", "org:projects:revoke",
            ),
            id="case-3-lsb-is-first-permission",
        ),
        pytest.param(
            "o:repositories,o:projects,o:webhooks,o:impersonation", "read,manage", "1,2,3",
            (
                "org:repositories:read", "org:projects:manage", "org:webhooks:read",
                "org:webhooks:manage",
            ),
            id="case-4",
        ),
        pytest.param(
            "o:repositories,uo:projects,u:goldprofileborder", "read,create,update,delete,revoke",
            "7,21",
            (
                "org:repositories:read", "org:repositories:create", "org:repositories:update",
                "org:projects:read", "org:projects:update", "org:projects:revoke",
            ),
            id="case-5",
        ),
        pytest.param("u:a,u:b,u:c", None, None, (), id="no-per-no-fpm-is-empty"),
        pytest.param("o:a", "read", None, (), id="no-fpm-is-empty"),
        pytest.param("o:a", None, "1", (), id="no-per-is-empty"),
        pytest.param("o:a", "", "1", (), id="empty-per-is-empty"),
        pytest.param("o:a,o:b", "read,manage", "3,1,3,3", (
            "org:a:read", "org:a:manage", "org:b:read"), id="surplus-fpm-ignored"),
        pytest.param(" o:a , o:b ", " read , manage ", " 2 , 1 ", ("org:a:manage", "org:b:read"),
                     id="entries-trimmed"),
        pytest.param("o:a,o:b", "read,manage", "0,3", ("org:b:read", "org:b:manage"),
                     id="zero-mask-gives-nothing"),
        pytest.param("o:a,o:b", "read,manage", "007,1", ("org:a:read", "org:a:manage",
                     "org:b:read"), id="leading-zeros"),
        pytest.param("o:a", "read,manage", "4", (), id="bits-beyond-per-ignored"),
        pytest.param("o:a,o:b,o:c,o:d,o:e,o:f", "read,manage",
                     "0x3,-1,3.0,,1e1,\u0663", (), id="non-decimal-masks-give-nothing"),
        pytest.param("o:a", "x,,y", "7", ("org:a:x", "org:a:", "org:a:y"),
                     id="empty-permission-name-kept"),
    ],
)  # fmt: skip
def test_v2_permissions(
    fea: str, per: str | None, fpm: str | None, expected: tuple[str, ...]
) -> None:
    assert permissions(v2(fea, id="org_id", rol="admin", slg="org_slug", per=per, fpm=fpm)) == (
        expected
    )


def test_masks_are_exact_big_integers() -> None:
    per = ",".join(f"p{k}" for k in range(64))
    mask = 2**53 + 1 + 2**63  # a double would lose bit 0
    assert permissions(v2("o:f", id="org", per=per, fpm=str(mask))) == (
        "org:f:p0",
        "org:f:p53",
        "org:f:p63",
    )


def test_masks_longer_than_pythons_int_string_limit() -> None:
    mask = "1" + "0" * 4999 + "5"  # 10**5000 + 5; 10**5000 is a multiple of 8
    assert permissions(v2("o:f", id="org", per="a,b,c", fpm=mask)) == ("org:f:a", "org:f:c")


def test_fpm_aligns_with_org_scoped_features_like_clerk_js_not_python_sdk() -> None:
    """Divergence flagged in the research notes (§4): Clerk's Python SDK pairs ``fpm[i]`` with
    the i-th entry of the *full* ``fea`` list (and would give ``projects`` nothing here, since
    ``fpm[0]`` would belong to the user feature). Clerk's JavaScript SDK, which we follow, pairs
    it with the i-th *organization-scoped* entry."""
    claims = v2("u:gold,o:projects", id="org", per="read,manage", fpm="3")
    assert permissions(claims) == ("org:projects:read", "org:projects:manage")


@pytest.mark.parametrize(
    ("fea", "element"),
    [
        ("reservations,o:dashboard", "reservations"),
        ("o:a, bad ,o:b", "bad"),
        ("o:a,,o:b", ""),
        ("o:a,", ""),
    ],
)
def test_fea_element_without_colon_raises_for_v2_with_org(fea: str, element: str) -> None:
    with pytest.raises(ClaimError) as info:
        session_fields(v2(fea, id="org", per="read", fpm="1"))
    assert str(info.value) == f"Invalid claim element (missing colon): {element}"


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({**BASE, "v": 2, "fea": "bad"}, id="v2-without-o"),
        pytest.param({**BASE, "fea": "bad", "org_id": "org"}, id="v1"),
        pytest.param({**BASE, "v": 2, "o": "org", "fea": "bad"}, id="o-not-an-object"),
    ],
)
def test_malformed_fea_does_not_raise_without_an_org_object(claims: dict[str, Any]) -> None:
    assert session_fields(claims).org_permissions is None


def test_split_by_scope() -> None:
    assert split_by_scope("") == ([], [])
    assert split_by_scope("o:reservations,u:dashboard,ou:support-chat,uo:billing,x:y,o:a:b") == (
        ["reservations", "support-chat", "billing", "a:b"],
        ["dashboard", "support-chat", "billing"],
    )


# -- hostile and odd claim types -------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "field", "value"),
    [
        pytest.param(v2(id="org", rol=5), "org_role", None, id="rol-number"),
        pytest.param(v2(id="org", rol=True), "org_role", None, id="rol-bool"),
        pytest.param(v2(id="org", rol=["admin"]), "org_role", None, id="rol-list"),
        pytest.param(v2(id="org", rol=""), "org_role", None, id="rol-empty"),
        pytest.param(v2(id="org", rol="org:admin"), "org_role", "org:org:admin", id="rol-prefixed"),
        pytest.param(v2(id=5, slg=["x"]), "org_id", None, id="id-number"),
        pytest.param(v2(id="org", slg=["x"]), "org_slug", None, id="slg-list"),
        pytest.param({**BASE, "v": 2, "o": "org_1"}, "org_id", None, id="o-string"),
        pytest.param({**BASE, "v": 2, "o": ["org_1"]}, "org_id", None, id="o-list"),
        pytest.param({**BASE, "v": 2, "o": {}}, "org_permissions", (), id="o-empty-object"),
        pytest.param({**BASE, "v": 2, "o": {}}, "org_id", None, id="o-empty-object-no-id"),
        pytest.param(v2(id="org", per=["read"], fpm="1"), "org_permissions", (), id="per-list"),
        pytest.param(v2(id="org", per="read", fpm=1), "org_permissions", (), id="fpm-number"),
        pytest.param({**v2(id="org", per="read", fpm="1"), "fea": ["o:a"]}, "org_permissions",
                     (), id="fea-list"),
        pytest.param({**BASE, "v": "2", "org_id": "org_v1"}, "org_id", "org_v1", id="v-string"),
        pytest.param({**BASE, "v": True, "org_id": "org_v1"}, "org_id", "org_v1", id="v-true"),
        pytest.param({**v2(id="org_v2"), "v": 2.0}, "org_id", "org_v2", id="v-2.0-is-v2"),
        pytest.param({**BASE, "org_permissions": "org:a:b"}, "org_permissions", None,
                     id="v1-permissions-string"),
        pytest.param({**BASE, "org_permissions": ["org:a:b", 5, None]}, "org_permissions",
                     ("org:a:b",), id="v1-permissions-non-strings-dropped"),
        pytest.param({**BASE, "org_role": 5}, "org_role", None, id="v1-role-number"),
        pytest.param({**BASE, "sub": 5}, "user_id", None, id="sub-number"),
        pytest.param({**BASE, "sid": ["s"]}, "session_id", None, id="sid-list"),
        pytest.param({**BASE, "sts": "pending"}, "session_status", "pending", id="sts-pending"),
        pytest.param({**BASE, "sts": 1}, "session_status", None, id="sts-number"),
        pytest.param({**BASE, "act": {"sub": "user_admin"}}, "actor", {"sub": "user_admin"},
                     id="act-object"),
        pytest.param({**BASE, "act": "user_admin"}, "actor", None, id="act-string"),
        pytest.param({**BASE, "fva": [3, -1]}, "factor_verification_age", (3, -1), id="fva"),
        pytest.param({**BASE, "fva": [1.5, 0]}, "factor_verification_age", (1.5, 0),
                     id="fva-float"),
        pytest.param({**BASE, "fva": [1]}, "factor_verification_age", None, id="fva-short"),
        pytest.param({**BASE, "fva": [1, 2, 3]}, "factor_verification_age", None, id="fva-long"),
        pytest.param({**BASE, "fva": ["1", 2]}, "factor_verification_age", None, id="fva-string"),
        pytest.param({**BASE, "fva": [True, 2]}, "factor_verification_age", None, id="fva-bool"),
        pytest.param({**BASE, "fva": [-2, 2]}, "factor_verification_age", None, id="fva-below-1"),
        pytest.param({**BASE, "fva": [float("inf"), 2]}, "factor_verification_age", None,
                     id="fva-infinite"),
        pytest.param({**BASE, "fva": {"0": 1}}, "factor_verification_age", None, id="fva-object"),
    ],
)  # fmt: skip
def test_claim_types(claims: dict[str, Any], field: str, value: object) -> None:
    assert getattr(session_fields(claims), field) == value


# -- has() -----------------------------------------------------------------------------------

CLAIMS: dict[str, Any] = {
    **BASE,
    "sub": "user_1",
    "org_id": "org_1",
    "org_role": "org:admin",
    "org_slug": "acme",
    "org_permissions": ["org:billing:manage", "org:reports:read"],
    "fea": "o:reservations,u:dashboard,ou:support",
    "pla": "u:free,o:pro",
    "fva": [5, 30],
}
DROP = object()


def has(overrides: dict[str, Any], **asked: object) -> bool:
    claims = {k: v for k, v in {**CLAIMS, **overrides}.items() if v is not DROP}
    return check_authorization(claims, session_fields(claims), **asked)


@pytest.mark.parametrize(
    ("overrides", "asked", "allowed"),
    [
        # nothing asked, no user
        pytest.param({}, {}, False, id="nothing-asked"),
        pytest.param({"sub": DROP}, {"role": "admin"}, False, id="no-user-id"),
        pytest.param({"sub": ""}, {"role": "admin"}, False, id="empty-user-id"),
        # role
        pytest.param({}, {"role": "admin"}, True, id="role-unprefixed"),
        pytest.param({}, {"role": "org:admin"}, True, id="role-prefixed"),
        pytest.param({}, {"role": "org:org:admin"}, True, id="role-prefix-run-normalised"),
        pytest.param({}, {"role": "member"}, False, id="role-other"),
        pytest.param({}, {"role": "Admin"}, False, id="role-case-sensitive"),
        pytest.param({}, {"role": ""}, False, id="role-empty"),
        pytest.param({}, {"role": 5}, False, id="role-not-a-string"),
        pytest.param({"org_id": DROP}, {"role": "admin"}, False, id="role-without-org"),
        pytest.param({"org_id": ""}, {"role": "admin"}, False, id="role-empty-org-id"),
        pytest.param({"org_role": DROP}, {"role": "admin"}, False, id="role-missing-in-token"),
        pytest.param({"org_role": "admin"}, {"role": "org:admin"}, True, id="token-role-bare"),
        # permission
        pytest.param({}, {"permission": "org:billing:manage"}, True, id="permission"),
        pytest.param({}, {"permission": "billing:manage"}, True, id="permission-unprefixed"),
        pytest.param({}, {"permission": "org:org:billing:manage"}, True, id="permission-run"),
        pytest.param({}, {"permission": "org:billing:read"}, False, id="permission-other"),
        pytest.param({}, {"permission": "org:sys_memberships:manage"}, False, id="system-perm"),
        pytest.param({}, {"permission": ["org:billing:manage"]}, False, id="permission-list"),
        pytest.param({"org_permissions": DROP}, {"permission": "org:billing:manage"}, False,
                     id="permission-claim-missing"),
        pytest.param({"org_id": DROP}, {"permission": "org:billing:manage"}, False,
                     id="permission-without-org"),
        pytest.param({}, {"role": "admin", "permission": "org:reports:read"}, True,
                     id="role-and-permission"),
        pytest.param({}, {"role": "member", "permission": "org:reports:read"}, False,
                     id="role-fails-permission-passes"),
        pytest.param({}, {"role": "admin", "permission": "org:x:y"}, False,
                     id="role-passes-permission-fails"),
        # feature
        pytest.param({}, {"feature": "reservations"}, True, id="feature-any-scope"),
        pytest.param({}, {"feature": "o:reservations"}, True, id="feature-o"),
        pytest.param({}, {"feature": "org:reservations"}, True, id="feature-org"),
        pytest.param({}, {"feature": "organization:reservations"}, True, id="feature-organization"),
        pytest.param({}, {"feature": "u:reservations"}, False, id="feature-wrong-scope"),
        pytest.param({}, {"feature": "dashboard"}, True, id="feature-user-any-scope"),
        pytest.param({}, {"feature": "user:dashboard"}, True, id="feature-user"),
        pytest.param({}, {"feature": "o:dashboard"}, False, id="feature-user-asked-as-org"),
        pytest.param({}, {"feature": "u:support"}, True, id="feature-ou-as-user"),
        pytest.param({}, {"feature": "o:support"}, True, id="feature-ou-as-org"),
        pytest.param({}, {"feature": "lol:dashboard"}, False, id="feature-unknown-scope-fails"),
        pytest.param({}, {"feature": "o:reservations:extra"}, True, id="feature-second-piece"),
        pytest.param({}, {"feature": "o:"}, False, id="feature-empty-name"),
        pytest.param({}, {"feature": ""}, False, id="feature-empty"),
        pytest.param({}, {"feature": 1}, False, id="feature-not-a-string"),
        pytest.param({"fea": DROP}, {"feature": "reservations"}, False, id="fea-missing"),
        pytest.param({"fea": ""}, {"feature": "reservations"}, False, id="fea-empty"),
        pytest.param({"fea": ["o:reservations"]}, {"feature": "reservations"}, False,
                     id="fea-not-a-string"),
        pytest.param({"fea": "reservations,o:x"}, {"feature": "reservations"}, False,
                     id="fea-malformed-fails-without-raising"),
        pytest.param({"org_id": DROP}, {"feature": "reservations"}, True,
                     id="feature-needs-no-active-org"),
        # plan
        pytest.param({}, {"plan": "pro"}, True, id="plan"),
        pytest.param({}, {"plan": "o:pro"}, True, id="plan-org"),
        pytest.param({}, {"plan": "u:pro"}, False, id="plan-wrong-scope"),
        pytest.param({}, {"plan": "user:free"}, True, id="plan-user"),
        pytest.param({"pla": DROP}, {"plan": "pro"}, False, id="pla-missing"),
        pytest.param({}, {"feature": "reservations", "plan": "pro"}, True, id="feature-and-plan"),
        pytest.param({}, {"feature": "reservations", "plan": "gold"}, False,
                     id="feature-passes-plan-fails"),
        # reverification, fva = [5, 30]
        pytest.param({}, {"reverification": "lax"}, True, id="lax"),
        pytest.param({}, {"reverification": "moderate"}, True, id="moderate"),
        pytest.param({}, {"reverification": "strict"}, False, id="strict-second-factor-stale"),
        pytest.param({}, {"reverification": "strict_mfa"}, False, id="strict-mfa-stale"),
        pytest.param({"fva": [5, 5]}, {"reverification": "strict_mfa"}, True, id="strict-mfa"),
        pytest.param({"fva": [10, 9]}, {"reverification": "strict_mfa"}, False,
                     id="strict-mfa-first-at-limit"),
        pytest.param({"fva": [9, 9]}, {"reverification": "strict"}, True, id="strict-9"),
        pytest.param({"fva": [9, 10]}, {"reverification": "strict"}, False, id="strict-limit"),
        pytest.param({"fva": [5, -1]}, {"reverification": "strict"}, True,
                     id="second-factor-not-enrolled-uses-first"),
        pytest.param({"fva": [5, -1]}, {"reverification": "strict_mfa"}, True,
                     id="multi-factor-not-enrolled-uses-first"),
        pytest.param({"fva": [-1, 5]}, {"reverification": "strict"}, True,
                     id="second-factor-first-missing-uses-second"),
        pytest.param({"fva": [-1, 5]}, {"reverification": "strict_mfa"}, False,
                     id="multi-factor-first-missing-fails"),
        pytest.param({"fva": [-1, -1]}, {"reverification": "lax"}, False, id="no-factors"),
        pytest.param({"fva": [1.5, 2.5]}, {"reverification": "strict"}, True, id="fva-floats"),
        pytest.param({}, {"reverification": {"level": "first_factor", "after_minutes": 10}}, True,
                     id="mapping-first-factor"),
        pytest.param({}, {"reverification": {"level": "first_factor", "afterMinutes": 10}}, True,
                     id="mapping-camel-case"),
        pytest.param({}, {"reverification": {"level": "first_factor", "after_minutes": 10,
                                             "afterMinutes": 10}}, True, id="mapping-both-equal"),
        pytest.param({}, {"reverification": {"level": "first_factor", "after_minutes": 10,
                                             "afterMinutes": 1}}, False, id="mapping-both-differ"),
        pytest.param({}, {"reverification": {"level": "first_factor", "after_minutes": 5}}, False,
                     id="mapping-age-not-below"),
        pytest.param({"fva": [-1, 5]}, {"reverification": {"level": "first_factor",
                                                           "after_minutes": 10}}, False,
                     id="mapping-first-factor-not-enrolled"),
        pytest.param({}, {"reverification": {"level": "second_factor", "after_minutes": 31}}, True,
                     id="mapping-second-factor"),
        pytest.param({}, {"reverification": {"level": "first_factor", "after_minutes": 0}}, False,
                     id="mapping-zero-minutes"),
        pytest.param({}, {"reverification": {"level": "first_factor", "after_minutes": -5}}, False,
                     id="mapping-negative-minutes"),
        pytest.param({}, {"reverification": {"level": "first_factor", "after_minutes": "10"}},
                     False, id="mapping-minutes-string"),
        pytest.param({}, {"reverification": {"level": "first_factor", "after_minutes": True}},
                     False, id="mapping-minutes-bool"),
        pytest.param({}, {"reverification": {"level": "any", "after_minutes": 10}}, False,
                     id="mapping-unknown-level"),
        pytest.param({}, {"reverification": {"after_minutes": 10}}, False, id="mapping-no-level"),
        pytest.param({}, {"reverification": "paranoid"}, False, id="unknown-preset"),
        pytest.param({}, {"reverification": ""}, False, id="empty-preset"),
        pytest.param({}, {"reverification": 10}, False, id="number"),
        pytest.param({}, {"reverification": ["lax"]}, False, id="list"),
        pytest.param({"fva": DROP}, {"reverification": "lax"}, False, id="fva-missing"),
        pytest.param({"fva": [1]}, {"reverification": "lax"}, False, id="fva-malformed"),
        # GHSA-w24r-5266-9c3c: one dimension passes, another is indeterminate -> denied
        pytest.param({"fva": DROP}, {"permission": "org:billing:manage",
                                     "reverification": "strict"}, False,
                     id="ghsa-permission-with-missing-fva"),
        pytest.param({}, {"permission": "org:billing:manage", "reverification": "paranoid"}, False,
                     id="ghsa-permission-with-unknown-preset"),
        pytest.param({}, {"permission": "org:billing:manage", "reverification": "strict"}, False,
                     id="ghsa-permission-with-stale-factor"),
        pytest.param({}, {"permission": "org:billing:manage", "reverification": "moderate"}, True,
                     id="permission-and-fresh-reverification"),
        pytest.param({}, {"feature": "reservations", "role": "member"}, False,
                     id="ghsa-feature-with-wrong-role"),
        pytest.param({"org_id": DROP}, {"feature": "reservations", "role": "admin"}, False,
                     id="ghsa-feature-with-role-but-no-org"),
        pytest.param({}, {"feature": "reservations", "role": 123}, False,
                     id="ghsa-feature-with-non-string-role"),
        pytest.param({"fea": DROP}, {"role": "admin", "feature": "reservations"}, False,
                     id="ghsa-role-with-missing-fea"),
        pytest.param({"fea": "broken"}, {"role": "admin", "feature": "reservations"}, False,
                     id="ghsa-role-with-malformed-fea"),
        pytest.param({}, {"role": "admin", "plan": "pro", "reverification": "lax"}, True,
                     id="three-dimensions-pass"),
        pytest.param({}, {"role": "admin", "plan": "pro", "reverification": "strict"}, False,
                     id="three-dimensions-one-fails"),
    ],
)  # fmt: skip
def test_has(overrides: dict[str, Any], asked: dict[str, object], allowed: bool) -> None:
    assert has(overrides, **asked) is allowed


@pytest.mark.parametrize(
    ("asked", "allowed"),
    [
        ({"role": "admin"}, True),
        ({"role": "org:admin"}, True),
        ({"permission": "org:projects:read"}, True),
        ({"permission": "projects:manage"}, True),
        ({"permission": "org:projects:delete"}, False),
        ({"feature": "projects"}, True),
        ({"feature": "u:gold"}, True),
        ({"feature": "o:gold"}, False),
    ],
)
def test_has_with_v2_claims(asked: dict[str, object], allowed: bool) -> None:
    claims = v2("u:gold,o:projects", id="org_1", rol="admin", per="read,manage", fpm="3")
    assert check_authorization(claims, session_fields(claims), **asked) is allowed
