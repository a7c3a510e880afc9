"""The managed-identity endpoints (IMDS by default, App Service as the option), bearer checks, and
what the Azure CLI needs."""

from __future__ import annotations

import jwt
import requests

from .conftest import SUB, TENANT


def test_default_azure_credential_gets_its_token_from_the_emulator(credential, emu):
    token = credential.get_token("https://management.azure.com/.default")
    assert token.token in emu.issued_tokens
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["tid"] == TENANT  # what `az login --identity` matches against /subscriptions
    assert claims["aud"] == "https://management.azure.com"
    assert {"oid", "exp", "iat", "iss"} <= set(claims)
    assert token.expires_on > claims["iat"] + 3600
    entry = emu.log()[-1]
    assert entry["kind"] == "token" and entry["status"] == 200 and entry["path"] == "/msi/token"
    assert token.token not in str(emu.log())  # tokens never reach the log


def test_user_assigned_identity_client_id(identity_env, emu):
    from azure.identity import ManagedIdentityCredential

    cred = ManagedIdentityCredential(client_id="11111111-2222-3333-4444-555555555555")
    claims = jwt.decode(cred.get_token("https://management.azure.com/.default").token, options={"verify_signature": False})
    assert claims["appid"] == "11111111-2222-3333-4444-555555555555"
    assert emu.log()[-1]["query"]["client_id"] == "11111111-2222-3333-4444-555555555555"


def test_token_endpoint_checks_the_identity_header(emu):
    url = emu.identity_endpoint
    params = {"api-version": "2019-08-01", "resource": "https://management.azure.com"}
    missing = requests.get(url, params=params, timeout=5)
    assert missing.status_code == 400 and "X-IDENTITY-HEADER" in missing.json()["message"]
    wrong = requests.get(url, params=params, headers={"X-IDENTITY-HEADER": "nope"}, timeout=5)
    assert wrong.status_code == 401
    ok = requests.get(url, params=params, headers={"X-IDENTITY-HEADER": emu.identity_header}, timeout=5)
    body = ok.json()
    assert ok.status_code == 200 and set(body) >= {"access_token", "expires_on", "resource", "token_type"}
    assert body["resource"] == "https://management.azure.com" and body["token_type"] == "Bearer"
    no_resource = requests.get(url, params={"api-version": "2019-08-01"}, headers={"X-IDENTITY-HEADER": emu.identity_header}, timeout=5)
    assert no_resource.status_code == 400
    assert requests.get(url.replace("/msi/token", "/other"), timeout=5).status_code == 404
    assert emu.counts()["tokens"] == 5
    assert emu.issued_tokens == [body["access_token"]]


def test_arm_rejects_a_missing_bearer_token(emu, raw):
    resp = requests.get(f"{emu.base_url}/subscriptions", params={"api-version": "2022-12-01"}, verify=emu.ca_path, timeout=5)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    basic = raw("GET", "/subscriptions", headers={"Authorization": "Basic abc"}, api_version="2022-12-01")
    assert basic.status_code == 401


def test_subscriptions_tenants_and_cloud_metadata(emu, raw):
    subs = raw("GET", "/subscriptions", api_version="2022-12-01").json()
    assert [s["subscriptionId"] for s in subs["value"]] == [SUB]
    assert subs["value"][0]["tenantId"] == TENANT and subs["value"][0]["state"] == "Enabled"
    one = raw("GET", f"/subscriptions/{SUB}", api_version="2022-12-01")
    assert one.status_code == 200 and one.json()["displayName"] == "Contoso Demo"
    missing = raw("GET", "/subscriptions/00000000-0000-0000-0000-00000000dead", api_version="2022-12-01")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SubscriptionNotFound"
    assert raw("GET", "/tenants", api_version="2022-12-01").json()["value"][0]["tenantId"] == TENANT
    # `az cloud register --endpoint-resource-manager https://127.0.0.1:PORT/` asks with a double slash.
    legacy = requests.get(emu.base_url + "//metadata/endpoints?api-version=2015-01-01", verify=emu.ca_path, timeout=5)
    assert legacy.status_code == 200
    assert legacy.json()["authentication"]["audiences"][0] == "https://management.core.windows.net/"
    clouds = requests.get(emu.base_url + "/metadata/endpoints?api-version=2019-05-01", verify=emu.ca_path, timeout=5).json()
    assert clouds[0]["resourceManager"] == emu.base_url + "/"
    assert all(v.startswith(emu.base_url) for v in (clouds[0]["authentication"]["loginEndpoint"], clouds[0]["graph"]))
    # azure-cli's `az cloud register` asks for 2022-09-01 and maps one cloud object.
    cloud = requests.get(emu.base_url + "//metadata/endpoints?api-version=2022-09-01", verify=emu.ca_path, timeout=5).json()
    assert isinstance(cloud, dict) and cloud["resourceManager"] == emu.base_url + "/"
    assert cloud["name"] and cloud["suffixes"] and cloud["authentication"]["audiences"]


def test_env_has_everything_a_client_needs(emu):
    env = emu.env()
    assert env == {
        "ACI_IP_REGISTRAR_ARM_ENDPOINT": emu.base_url,
        "ACI_IP_REGISTRAR_CA_BUNDLE": emu.ca_path,
        "REQUESTS_CA_BUNDLE": emu.ca_path,
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": emu.imds_authority,
        "AZURE_SUBSCRIPTION_ID": SUB,
    }
    emu.set(identity_form="appservice")
    env = emu.env()
    assert env["IDENTITY_ENDPOINT"] == emu.identity_endpoint and env["IDENTITY_HEADER"] == emu.identity_header
    assert "AZURE_POD_IDENTITY_AUTHORITY_HOST" not in env
    assert emu.base_url.startswith("https://127.0.0.1:") and emu.identity_endpoint.startswith("http://127.0.0.1:")


def test_default_azure_credential_uses_the_imds_form_on_loopback(emu, monkeypatch):
    """ACI containers get tokens from IMDS (container-instances-managed-identity.md); azure-identity
    and msal read its base URL from AZURE_POD_IDENTITY_AUTHORITY_HOST."""
    from azure.identity import DefaultAzureCredential

    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "AZURE_CLIENT_ID",
                 "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu.env()["AZURE_POD_IDENTITY_AUTHORITY_HOST"])
    token = DefaultAzureCredential().get_token("https://management.azure.com/.default")
    assert token.token in emu.issued_tokens
    entry = [e for e in emu.log() if e["kind"] == "token"][-1]
    assert entry["path"] == "/metadata/identity/oauth2/token" and entry["status"] == 200
    assert entry["query"]["api-version"] == "2018-02-01" and entry["query"]["resource"] == "https://management.azure.com"


def test_imds_endpoint_shape_and_errors(emu):
    url = emu.imds_authority + "/metadata/identity/oauth2/token"
    params = {"api-version": "2018-02-01", "resource": "https://management.azure.com"}
    missing = requests.get(url, params=params, timeout=5)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert requests.get(url, params={"api-version": "2018-02-01"}, headers={"Metadata": "true"}, timeout=5).status_code == 400
    body = requests.get(url, params=params, headers={"Metadata": "true"}, timeout=5).json()
    # expires_in / expires_on (and the other numbers) come as strings.
    assert all(isinstance(body[k], str) for k in ("expires_in", "expires_on", "ext_expires_in", "not_before"))
    assert int(body["expires_on"]) - int(body["expires_in"]) == int(body["not_before"])
    assert body["token_type"] == "Bearer" and body["resource"] == "https://management.azure.com"
