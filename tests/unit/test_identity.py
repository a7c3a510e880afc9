"""The IMDS managed-identity credential against a small IMDS written here, on 127.0.0.1.

What it must keep from azure-identity: the request form (Metadata: true, api-version, resource,
client_id), the token cache and its refresh 5 minutes before expiry, bounded retries on
404/410/429/5xx honouring Retry-After, and a clear "unavailable" when no IMDS answers.
"""
from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError

from aci_ip_registrar.imds import OTHER_CREDENTIALS
from aci_ip_registrar.azure_errors import translate
from aci_ip_registrar.errors import CredentialUnavailable
from aci_ip_registrar.identity import (ImdsCredential, ImdsThenDefault, ImdsUnavailable,
                                       default_credential)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_imds import FakeImds  # noqa: E402

SCOPE = "https://management.azure.com/.default"


@pytest.fixture
def imds():
    server = FakeImds()
    yield server
    server.close()


class Clock:
    def __init__(self):
        self.now = time.time()
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_token_request_has_the_imds_form(imds):
    cred = ImdsCredential(imds.authority)
    token = cred.get_token(SCOPE)
    assert token.token == "token-1"
    assert token.expires_on >= int(time.time()) + 3500
    [req] = imds.requests
    assert req["path"] == "/metadata/identity/oauth2/token"
    assert req["metadata"] == "true"
    assert req["query"] == {"api-version": "2018-02-01",
                            "resource": "https://management.azure.com"}


def test_client_id_from_the_environment(imds, monkeypatch):
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.authority)
    monkeypatch.setenv("AZURE_CLIENT_ID", "5c1f4a3e-0000-4000-8000-00000000abcd")
    ImdsCredential.from_environment().get_token(SCOPE)
    assert imds.requests[0]["query"]["client_id"] == "5c1f4a3e-0000-4000-8000-00000000abcd"
    monkeypatch.delenv("AZURE_CLIENT_ID")
    ImdsCredential.from_environment().get_token(SCOPE)
    assert "client_id" not in imds.requests[1]["query"]


def test_cached_token_is_reused_while_valid(imds):
    clock = Clock()
    cred = ImdsCredential(imds.authority, clock=clock, sleep=clock.sleep)
    first = cred.get_token(SCOPE)
    clock.now += 3000        # 600 s left: still more than the 300 s refresh margin
    again = cred.get_token_info(SCOPE)
    assert again.token == first.token == "token-1"
    assert len(imds.requests) == 1


def test_token_is_refreshed_near_expiry(imds):
    clock = Clock()
    cred = ImdsCredential(imds.authority, clock=clock, sleep=clock.sleep)
    assert cred.get_token(SCOPE).token == "token-1"
    clock.now += 3600 - 299  # inside the last 5 minutes
    assert cred.get_token(SCOPE).token == "token-2"
    assert len(imds.requests) == 2


def test_refresh_failure_keeps_a_still_valid_token(imds):
    clock = Clock()
    cred = ImdsCredential(imds.authority, retries=0, clock=clock, sleep=clock.sleep)
    cred.get_token(SCOPE)
    clock.now += 3600 - 200
    imds.script = [(500, {"error": "boom"}, {})]
    assert cred.get_token(SCOPE).token == "token-1"
    clock.now += 190         # 10 s left: too close to trust, so the next failure is raised
    imds.script = [(500, {"error": "boom"}, {})]
    with pytest.raises(ClientAuthenticationError):
        cred.get_token(SCOPE)


def test_retries_on_429_and_5xx_honouring_retry_after(imds):
    clock = Clock()
    imds.script = [(429, {"error": "throttled"}, {"Retry-After": "2"}),
                   (503, {"error": "unavailable"}, {}),
                   (410, {"error": "gone"}, {})]
    cred = ImdsCredential(imds.authority, clock=clock, sleep=clock.sleep)
    assert cred.get_token(SCOPE).token == "token-4"
    assert len(imds.requests) == 4
    assert clock.slept == [2.0, 0.8 * 2, 2.5 * 4]   # Retry-After, then backoff (longer for 410)


def test_retries_are_bounded(imds):
    clock = Clock()
    imds.script = [(500, {"error": "server_error", "error_description": "down"}, {})] * 10
    cred = ImdsCredential(imds.authority, retries=3, clock=clock, sleep=clock.sleep)
    with pytest.raises(ClientAuthenticationError) as info:
        cred.get_token(SCOPE)
    assert not isinstance(info.value, ImdsUnavailable)
    assert len(imds.requests) == 4 and len(clock.slept) == 3
    assert "500" in info.value.message and "down" in info.value.message


def test_no_identity_assigned_is_unavailable(imds):
    imds.script = [(400, {"error": "invalid_request",
                          "error_description": "Identity not found"}, {})]
    with pytest.raises(ImdsUnavailable) as info:
        ImdsCredential(imds.authority).get_token(SCOPE)
    assert "Identity not found" in info.value.message
    assert len(imds.requests) == 1


def test_unreachable_imds_is_a_clear_error_without_retries():
    authority = f"http://127.0.0.1:{closed_port()}"
    clock = Clock()
    cred = ImdsCredential(authority, clock=clock, sleep=clock.sleep)
    with pytest.raises(ImdsUnavailable) as info:
        cred.get_token(SCOPE)
    assert authority in info.value.message and "no managed identity endpoint" in \
        info.value.message
    assert cred.requests == 1 and clock.slept == []
    err = translate(info.value, "appgw agw/pool")
    assert isinstance(err, CredentialUnavailable)
    assert "no usable Azure credential" in err.message


