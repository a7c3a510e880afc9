"""A credential that costs only what it uses.

In ACI the token comes from IMDS (wire notes §12.1): GET {authority}/metadata/identity/oauth2/token
?api-version=2018-02-01&resource=R with `Metadata: true`. Importing azure.identity to make that
one request loads every credential, msal and cryptography.x509, and DefaultAzureCredential first
sends a probe. So when the environment names no other credential, the registrar asks IMDS itself
(no probe: the first request is the real one, with the probe's short connect timeout when the
authority is the default one) and only falls back to DefaultAzureCredential, without its
managed-identity leg, when no IMDS answers (a developer's `az login`). Any variable that selects
another credential (service principal, workload identity, the App Service form) hands the whole
decision to DefaultAzureCredential, as before.

The wire itself is in imds.py (standard library only), so that a boot can send the first token
request before azure-core is imported (headstart.py); the credential takes that answer as its
first attempt.

Kept from azure-identity's ImdsCredential: the token cached per resource and refreshed 5 minutes
before it expires, retries on 404/410/429/5xx (longer for 410, IMDS's "not ready yet"), bounded,
with Retry-After honoured; a 400 (no identity assigned) counts as "unavailable".
"""
from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from typing import Callable, Dict, Optional, Tuple

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError

from . import imds
from .imds import uses_other_credential

log = logging.getLogger(__name__)

REFRESH_BEFORE = 300          # seconds before expiry a cached token is replaced (as azure-core)
RETRY_STATUSES = frozenset([404, 410, 429] + list(range(500, 600)))


class ImdsUnavailable(ClientAuthenticationError):
    """No IMDS answered, or it has no identity for us: the next credential may serve."""


def _resource(scopes: Tuple[str, ...]) -> str:
    if len(scopes) != 1:
        raise ValueError("managed identity takes exactly one scope")
    scope = scopes[0]
    return scope[:-len("/.default")] if scope.endswith("/.default") else scope


