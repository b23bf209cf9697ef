"""Sign-in attempts through the Frontend API, the way ``@clerk/clerk-js`` drives them:
``create`` (an email address or phone number, maybe a password), ``prepare_first_factor``
(send an email or SMS code), ``attempt_first_factor`` (a password or the code). A completed
attempt starts a session.

Codes follow Clerk's test mode: an address with ``+clerk_test`` in its local part, and a phone
number ``+1 XXX 555 0100`` to ``0199``, get the fixed code ``424242`` (Clerk sends them
nothing). Any other gets a random code, which this provider cannot send: it logs it instead
(development only).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING

from werkzeug.security import check_password_hash

from .store import SignInAttempt
from .store import new_id
from .web import FapiError

if TYPE_CHECKING:
    from .instance import Instance
    from .store import Client
    from .store import User

__all__ = [
    "TEST_CODE",
    "attempt_first_factor",
    "create",
    "is_test_email",
    "is_test_phone",
    "prepare_first_factor",
]

logger = logging.getLogger("flask_idguard.devidp")

#: Clerk's test-mode verification code for ``+clerk_test`` email addresses.
TEST_CODE = "424242"
#: Wrong codes allowed before the code is void and a new one must be prepared.
MAX_CODE_ATTEMPTS = 5
STRATEGIES = ("password", "email_code", "phone_code")
#: Clerk's fictional test numbers: +1, an area code, then 555-0100 to 555-0199.
_TEST_PHONE = re.compile(r"\+1[2-9][0-9]{2}55501[0-9]{2}")


def is_test_email(email: str) -> bool:
    """An address of Clerk's test mode: ``+clerk_test`` in the local part."""
    local, _, _ = email.partition("@")
    return "+clerk_test" in local.lower()


def is_test_phone(number: str) -> bool:
    """A number of Clerk's test mode: ``+1 (XXX) 555-0100`` to ``555-0199``."""
    return _TEST_PHONE.fullmatch(number) is not None


def _text(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise FapiError(422, "form_param_missing", f"{name} must be included.", param=name)
    return value


def _strategy(form: Mapping[str, str]) -> str:
    strategy = _text(form, "strategy")
    if strategy not in STRATEGIES:
        raise FapiError(
            422,
            "strategy_for_user_invalid",
            "Invalid verification strategy",
            f"This provider signs in with {' or '.join(STRATEGIES)} only.",
            param="strategy",
        )
    return strategy


def create(idp: Instance, client: Client, form: Mapping[str, str]) -> SignInAttempt:
    """A new sign-in attempt for ``identifier`` (an email address or a phone number); with
    ``password`` (and ``strategy`` absent or ``password``) it is verified at once, as Clerk's
    ``create`` does."""
    identifier = _text(form, "identifier")
    user = idp.store.user_by_identifier(identifier)
    if user is None:
        raise FapiError(
            422,
            "form_identifier_not_found",
            "Couldn't find your account.",
            param="identifier",
        )
    attempt = SignInAttempt(new_id("sia"), client.id, user.id, identifier, "needs_first_factor")
    with idp.store.lock:
        # A client has one sign-in in progress: a new one replaces (and forgets) the last.
        idp.store.sign_ins.pop(client.sign_in_id or "", None)
        idp.store.sign_ins[attempt.id] = attempt
        client.sign_in_id = attempt.id
    strategy = form.get("strategy") or ("password" if form.get("password") else None)
    if strategy is not None:
        if strategy != "password":
            raise FapiError(
                422,
                "strategy_for_user_invalid",
                "Invalid verification strategy",
                "Create a sign-in with a password, or prepare an email code after it.",
                param="strategy",
            )
        _verify_password(idp, client, attempt, user, _text(form, "password"))
    return attempt


def prepare_first_factor(
    idp: Instance, attempt: SignInAttempt, form: Mapping[str, str]
) -> SignInAttempt:
    """Start a factor: for ``email_code`` and ``phone_code``, a new code (the test code for
    Clerk's test addresses and numbers)."""
    user = _user(idp, attempt)
    strategy = _strategy(form)
    if strategy in _CODES:
        param, kind = _CODES[strategy]
        identifier, identifier_id = (
            (user.email, user.email_id) if kind == "email" else (user.phone, user.phone_id)
        )
        wanted = form.get(param)
        if identifier is None or (wanted and wanted != identifier_id):
            raise FapiError(
                422,
                "form_param_value_invalid",
                f"{param} is invalid",
                f"That is not the {kind} this sign-in identified.",
                param=param,
            )
        test = is_test_email(identifier) if kind == "email" else is_test_phone(identifier)
        attempt.code = TEST_CODE if test else f"{secrets.randbelow(10**6):06d}"
        if not test:
            logger.warning(
                "Sign-in code for %s: %s (development only: this provider sends no %s)",
                identifier,
                attempt.code,
                kind,
            )
    attempt.strategy, attempt.verification, attempt.attempts = strategy, "unverified", 0
    return attempt


def attempt_first_factor(
    idp: Instance, client: Client, attempt: SignInAttempt, form: Mapping[str, str]
) -> SignInAttempt:
    """Verify a password or the email code; on success the attempt completes."""
    user = _user(idp, attempt)
    strategy = _strategy(form)
    if strategy == "password":
        _verify_password(idp, client, attempt, user, _text(form, "password"))
        return attempt
    code = _text(form, "code")
    if attempt.strategy != strategy or attempt.code is None:
        raise FapiError(
            400,
            "verification_not_sent",
            "You need to send a verification code before attempting to verify.",
            param="code",
        )
    attempt.attempts += 1
    if not secrets.compare_digest(code, attempt.code):
        if attempt.attempts >= MAX_CODE_ATTEMPTS:
            attempt.code, attempt.verification = None, "failed"
            raise FapiError(
                422,
                "verification_failed",
                "Too many failed attempts. Request a new code.",
                param="code",
            )
        raise FapiError(422, "form_code_incorrect", "Incorrect code", param="code")
    _complete(idp, client, attempt, user, strategy)
    return attempt


#: The code strategies: the form field naming the identifier, and what the code is sent to.
_CODES = {"email_code": ("email_address_id", "email"), "phone_code": ("phone_number_id", "phone")}


def _user(idp: Instance, attempt: SignInAttempt) -> User:
    if attempt.status == "complete":
        raise FapiError(
            400,
            "verification_already_verified",
            "This sign-in is already complete.",
        )
    user = idp.store.users.get(attempt.user_id or "")
    if user is None:
        raise FapiError(422, "form_identifier_not_found", "Couldn't find your account.")
    return user


def _verify_password(
    idp: Instance, client: Client, attempt: SignInAttempt, user: User, password: str
) -> None:
    attempt.strategy = "password"
    attempt.attempts += 1
    if not check_password_hash(user.password_hash, password):
        attempt.verification = "unverified"
        raise FapiError(
            422,
            "form_password_incorrect",
            "Password is incorrect. Try again, or use another method.",
            param="password",
        )
    _complete(idp, client, attempt, user, "password")


def _complete(
    idp: Instance, client: Client, attempt: SignInAttempt, user: User, strategy: str
) -> None:
    """The factor checked out: refuse a banned user, else start the session."""
    if user.banned:
        # Inferred from Clerk's dashboard wording; its Frontend API is closed source.
        raise FapiError(403, "user_banned", "Your account is banned.")
    session = idp.store.sign_in(client, user)
    attempt.strategy, attempt.verification, attempt.code = strategy, "verified", None
    attempt.status, attempt.created_session_id = "complete", session.id
    client.sign_in_id = None
    idp.save()
