"""Auth0 Management API users client (``https://<domain>/api/v2/users``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

import requests
from urllib3.util.retry import Retry

from ..core.fetch import retrying_session
from ..core.urls import check_url
from ..core.urls import normalize_domain
from .base import APIClient
from .base import APIRetry
from .base import ErrorFields
from .base import Query
from .base import UserDict
from .base import UserList
from .base import scalar
from .base import string_or_none
from .base import user_path
from .errors import APIAuthenticationFailed
from .errors import APIPaginationLimit
from .errors import IdGuardAPIError
from .user import User

__all__ = ["PAGINATION_CAP", "Auth0ManagementClient", "auth0_query"]

logger = logging.getLogger("flask_idguard")

#: Auth0 pages through at most this many users of one query.
PAGINATION_CAP = 1000
#: Page size of :meth:`Auth0ManagementClient.iter` when no ``per_page`` is given (Auth0's max).
ITER_PAGE_SIZE = 100
_TOKEN_PATH = "/oauth/token"


def auth0_query(filters: Mapping[str, Any]) -> Query:
    """Query pairs as Auth0's SDKs send them: booleans ``true``/``false``, a list joined
    with commas (``fields=email,name``), ``None`` left out."""
    pairs: Query = []
    for key, value in filters.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            pairs.append((key, ",".join(scalar(v) for v in value)))
        elif isinstance(value, (Mapping, set, frozenset)):
            raise TypeError(f"a query value must be a string, number, boolean or list: {value!r}")
        else:
            pairs.append((key, scalar(value)))
    return pairs


class _TokenCache:
    """The management token, fetched once for all threads and kept until shortly before
    it expires (a tenth of its lifetime early, at most five minutes)."""

    def __init__(self, fetch: Callable[[], tuple[str, float]] | None, fixed: str | None) -> None:
        self._fetch = fetch
        self._token = fixed
        self._renew_at = float("inf") if fixed else 0.0
        self._lock = threading.Lock()

    @property
    def renewable(self) -> bool:
        return self._fetch is not None

    def get(self) -> str:
        token = self._token
        if token is not None and time.time() < self._renew_at:
            return token
        with self._lock:
            if self._token is None or time.time() >= self._renew_at:
                self._renew()
            assert self._token is not None
            return self._token

    def renew(self, stale: str) -> str:
        """A new token after ``stale`` was refused (once, whoever asks first)."""
        with self._lock:
            if self._token == stale:
                self._renew()
            assert self._token is not None
            return self._token

    def _renew(self) -> None:
        assert self._fetch is not None
        token, lifetime = self._fetch()
        self._token = token
        self._renew_at = time.time() + lifetime - min(300.0, lifetime / 10)


class Auth0ManagementClient(APIClient):
    """Users of one Auth0 tenant, through the Management API v2.

    With ``client_id``/``client_secret`` the client obtains its token by client
    credentials (audience ``https://<domain>/api/v2/``), caches it and fetches a new one
    once when a call is answered 401; a given ``token`` is used as is. ``base_url``
    replaces ``https://<domain>`` for every call (a custom domain, a development
    identity provider); the audience stays the tenant's.
    """

    provider = "auth0"

    def __init__(
        self,
        domain: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        max_retry_wait: float = 10.0,
        allow_insecure_http: bool = False,
        session: requests.Session | None = None,
    ) -> None:
        issuer = normalize_domain(domain)
        if base_url is not None:
            check_url(base_url, allow_insecure_http=allow_insecure_http, what="base_url")
        root = (base_url or issuer).rstrip("/")
        super().__init__(
            f"{root}/api/v2",
            timeout=timeout,
            retries=retries,
            max_retry_wait=max_retry_wait,
            session=session,
        )
        self.client_id = client_id
        self.audience = f"{issuer}api/v2/"
        self.token_url = root + _TOKEN_PATH
        if token:
            self._tokens = _TokenCache(None, token)
        elif client_id and client_secret:
            # Imported here: Authlib is a hundred modules, for this client's token only.
            from authlib.integrations import requests_client  # type: ignore[import-untyped]

            oauth = requests_client.OAuth2Session(
                client_id, client_secret, token_endpoint_auth_method="client_secret_post"
            )
            retrying_session(
                APIRetry.policy(retries, max_wait=max_retry_wait, replay=("POST",)), oauth
            )
            oauth.register_compliance_hook("access_token_response", self._token_answer)
            self._oauth = oauth
            self._tokens = _TokenCache(self._fetch_token, None)
        else:
            raise ValueError(
                "give client_id and client_secret (AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET) "
                "or a management token"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, client_id={self.client_id!r})"

    # -- token ---------------------------------------------------------------------------

    def _token_answer(self, resp: requests.Response) -> requests.Response:
        if not 200 <= resp.status_code < 300:
            raise self._error(resp, "POST", _TOKEN_PATH)
        return resp

    def _fetch_token(self) -> tuple[str, float]:
        """Client credentials at ``/oauth/token``: the token and its lifetime in seconds."""
        from authlib.integrations.requests_client import OAuthError  # type: ignore[import-untyped]

        try:
            answer = self._oauth.fetch_token(
                self.token_url,
                grant_type="client_credentials",
                audience=self.audience,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise self._no_answer(exc, "POST", _TOKEN_PATH) from None
        except OAuthError as exc:
            raise APIAuthenticationFailed(
                str(exc.description or exc.error),
                code=exc.error,
                method="POST",
                path=_TOKEN_PATH,
            ) from None
        except ValueError:
            raise IdGuardAPIError(
                "the token answer is not a JSON object", method="POST", path=_TOKEN_PATH
            ) from None
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise IdGuardAPIError("no access_token in the answer", method="POST", path=_TOKEN_PATH)
        lifetime = answer.get("expires_in")
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
            lifetime = 300.0
        logger.info("auth0: management token obtained (expires in %d s)", lifetime)
        return token, float(lifetime)

    def _authorization(self) -> str:
        return f"Bearer {self._tokens.get()}"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        body: Mapping[str, Any] | None = None,
        retry: Retry | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        token = self._tokens.get()
        extra: dict[str, Any] = {"params": params, "body": body, "retry": retry, "headers": headers}
        resp = self._send(method, path, token=token, **extra)
        if resp.status_code == 401 and self._tokens.renewable:
            # A refused token was not acted on: safe to send again, once, with a new one.
            logger.info("auth0: management token refused; fetching a new one")
            resp.close()
            token = self._tokens.renew(token)
            resp = self._send(method, path, token=token, **extra)
        return self._result(resp, method, path)

    def _to_user(self, data: Mapping[str, Any]) -> User:
        return User.from_auth0(data)

    def _error_fields(self, body: Any, resp: requests.Response) -> ErrorFields:
        if not isinstance(body, Mapping):
            return None, None, None, None, ()
        code = string_or_none(body.get("errorCode")) or string_or_none(body.get("error"))
        message = string_or_none(body.get("message")) or string_or_none(
            body.get("error_description")
        )
        return code, message, None, None, (body,)

    # -- users ---------------------------------------------------------------------------

    def _page(self, filters: Mapping[str, Any]) -> tuple[UserList, int | None]:
        params = dict(filters)
        if params.get("q") is not None:
            params.setdefault("search_engine", "v3")
        data = self._request("GET", "/users", params=auth0_query(params))
        total = None
        if isinstance(data, dict):
            raw_total = data.get("total")
            total = raw_total if isinstance(raw_total, int) else None
            data = data.get("users")
        if not isinstance(data, list) or not all(isinstance(u, dict) for u in data):
            raise IdGuardAPIError("the answer holds no list of users", method="GET", path="/users")
        return data, total

    def get(self, user_id: str, **params: Any) -> UserDict:
        """``GET /api/v2/users/{id}`` (the id percent-encoded: ``auth0%7C123``)."""
        return self._object("GET", user_path("/users", user_id), params=auth0_query(params))

    def list(self, **filters: Any) -> UserList:
        """``GET /api/v2/users``: one page of users (``q``, ``page``, ``per_page``, ``sort``,
        ``fields``...; ``search_engine=v3`` is added with ``q``)."""
        return self._page(filters)[0]

    def iter(self, **filters: Any) -> Iterator[UserDict]:
        """Every matching user, by ``page``/``per_page`` (default 100) with ``include_totals``.

        Auth0 pages through at most 1000 users of a query: when more match (from the
        starting page on), :class:`~.errors.APIPaginationLimit` is raised before any is
        yielded, so a partial listing is never mistaken for a complete one. Narrow
        ``q`` (e.g. by ``created_at`` ranges) or use an export job.
        """
        per_page = int(filters.pop("per_page", None) or ITER_PAGE_SIZE)
        page = int(filters.pop("page", None) or 0)
        filters.pop("include_totals", None)
        start = page * per_page
        seen = 0
        while True:
            users, total = self._page(
                {**filters, "page": page, "per_page": per_page, "include_totals": True}
            )
            if seen == 0 and total is not None and total > PAGINATION_CAP:
                raise APIPaginationLimit(
                    f"{total} users match; Auth0 pages through the first {PAGINATION_CAP} "
                    "only. Narrow q, or use a user export job.",
                    method="GET",
                    path="/users",
                )
            yield from users
            seen += len(users)
            if len(users) < per_page or (total is not None and start + seen >= total):
                return
            page += 1

    def count(self, **filters: Any) -> int:
        """The ``total`` Auth0 reports for ``filters`` (one user asked, ``include_totals``)."""
        _, total = self._page({**filters, "page": 0, "per_page": 1, "include_totals": True})
        if total is None:
            raise IdGuardAPIError("no total in the answer", method="GET", path="/users")
        return total

    def update_metadata(
        self,
        user_id: str,
        *,
        public: Mapping[str, Any] | None = None,
        private: Mapping[str, Any] | None = None,
        unsafe: Mapping[str, Any] | None = None,
    ) -> UserDict:
        """``PATCH`` ``app_metadata`` (``public``: set by the back end, read-only to the
        user) and ``user_metadata`` (``unsafe``: editable by the user). Auth0 merges
        top-level keys, replaces nested objects, and removes a key set to ``None``.

        Auth0 has no metadata hidden from the user, so ``private`` is refused.
        """
        if private is not None:
            raise ValueError(
                "Auth0 has no private metadata; app_metadata (public=) is not editable by "
                "the user but can be read through the user's profile."
            )
        body = {
            key: value
            for key, value in (("app_metadata", public), ("user_metadata", unsafe))
            if value is not None
        }
        if not body:
            raise ValueError("give public= (app_metadata) and/or unsafe= (user_metadata)")
        return self._object("PATCH", user_path("/users", user_id), body=body)