class ImdsCredential:
    """azure-core TokenCredential for the IMDS managed-identity form."""

    def __init__(self, authority: Optional[str] = None, client_id: Optional[str] = None, *,
                 retries: int = 5, backoff: float = 0.8, backoff_410: float = 2.5,
                 max_delay: float = 60.0, probe_timeout: float = imds.PROBE_TIMEOUT,
                 timeout: float = imds.TIMEOUT, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 head_start=None):
        self.authority, self.connect_timeout = imds.endpoint(authority, timeout, probe_timeout)
        self.client_id = client_id or None
        self.retries, self.backoff, self.backoff_410 = retries, backoff, backoff_410
        self.max_delay, self.timeout = max_delay, timeout
        self.clock, self.sleep = clock, sleep
        self.head_start = head_start      # headstart.TokenStart: the first request, on its way
        self.requests = 0
        self._answered = False
        self._cache: Dict[str, Tuple[str, int, Optional[int]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, **kwargs) -> "ImdsCredential":
        return cls(*imds.from_environment(), **kwargs)

    @property
    def url(self) -> str:
        return self.authority + imds.IMDS_PATH

    # -- azure-core's TokenCredential / SupportsTokenInfo ----------------------------------
    def get_token(self, *scopes: str, **_kwargs) -> AccessToken:
        token, expires_on, _ = self._token(_resource(scopes))
        return AccessToken(token, expires_on)

    def get_token_info(self, *scopes: str, options=None) -> AccessTokenInfo:
        token, expires_on, refresh_on = self._token(_resource(scopes))
        return AccessTokenInfo(token, expires_on, refresh_on=refresh_on)

    def close(self) -> None:
        pass

    # -- the cache -----------------------------------------------------------------------------
    def _token(self, resource: str) -> Tuple[str, int, Optional[int]]:
        with self._lock:
            cached = self._cache.get(resource)
            now = self.clock()
            if cached and cached[1] - now > REFRESH_BEFORE and \
                    (cached[2] is None or now < cached[2]):
                return cached
            try:
                fresh = self._fetch(resource)
            except ClientAuthenticationError:
                if cached and cached[1] > now + 30:   # still good: refresh again next time
                    log.warning("managed identity token refresh failed; using the cached token "
                                "until it expires", exc_info=False)
                    return cached
                raise
            self._cache[resource] = fresh
            return fresh

    # -- the wire ------------------------------------------------------------------------------
    def _fetch(self, resource: str) -> Tuple[str, int, Optional[int]]:
        target = imds.target(resource, self.client_id)
        attempt = 0
        while True:
            attempt += 1
            try:
                status, headers, body = self._get(target)
            except (OSError, http.client.HTTPException) as exc:
                if not self._answered:
                    raise ImdsUnavailable(f"no managed identity endpoint (IMDS) answered at "
                                          f"{self.authority}: {type(exc).__name__}: "
                                          f"{exc}") from None
                if attempt > self.retries:
                    raise ClientAuthenticationError(f"managed identity endpoint (IMDS) failed "
                                                    f"after {attempt} attempts: {exc}") from None
                self.sleep(self._delay(attempt, None, {}))
                continue
            self._answered = True
            if status == 200:
                return self._parse(body)
            if status in RETRY_STATUSES and attempt <= self.retries:
                self.sleep(self._delay(attempt, status, headers))
                continue
            raise self._refusal(status, body, attempt)

    def _get(self, target: str) -> imds.Answer:
        self.requests += 1
        early = self.head_start.answer(self.authority, target) if self.head_start else None
        if early is not None:
            return early
        return imds.get(self.authority, target, self.connect_timeout, self.timeout)

    def _delay(self, attempt: int, status: Optional[int], headers: Dict[str, str]) -> float:
        after = headers.get("retry-after")
        if after:
            try:
                return min(self.max_delay, max(0.0, float(after)))
            except ValueError:
                pass
        if attempt == 1:
            return 0.0          # azure-core's first retry is immediate
        factor = self.backoff_410 if status == 410 else self.backoff
        return min(self.max_delay, factor * 2 ** (attempt - 1))

    def _parse(self, body: bytes) -> Tuple[str, int, Optional[int]]:
        try:
            doc = json.loads(body)
            token = doc["access_token"]
            now = int(self.clock())
            # IMDS sends every number as a string; expires_in does not depend on our clock.
            if doc.get("expires_in") not in (None, ""):
                expires_on = now + int(doc["expires_in"])
            else:
                expires_on = int(doc["expires_on"])
            refresh_on = now + int(doc["refresh_in"]) if doc.get("refresh_in") else None
        except (ValueError, KeyError, TypeError) as exc:
            # azure-identity treats an unreadable answer as "not a managed identity endpoint"
            raise ImdsUnavailable(f"the managed identity endpoint at {self.authority} sent an "
                                  f"unreadable token response ({type(exc).__name__})") from None
        if not isinstance(token, str) or not token:
            raise ImdsUnavailable("the managed identity endpoint sent no access_token")
        return token, expires_on, refresh_on

    def _refusal(self, status: int, body: bytes, attempts: int) -> ClientAuthenticationError:
        try:
            doc = json.loads(body)
            detail = doc.get("error_description") or doc.get("error") or doc.get("message")
        except (ValueError, AttributeError):
            detail = None
        detail = " ".join(str(detail or body[:200].decode("utf-8", "replace")).split())
        if status == 400 or (status == 403 and "unreachable" in detail):
            # 400: no identity assigned (or not this client_id); 403 "unreachable": Docker
            # Desktop's proxy answering for a missing IMDS (both as azure-identity reads them).
            return ImdsUnavailable(f"managed identity unavailable at {self.authority} "
                                   f"({status}): {detail}")
        return ClientAuthenticationError(f"managed identity endpoint (IMDS) refused the token "
                                         f"request ({status}) after {attempts} attempt(s): "
                                         f"{detail}")


def _default_azure_credential(**kwargs):
    from azure.identity import DefaultAzureCredential
    return DefaultAzureCredential(exclude_interactive_browser_credential=True, **kwargs)


class ImdsThenDefault:
    """IMDS first; when no IMDS answers, DefaultAzureCredential without its managed-identity
    leg (which would only ask IMDS again). Same order as DefaultAzureCredential's own chain
    when no credential variable is set, minus the probe."""

    def __init__(self, imds: ImdsCredential, fallback: Callable[[], object] = None):
        self.imds = imds
        self._make_fallback = fallback or (lambda: _default_azure_credential(
            exclude_managed_identity_credential=True))
        self._fallback = None
        self._why: Optional[str] = None

    def _call(self, method: str, *scopes, **kwargs):
        if self._fallback is None:
            try:
                return getattr(self.imds, method)(*scopes, **kwargs)
            except ImdsUnavailable as exc:
                self._why = exc.message
                log.debug("%s; trying DefaultAzureCredential's other credentials", exc.message)
                self._fallback = self._make_fallback()
        try:
            return getattr(self._fallback, method)(*scopes, **kwargs)
        except ClientAuthenticationError as exc:
            first = " ".join(str(exc.message).split())[:400]
            # translate() shows the first sentence: keep it free of dots.
            raise ClientAuthenticationError(
                f"no managed identity answered and DefaultAzureCredential found no other "
                f"credential. IMDS: {self._why}; {first}") from None

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        return self._call("get_token", *scopes, **kwargs)

    def get_token_info(self, *scopes: str, options=None) -> AccessTokenInfo:
        if self._fallback is not None and not hasattr(self._fallback, "get_token_info"):
            token = self._fallback.get_token(*scopes)
            return AccessTokenInfo(token.token, token.expires_on)
        return self._call("get_token_info", *scopes, options=options)

    def close(self) -> None:
        if self._fallback is not None and hasattr(self._fallback, "close"):
            self._fallback.close()


def default_credential(head_start=None):
    """The credential for this environment: IMDS directly when nothing else is configured,
    else DefaultAzureCredential (AZURE_CLIENT_ID picks the user-assigned identity either way).
    `head_start`: the first token request, started earlier (headstart.token)."""
    if uses_other_credential():
        return _default_azure_credential()
    return ImdsThenDefault(ImdsCredential.from_environment(head_start=head_start))
