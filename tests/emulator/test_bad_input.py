"""Bad input gets the ARM-shaped 400/404/405 a real endpoint gives; the server stays up."""

from __future__ import annotations

import socket
import ssl

import pytest

from .conftest import ACI_PREFIX, CG1, GW_ID, NET, RG, SUB

ZONE_PATH = f"{NET}/privateDnsZones/corp.internal"


def _arm_error(resp, status, code):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in resp.text
    assert resp.headers["x-ms-request-id"]
    return body["error"]


@pytest.mark.parametrize("payload", [b"{not json", b"", b"[1, 2]", b"\xff\xfe", b"null"])
def test_malformed_bodies(raw, payload):
    _arm_error(raw("PUT", GW_ID, raw=payload), 400, "InvalidRequestContent")
    _arm_error(raw("PUT", f"{ZONE_PATH}/A/app", raw=payload, api_version="2024-06-01"), 400, "InvalidRequestContent")


def test_gateway_bodies_missing_or_wrong_fields(raw, emu):
    doc = emu.get(GW_ID)
    no_location = {k: v for k, v in doc.items() if k != "location"}
    _arm_error(raw("PUT", GW_ID, no_location), 400, "LocationRequired")
    bare_strings = emu.get(GW_ID)
    bare_strings["properties"]["backendAddressPools"][0]["properties"]["backendAddresses"] = ["10.0.2.4"]
    err = _arm_error(raw("PUT", GW_ID, bare_strings), 400, "InvalidRequestFormat")
    assert "properties.backendAddressPools[0].properties.backendAddresses[0]" in err["details"][0]["message"]
    snake = emu.get(GW_ID)
    snake["properties"]["backendAddressPools"][0]["properties"]["backendAddresses"].append({"ip_address": "10.0.2.9"})
    _arm_error(raw("PUT", GW_ID, snake), 400, "ApplicationGatewayBackendAddressInvalid")
    bad_ip = emu.get(GW_ID)
    bad_ip["properties"]["backendAddressPools"][0]["properties"]["backendAddresses"].append({"ipAddress": "10.0.2.999"})
    _arm_error(raw("PUT", GW_ID, bad_ip), 400, "InvalidRequestFormat")
    dropped_pool = emu.get(GW_ID)
    dropped_pool["properties"]["backendAddressPools"].pop(0)  # still referenced by a rule
    err = _arm_error(raw("PUT", GW_ID, dropped_pool), 400, "InvalidResourceReference")
    assert "backendAddressPools/aci-app-pool" in err["message"]
    twice = emu.get(GW_ID)
    twice["properties"]["backendAddressPools"].append(dict(twice["properties"]["backendAddressPools"][1]))
    _arm_error(raw("PUT", GW_ID, twice), 400, "DuplicateResourceName")
    nameless = emu.get(GW_ID)
    del nameless["properties"]["probes"][0]["name"]
    _arm_error(raw("PUT", GW_ID, nameless), 400, "InvalidRequestFormat")
    _arm_error(raw("PUT", GW_ID, {"location": "westeurope", "properties": []}), 400, "InvalidRequestFormat")
    _arm_error(raw("PATCH", GW_ID, {"tags": ["x"]}), 400, "InvalidRequestFormat")
    assert [e["status"] for e in emu.log()] == [400] * 9
    assert emu.get(GW_ID)["properties"]["provisioningState"] == "Succeeded"  # nothing was applied


def test_dns_bodies_with_wrong_fields(raw):
    def put(body, rtype="A"):
        return raw("PUT", f"{ZONE_PATH}/{rtype}/x", body, api_version="2024-06-01")

    _arm_error(put({"properties": {"aRecords": [{"ipv4Address": "10.0.0.300"}]}}), 400, "BadRequest")
    _arm_error(put({"properties": {"aRecords": [{"ipv4Address": "fe80::1"}]}}), 400, "BadRequest")
    _arm_error(put({"properties": {"ttl": -1}}), 400, "BadRequest")
    _arm_error(put({"properties": {"ptrRecords": [{"ptrdname": "x"}]}}), 400, "BadRequest")
    _arm_error(put({"properties": "nope"}), 400, "BadRequest")
    _arm_error(put({"properties": {"txtRecords": [{"value": "not-a-list"}]}}, "TXT"), 400, "BadRequest")
    _arm_error(raw("PUT", f"{NET}/privateDnsZones/new.internal", {"tags": {}}, api_version="2024-06-01"), 400, "LocationRequired")