def test_chain_falls_back_once_when_no_imds_answers():
    class Fallback:
        calls = 0

        def get_token(self, *scopes, **kw):
            from azure.core.credentials import AccessToken
            Fallback.calls += 1
            return AccessToken("from-cli", int(time.time()) + 3600)

    imds_cred = ImdsCredential(f"http://127.0.0.1:{closed_port()}")
    chain = ImdsThenDefault(imds_cred, fallback=Fallback)
    assert chain.get_token(SCOPE).token == "from-cli"
    assert chain.get_token_info(SCOPE).token == "from-cli"
    assert imds_cred.requests == 1 and Fallback.calls == 2   # IMDS is not asked again


def test_chain_reports_both_when_nothing_answers():
    class Nothing:
        def get_token(self, *scopes, **kw):
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")

    chain = ImdsThenDefault(ImdsCredential(f"http://127.0.0.1:{closed_port()}"),
                            fallback=Nothing)
    with pytest.raises(ClientAuthenticationError) as info:
        chain.get_token(SCOPE)
    err = translate(info.value, "appgw agw/pool")
    assert isinstance(err, CredentialUnavailable)
    assert err.message == ("appgw agw/pool: no usable Azure credential: no managed identity "
                           "answered and DefaultAzureCredential found no other credential")


def test_chain_does_not_fall_back_when_imds_refuses(imds):
    imds.script = [(403, {"error": "forbidden", "error_description": "denied"}, {})]
    chain = ImdsThenDefault(ImdsCredential(imds.authority),
                            fallback=lambda: pytest.fail("must not fall back"))
    with pytest.raises(ClientAuthenticationError, match="denied"):
        chain.get_token(SCOPE)


@pytest.mark.parametrize("variable", OTHER_CREDENTIALS)
def test_other_credential_variables_select_default_azure_credential(monkeypatch, variable):
    for name in OTHER_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    assert isinstance(default_credential(), ImdsThenDefault)
    # AZURE_TOKEN_CREDENTIALS takes only a credential name (azure-identity checks it)
    monkeypatch.setenv(variable, "prod" if variable == "AZURE_TOKEN_CREDENTIALS" else "x")
    cred = default_credential()
    assert type(cred).__name__ == "DefaultAzureCredential"


# -- the head start (imds.py): the first request sent before azure-core is imported -------------

def _head_start(authority, resource="https://management.azure.com", client_id=None):
    from aci_ip_registrar import headstart, imds as wire
    early = headstart.TokenStart(authority, wire.target(resource, client_id), 10.0)
    headstart.start([early])
    return early


def test_head_start_is_the_credentials_first_attempt(imds):
    early = _head_start(imds.authority)
    early.result()
    assert len(imds.requests) == 1           # sent before anyone asked for a token
    cred = ImdsCredential(imds.authority, head_start=early)
    assert cred.get_token(SCOPE).token == "token-1"
    assert len(imds.requests) == 1 and cred.requests == 1
    assert cred.get_token(SCOPE).token == "token-1"     # cached, as without a head start
    assert len(imds.requests) == 1


def test_head_start_answer_goes_through_the_credentials_retries(imds):
    imds.script = [(500, {"error": "busy"}, {"Retry-After": "0"})]
    clock = Clock()
    cred = ImdsCredential(imds.authority, clock=clock, sleep=clock.sleep,
                          head_start=_head_start(imds.authority))
    assert cred.get_token(SCOPE).token == "token-2"
    assert len(imds.requests) == 2 and cred.requests == 2


def test_head_start_failure_is_raised_where_the_request_would_have_failed():
    authority = f"http://127.0.0.1:{closed_port()}"
    cred = ImdsCredential(authority, head_start=_head_start(authority))
    with pytest.raises(ImdsUnavailable, match="no managed identity endpoint"):
        cred.get_token(SCOPE)
    assert cred.requests == 1


def test_head_start_for_another_request_is_not_taken(imds):
    early = _head_start(imds.authority, resource="https://other.example")
    early.result()
    cred = ImdsCredential(imds.authority, head_start=early)
    assert cred.get_token(SCOPE).token == "token-2"     # its own request, not the early one
    assert [r["query"]["resource"] for r in imds.requests] == \
        ["https://other.example", "https://management.azure.com"]


def test_no_head_start_when_the_environment_names_another_credential(monkeypatch, imds):
    from aci_ip_registrar import headstart
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.authority)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "s")
    assert headstart.token("https://management.azure.com") is None
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    monkeypatch.setenv("AZURE_CLIENT_ID", "cid")
    early = headstart.token("https://management.azure.com")
    headstart.start([early])
    early.result()
    [req] = imds.requests
    assert req["query"]["client_id"] == "cid" and req["metadata"] == "true"


def test_nothing_leaves_before_the_ip_and_member_have_passed_their_checks():
    """The head start is sent only after what is known without Azure is checked: a bad --ip
    exits with no token request and no connection (tests/data/bad_inputs.json)."""
    from aci_ip_registrar.config import Settings
    from aci_ip_registrar.errors import RegistrarError
    from aci_ip_registrar.retry import Budget
    from aci_ip_registrar.runner import Report, register

    class Clients:
        started = 0

        def head_start(self):
            self.started += 1

    clients = Clients()
    for settings in (Settings([], member="cg-a", ip="8.8.8.8"),
                     Settings([], member="cg-a", interface="nosuch0")):
        with pytest.raises(RegistrarError):
            register(settings, clients, Budget(5), Report("cg-a", None, False))
    assert clients.started == 0
    register(Settings([], member="cg-a", ip="10.0.0.4"), clients, Budget(5),
             Report("cg-a", None, False))
    assert clients.started == 1                    # a good IP: started, before any read
