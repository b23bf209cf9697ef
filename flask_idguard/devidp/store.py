"""In-memory state: users, organizations, clients and their sessions, dev browsers, nonces.

Everything is kept in dicts behind one lock; nothing is shared between processes. Times are
in seconds (``time.time()``); the wire formats convert to Clerk's milliseconds.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from .seed import M2MClientSeed
from .seed import Seed

__all__ = [
    "Client",
    "Organization",
    "Session",
    "SignInAttempt",
    "Store",
    "User",
    "hash_password",
    "new_id",
]

_ALPHABET = string.ascii_letters + string.digits
#: Sessions a client keeps alive without activity (Clerk's default lifetime is 7 days).
SESSION_LIFETIME = 7 * 24 * 3600
#: How long a handshake nonce can be exchanged for its directives.
NONCE_LIFETIME = 60.0
#: Password hashing for a development tool: salted PBKDF2, light enough to seed at once.
_HASH_METHOD = "pbkdf2:sha256:20000"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_HASH_METHOD)


def new_id(prefix: str) -> str:
    """A Clerk-looking id: ``<prefix>_`` and 27 random letters and digits."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(27))


@dataclass
class User:
    id: str
    email: str
    password_hash: str
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    public_metadata: dict[str, Any] = field(default_factory=dict)
    private_metadata: dict[str, Any] = field(default_factory=dict)
    unsafe_metadata: dict[str, Any] = field(default_factory=dict)
    email_id: str = field(default_factory=lambda: new_id("idn"))
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    last_sign_in_at: float | None = None
    banned: bool = False
    #: E.164 (``+12015550100``), or None.
    phone: str | None = None
    phone_id: str = field(default_factory=lambda: new_id("idn"))

    @property
    def full_name(self) -> str:
        return " ".join(n for n in (self.first_name, self.last_name) if n) or self.email


@dataclass
class Organization:
    id: str
    slug: str
    name: str
    #: user id → role.
    members: dict[str, str] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)


@dataclass
class Session:
    id: str
    client_id: str
    user_id: str
    status: str = "active"
    #: The active organization (None: the personal account).
    org_id: str | None = None
    created_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    expire_at: float = field(default_factory=lambda: time.time() + SESSION_LIFETIME)
    refresh_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def active(self) -> bool:
        return self.status == "active" and time.time() < self.expire_at


@dataclass
class Client:
    id: str
    session_ids: list[str] = field(default_factory=list)
    last_active_session_id: str | None = None
    #: Last time a session started or ended, or the active organization changed (the value
    #: of ``__client_uat``).
    updated_at: float = field(default_factory=time.time)
    created_at: float = field(default_factory=time.time)
    #: ``iat`` of the last session token minted for this client.
    last_token_iat: int = 0
    #: The sign-in in progress through the Frontend API (``@clerk/clerk-js``), if any.
    sign_in_id: str | None = None

    def touch(self) -> None:
        """Move ``updated_at`` (``__client_uat``) past every token minted so far, so the app
        sees its session token as outdated (``iat < __client_uat``) and asks for a new one.

        Both are whole seconds: when a token was minted this very second, wait for the next
        one (at most a second) rather than date ``__client_uat``, and so the next token's
        ``iat``, in the future, which an app with no clock skew allowance would refuse.
        """
        wait = self.last_token_iat + 1 - time.time()
        if wait > 0:
            time.sleep(wait)
        self.updated_at = time.time()


@dataclass
class SignInAttempt:
    """A sign-in through the Frontend API: identified, then a first factor, then complete."""

    id: str
    client_id: str
    user_id: str | None = None
    identifier: str | None = None
    status: str = "needs_identifier"
    #: The first factor being verified (``password``, ``email_code``), its status and code.
    strategy: str | None = None
    verification: str | None = None
    code: str | None = None
    attempts: int = 0
    created_session_id: str | None = None
    created_at: float = field(default_factory=time.time)
    #: Clerk abandons a sign-in attempt after a day.
    abandon_at: float = field(default_factory=lambda: time.time() + 24 * 3600)