def test_unknown_routes(raw, emu):
    _arm_error(raw("GET", "/nothing/here"), 404, "NotFound")
    _arm_error(raw("GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/loadBalancers/lb"), 404, "InvalidResourceType")
    _arm_error(raw("GET", f"{GW_ID}/backendAddressPools/aci-app-pool"), 404, "InvalidResourceType")
    _arm_error(raw("GET", f"{ZONE_PATH}/BOGUS/x", api_version="2024-06-01"), 404, "InvalidResourceType")
    _arm_error(raw("GET", f"{ZONE_PATH}/virtualNetworkLinks/l", api_version="2024-06-01"), 404, "InvalidResourceType")
    _arm_error(raw("GET", GW_ID.replace(SUB, "0000aaaa-0000-0000-0000-000000000000")), 404, "SubscriptionNotFound")
    _arm_error(raw("GET", f"/subscriptions/{SUB}/providers/Microsoft.Network/locations/westeurope/operations/nope"), 404, "OperationNotFound")
    _arm_error(raw("GET", emu.base_url + "/_emulator/nothing", api_version=None), 404, "NotFound")


def test_wrong_methods(raw):
    err = raw("POST", GW_ID)
    _arm_error(err, 405, "MethodNotAllowed")
    assert err.headers["Allow"] == "GET, PUT, PATCH, DELETE"
    _arm_error(raw("DELETE", "/subscriptions"), 405, "MethodNotAllowed")
    _arm_error(raw("PUT", CG1, {"location": "westeurope"}), 405, "MethodNotAllowed")
    _arm_error(raw("GET", f"{CG1}/restart"), 405, "MethodNotAllowed")
    _arm_error(raw("OPTIONS", GW_ID), 405, "MethodNotAllowed")
    assert raw("HEAD", GW_ID).status_code == 405
    _arm_error(raw("FOO", GW_ID), 405, "MethodNotAllowed")


def test_missing_api_version(raw):
    err = _arm_error(raw("GET", GW_ID, api_version=None), 400, "MissingApiVersionParameter")
    assert "api-version" in err["message"]


def test_paths_are_case_insensitive_and_any_api_version_is_accepted(raw):
    upper = GW_ID.upper().replace(SUB.upper(), SUB)
    resp = raw("GET", upper.replace("/SUBSCRIPTIONS/", "/subscriptions/"), api_version="2019-06-01")
    assert resp.status_code == 200 and resp.json()["id"] == GW_ID
    listing = raw("GET", f"{ACI_PREFIX}".lower(), api_version="2099-01-01-preview")
    assert listing.status_code == 200 and len(listing.json()["value"]) == 2


def _tls_socket(emu):
    ctx = ssl.create_default_context(cafile=emu.ca_path)
    sock = socket.create_connection(("127.0.0.1", emu.port), timeout=5)
    return ctx.wrap_socket(sock, server_hostname="127.0.0.1")


def test_protocol_garbage_never_hangs_or_kills_the_server(emu, raw):
    with _tls_socket(emu) as s:  # a request line that is not HTTP
        s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        reply = s.recv(65536)
        assert reply.startswith(b"HTTP/1.1 400") and b'"error"' in reply and b"Traceback" not in reply
    with _tls_socket(emu) as s:  # a bad Content-Length
        s.sendall(f"PUT {GW_ID}?api-version=1 HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n".encode())
        assert s.recv(65536).startswith(b"HTTP/1.1 400")
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as s:  # plain HTTP on the TLS port
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            s.recv(1024)
        except OSError:
            pass
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5):
        pass  # connect and hang up before the handshake
    with _tls_socket(emu) as s:  # a body shorter than announced, then hang up
        s.sendall(f"PUT {GW_ID}?api-version=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 100\r\n\r\n{{".encode())
    assert raw("GET", GW_ID).status_code == 200  # still serving


def test_chunked_request_body(emu):
    body = b'{"tags": {"chunked": "yes"}}'
    with _tls_socket(emu) as s:
        s.sendall(
            f"PATCH {GW_ID}?api-version=2026-03-01 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
            f"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".encode()
            + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        )
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert emu.get(GW_ID)["tags"] == {"chunked": "yes"}
