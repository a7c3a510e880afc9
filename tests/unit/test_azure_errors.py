"""Narrow HTTP edge cases of the error translation, with `responses` standing in for the wire
(the SDK client itself is real; only the HTTP layer is scripted). No network is used."""
from __future__ import annotations

import json

import pytest
import responses

from aci_ip_registrar.azure_errors import translate
from aci_ip_registrar.errors import (PermissionDenied, RegistrationFailed, Retryable)
from aci_ip_registrar.retry import MAX_RETRY_AFTER, Budget, with_retries

BASE = "https://127.0.0.1:1"
SUB = "3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f"
URL = (f"{BASE}/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/"
       f"applicationGateways/agw")


class StaticToken:
    """A hand-written credential fake at our seam (the token is never checked here)."""

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken
        return AccessToken("fake-token", 4102444800)

    def get_token_info(self, *scopes, options=None):
        from azure.core.credentials import AccessTokenInfo
        return AccessTokenInfo("fake-token", 4102444800)


def _get_error(status, body, headers=None, extra=()):
    from azure.mgmt.network import NetworkManagementClient
    client = NetworkManagementClient(StaticToken(), SUB, base_url=BASE, retry_total=0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, URL, status=status, body=json.dumps(body),
                 headers=headers or {}, content_type="application/json")
        for method, url, code, reply in extra:
            mock.add(method, url, status=code, body=json.dumps(reply),
                     content_type="application/json")
        with pytest.raises(Exception) as info:
            client.application_gateways.get("rg", "agw")
    return translate(info.value, "appgw agw/pool")


def test_capitalised_nrp_429_body_still_retryable():
    err = _get_error(429, {"Error": {"Code": "RetryableError", "Message": "busy"}},
                     {"Retry-After": "3"})
    assert isinstance(err, Retryable) and err.retry_after == 3.0


def test_409_other_than_another_operation_fails_fast():
    # azure-mgmt-core first tries to register the provider; a least-privilege identity is
    # refused (403), and the original 409 surfaces.
    register = (responses.POST, f"{BASE}/subscriptions/{SUB}/providers/Microsoft.Network/register",
                403, {"error": {"code": "AuthorizationFailed", "message": "no register"}})
    err = _get_error(409, {"error": {"code": "MissingSubscriptionRegistration",
                                     "message": "The subscription is not registered to use "
                                                "namespace 'Microsoft.Network'."}},
                     extra=[register])
    assert isinstance(err, RegistrationFailed) and not isinstance(err, Retryable)
    assert "MissingSubscriptionRegistration" in err.message


def test_409_another_operation_in_progress_retryable():
    err = _get_error(409, {"error": {"code": "AnotherOperationInProgress",
                                     "message": "Another operation on this or dependent "
                                                "resource is in progress."}})
    assert isinstance(err, Retryable)


def test_401_is_permission_denied():
    err = _get_error(401, {"error": {"code": "InvalidAuthenticationToken",
                                     "message": "The access token is invalid."}})
    assert isinstance(err, PermissionDenied) and "401" in err.message


def test_400_fails_fast_with_azure_message():
    err = _get_error(400, {"error": {"code": "ApplicationGatewayBackendAddressPoolInvalid",
                                     "message": "Backend address 300.1.1.1 is invalid."}})
    assert isinstance(err, RegistrationFailed) and not isinstance(err, Retryable)
    assert "300.1.1.1" in err.message


def test_502_without_error_body_retryable():
    err = _get_error(502, {"message": "Bad gateway"})
    assert isinstance(err, Retryable)


def test_failed_operation_with_another_operation_in_progress_is_retryable():
    from azure.core.exceptions import HttpResponseError
    exc = HttpResponseError(message="(AnotherOperationInProgress) busy")

    class E:  # the parsed `error` of an LRO status body, as azure-core exposes it
        code = "AnotherOperationInProgress"
        message = "Another operation on this or dependent resource is in progress."
        details = []
    exc.error = E()
    exc.status_code = 200
    assert isinstance(translate(exc, "t"), Retryable)


def test_huge_retry_after_uses_what_is_left_and_never_sleeps_past_the_budget():
    import time
    budget = Budget(0.5)
    calls = []

    def always_throttled(attempt):
        calls.append((attempt, time.monotonic()))
        raise Retryable("throttled", retry_after=3600, code="TooManyRequests")

    with pytest.raises(RegistrationFailed, match="gave up after 2 attempt"):
        with_retries(always_throttled, what="t", budget=budget)
    # the wait was cut to the time left (minus room for the last attempt), not skipped
    assert 0.3 <= calls[1][1] - calls[0][1] <= 0.45
    assert time.monotonic() <= budget.deadline + 0.05
    assert MAX_RETRY_AFTER <= 60


def test_backoff_longer_than_the_time_left_still_tries_again():
    budget = Budget(1.0)
    calls = []

    def fails_then_works(attempt):
        calls.append(attempt)
        if attempt == 1:
            raise Retryable("busy", retry_after=5, code="AnotherOperationInProgress")
        return "ok"

    assert with_retries(fails_then_works, what="t", budget=budget) == "ok"
    assert calls == [1, 2]


@pytest.mark.parametrize("headers,expected", [
    ({"Retry-After": "7"}, 7.0), ({"retry-after-ms": "250"}, 0.25),
    ({"x-ms-retry-after-ms": "1500"}, 1.5), ({"Retry-After": "0.05", "retry-after-ms": "50"}, 0.05),
    ({}, None), ({"Retry-After": "soon"}, None),
])
def test_retry_after_forms(headers, expected):
    err = _get_error(429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, headers)
    assert err.retry_after == expected


def test_retry_after_http_date():
    from email.utils import format_datetime
    from datetime import datetime, timedelta, timezone
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    err = _get_error(503, {"error": {"code": "ServiceUnavailable", "message": "x"}},
                     {"Retry-After": when})
    assert 25 <= err.retry_after <= 31


def test_contended_writes_spread_over_a_doubling_window():
    import random
    from aci_ip_registrar.retry import CONTENTION_CAP, _Policy, contended

    class State:
        def __init__(self, n, exc):
            self.attempt_number = n
            self.outcome = type("O", (), {"exception": lambda _self: exc})()
    lost = Retryable("read-back differs", code="ReadBackMismatch")
    assert contended(lost) and contended(Retryable("412", status=412))
    assert not contended(Retryable("5xx", status=503, code="ServiceUnavailable"))
    policy = _Policy(Budget(1000), "t", random.Random(7))
    for n, window in ((1, 0.5), (4, 4.0), (10, CONTENTION_CAP)):
        delays = [policy._delay(State(n, lost)) for _ in range(200)]
        assert 0 <= min(delays) < window * 0.2 and window * 0.8 < max(delays) <= window