class Store:
    """The identity provider's state, seeded once."""

    def __init__(self, seed: Seed) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.organizations: dict[str, Organization] = {}
        self.roles: dict[str, tuple[str, ...]] = dict(seed.roles)
        self.m2m_clients: dict[str, M2MClientSeed] = {c.client_id: c for c in seed.m2m_clients}
        self.templates: dict[str, Mapping[str, Any]] = dict(seed.templates)
        self.clients: dict[str, Client] = {}
        self.sessions: dict[str, Session] = {}
        #: dev browser token → client id.
        self.dev_browsers: dict[str, str] = {}
        self.sign_ins: dict[str, SignInAttempt] = {}
        self._nonces: dict[str, tuple[float, list[str]]] = {}
        for u in seed.users:
            self.users[u.id] = User(
                u.id, u.email, hash_password(u.password), u.first_name, u.last_name,
                u.username, dict(u.public_metadata), dict(u.private_metadata), phone=u.phone,
            )  # fmt: skip
        for o in seed.organizations:
            self.organizations[o.id] = Organization(o.id, o.slug, o.name, dict(o.members))

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self.lock:
            yield

    # users ---------------------------------------------------------------------------------

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def user_by_identifier(self, identifier: str) -> User | None:
        """A user by email address or phone number (spaces, dashes, dots and parentheses in
        the number are ignored, as Clerk's sign-in form does)."""
        if "@" in identifier:
            return self.user_by_email(identifier)
        number = "".join(c for c in identifier if c not in " -.()")
        return next((u for u in self.users.values() if u.phone and u.phone == number), None)

    def authenticate(self, email: str, password: str) -> User | None:
        """The user whose email and password these are (and who is not banned), or None."""
        user = self.user_by_email(email)
        if user is None or user.banned or not check_password_hash(user.password_hash, password):
            return None
        return user

    def add_user(self, email: str, password: str, **fields: Any) -> User:
        """A new user (sign-up, or the Backend API's ``POST /users``)."""
        with self.lock:
            if self.user_by_email(email) is not None:
                raise ValueError("That email address is taken. Please try another.")
            user = User(new_id("user"), email.strip(), hash_password(password), **fields)
            self.users[user.id] = user
            return user

    def set_password(self, user: User, password: str) -> None:
        user.password_hash = hash_password(password)

    # organizations -------------------------------------------------------------------------

    def memberships(self, user_id: str) -> list[tuple[Organization, str]]:
        """The user's organizations and roles, in seed order."""
        return [
            (o, o.members[user_id]) for o in self.organizations.values() if user_id in o.members
        ]

    def find_organization(self, key: str) -> Organization | None:
        """An organization by id or slug."""
        org = self.organizations.get(key)
        return org or next((o for o in self.organizations.values() if o.slug == key), None)

    def permissions(self, role: str) -> tuple[str, ...]:
        return self.roles.get(role, ())

    # clients, sessions, dev browsers ---------------------------------------------------------

    def new_client(self) -> Client:
        with self.lock:
            client = Client(new_id("client"))
            self.clients[client.id] = client
            return client

    def new_dev_browser(self) -> tuple[str, Client]:
        """A dev browser (its token is ``__clerk_db_jwt``) and the client it stands for."""
        with self.lock:
            token = new_id("dvb")
            client = self.new_client()
            self.dev_browsers[token] = client.id
            return token, client

    def dev_browser_client(self, token: str | None) -> Client | None:
        client_id = self.dev_browsers.get(token or "")
        return self.clients.get(client_id or "")

    def active_session(self, client: Client | None) -> Session | None:
        if client is None or client.last_active_session_id is None:
            return None
        session = self.sessions.get(client.last_active_session_id)
        return session if session is not None and session.active else None

    def sign_in(self, client: Client, user: User) -> Session:
        """A new active session for ``user`` on ``client``; the client's others end (Clerk's
        single-session mode). The user's first organization is active, as Clerk's default."""
        with self.lock:
            self.end_sessions(client)
            memberships = self.memberships(user.id)
            session = Session(new_id("sess"), client.id, user.id)
            session.org_id = memberships[0][0].id if memberships else None
            self.sessions[session.id] = session
            client.session_ids.append(session.id)
            client.last_active_session_id = session.id
            user.last_sign_in_at = time.time()
            client.touch()
            return session

    def end_sessions(self, client: Client) -> None:
        with self.lock:
            for session_id in client.session_ids:
                session = self.sessions.get(session_id)
                if session is not None and session.status == "active":
                    session.status = "ended"
            client.last_active_session_id = None
            client.touch()

    def set_active_organization(self, session: Session, key: str | None) -> bool:
        """Make the organization (id or slug; None or "" for the personal account) active;
        False when the session's user is not a member."""
        with self.lock:
            org = self.find_organization(key) if key else None
            if key and (org is None or session.user_id not in org.members):
                return False
            session.org_id = org.id if org is not None else None
            client = self.clients.get(session.client_id)
            if client is not None:
                client.touch()
            return True

    # handshake nonces ----------------------------------------------------------------------

    def put_nonce(self, directives: list[str]) -> str:
        now = time.time()
        with self.lock:
            self._nonces = {k: v for k, v in self._nonces.items() if v[0] > now}
            nonce = secrets.token_urlsafe(24)
            self._nonces[nonce] = (now + NONCE_LIFETIME, directives)
            return nonce

    def nonce_directives(self, nonce: str) -> list[str] | None:
        """The directives stored under ``nonce`` while it lives, else None."""
        entry = self._nonces.get(nonce)
        if entry is None or entry[0] <= time.time():
            return None
        return list(entry[1])
