"""The http.client transport (transport.py) against a real TLS server on loopback, with its own
generated CA: verification, keep-alive reuse, timeouts, streaming, and the same azure-core
exceptions as RequestsTransport for the same failures (each failure is sent through both)."""
from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from azure.core import PipelineClient
from azure.core.exceptions import (IncompleteReadError, ServiceRequestError,
                                   ServiceRequestTimeoutError, ServiceResponseError,
                                   ServiceResponseTimeoutError)
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

from aci_ip_registrar.azure_errors import translate
from aci_ip_registrar.emulator import tls
from aci_ip_registrar.errors import ConfigError, Retryable
from aci_ip_registrar.transport import HttpClientTransport

DOC = {"name": "agw", "properties": {"backendAddressPools": [{"name": "p"}]}}


class Server:
    """HTTPS on 127.0.0.1: counts connections and requests; a path picks the behaviour."""

    def __init__(self, workdir):
        self.ca, chain, key = tls.generate(workdir)
        self.connections = 0
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                server.connections += 1
                super().setup()

            def _reply(self, status=200, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                if not any(k.lower() == "transfer-encoding" for k, _ in headers):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append({"method": self.command, "path": self.path,
                                        "headers": dict(self.headers), "body": body})
                path = self.path.split("?")[0]
                data = json.dumps(DOC).encode()
                if path == "/slow":
                    time.sleep(2)
                if path == "/echo":
                    self._reply(200, json.dumps({"method": self.command, "body": body.decode(),
                                                 "headers": dict(self.headers)}).encode(),
                                [("Content-Type", "application/json")])
                elif path == "/gzip":
                    self._reply(200, gzip.compress(data), [("Content-Type", "application/json"),
                                                           ("Content-Encoding", "gzip")])
                elif path == "/chunked":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for part in (data[:10], data[10:]):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                elif path == "/short":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(data[:10])
                    self.close_connection = True
                elif path == "/hangup":
                    self.close_connection = True       # no answer at all
                elif path == "/idle-close":
                    self._reply(200, data, [("Content-Type", "application/json")])
                    self.close_connection = True       # as a server's idle timeout would
                elif path == "/dup":
                    self._reply(200, b"{}", [("X-A", "1"), ("X-A", "2")])
                else:
                    self._reply(200, data, [("Content-Type", "application/json")])

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass        # clients that hang up or refuse the certificate, on purpose

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(chain, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("tls"))
    yield s
    s.close()


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    return str(tls.generate(tmp_path_factory.mktemp("other"))[0])


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy",
                 "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def send(transport, url, method="GET", **kwargs):
    # Not `with PipelineClient(...)`: leaving it closes the transport, as with RequestsTransport.
    client = PipelineClient(url, transport=transport, policies=[])
    return client.send_request(HttpRequest(method, url, json=kwargs.pop("json", None)),
                               **kwargs)


def both(ca):
    return [HttpClientTransport(connection_verify=ca), RequestsTransport(connection_verify=ca)]


# -- TLS -------------------------------------------------------------------------------------------
def test_verifies_against_the_given_ca(server):
    t = HttpClientTransport(connection_verify=str(server.ca))
    response = send(t, server.url + "/json")
    assert response.status_code == 200 and response.json() == DOC
    assert t.fallback_requests == 0


def test_wrong_ca_fails_as_requests_fails_and_reads_as_a_tls_problem(server, other_ca):
    for transport in both(other_ca):
        with pytest.raises(ServiceRequestError) as info:
            send(transport, server.url + "/json")
        assert type(info.value) is ServiceRequestError, type(transport).__name__
        err = translate(info.value, "appgw agw/p")
        assert isinstance(err, ConfigError) and "TLS verification failed" in err.message


def test_ca_bundle_variables_are_honoured_only_with_env_settings(server, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca))
    assert send(HttpClientTransport(), server.url + "/json").status_code == 200
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("CURL_CA_BUNDLE", str(server.ca))
    assert send(HttpClientTransport(), server.url + "/json").status_code == 200
    with pytest.raises(ServiceRequestError):      # certifi's bundle does not know our CA
        send(HttpClientTransport(use_env_settings=False), server.url + "/json")


@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")
def test_verification_off_goes_through_requests(server):
    t = HttpClientTransport(connection_verify=False)
    assert send(t, server.url + "/json").json() == DOC and t.fallback_requests == 1


def test_missing_ca_bundle_is_the_same_oserror_as_with_requests(server, tmp_path):
    missing = str(tmp_path / "nope.pem")
    for transport in both(missing):
        with pytest.raises(OSError, match="Could not find a suitable TLS CA certificate bundle"):
            send(transport, server.url + "/json")


# -- keep-alive ------------------------------------------------------------------------------------
def test_one_connection_for_sequential_requests(server):
    t = HttpClientTransport(connection_verify=str(server.ca))
    before = server.connections
    for method in ("GET", "PUT", "GET", "DELETE"):
        assert send(t, server.url + "/echo", method, json={"a": 1}).status_code == 200
    assert t.connections_opened == 1 and server.connections - before == 1
    t.close()


def test_a_connection_the_server_closed_is_replaced(server):
    t = HttpClientTransport(connection_verify=str(server.ca))
    assert send(t, server.url + "/idle-close").status_code == 200
    time.sleep(0.1)
    assert send(t, server.url + "/json").json() == DOC
    assert t.connections_opened == 2


def test_a_streamed_response_holds_its_connection_until_read(server):
    t = HttpClientTransport(connection_verify=str(server.ca))
    first = send(t, server.url + "/json", stream=True)
    second = send(t, server.url + "/json")              # the first is still being read
    assert t.connections_opened == 2 and second.json() == DOC
    assert json.loads(b"".join(first.iter_bytes())) == DOC
    send(t, server.url + "/json")
    send(t, server.url + "/json")
    assert t.connections_opened == 2


def test_threads_share_the_pool(server):
    t = HttpClientTransport(connection_verify=str(server.ca))
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        send(t, server.url + "/json").json())) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [DOC] * 8 and 1 <= t.connections_opened <= 8
    opened = t.connections_opened
    send(t, server.url + "/json")
    assert t.connections_opened == opened


# -- bodies and headers ----------------------------------------------------------------------------
def test_request_as_requests_sends_it(server):
    t = HttpClientTransport(connection_verify=str(server.ca))
    echo = send(t, server.url + "/echo", "PUT", json={"ip": "10.0.0.4"}).json()
    assert echo["method"] == "PUT" and json.loads(echo["body"]) == {"ip": "10.0.0.4"}
    headers = {k.lower(): v for k, v in echo["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert headers["accept-encoding"] == "gzip, deflate" and headers["connection"] == "keep-alive"
    empty = send(t, server.url + "/echo", "DELETE").json()
    assert {k.lower(): v for k, v in empty["headers"].items()}["content-length"] == "0"


@pytest.mark.parametrize("path", ["/gzip", "/chunked"])
def test_encoded_bodies_are_decoded(server, path):
    t = HttpClientTransport(connection_verify=str(server.ca))
    assert send(t, server.url + path).json() == DOC
    streamed = send(t, server.url + path, stream=True)
    assert json.loads(b"".join(streamed.iter_bytes())) == DOC
    if path == "/gzip":
        raw = send(t, server.url + path, stream=True)
        assert gzip.decompress(b"".join(raw.iter_raw())) == json.dumps(DOC).encode()


def test_repeated_headers_are_joined_as_requests_joins_them(server):
    for transport in both(str(server.ca)):
        assert send(transport, server.url + "/dup").headers["x-a"] == "1, 2"


def test_stream_download_serves_the_pollers(server):
    t = HttpClientTransport(connection_verify=str(server.ca))
    client = PipelineClient(server.url, transport=t, policies=[])
    response = client.send_request(HttpRequest("GET", server.url + "/json"), stream=True)
    assert json.loads(b"".join(response.stream_download(client._pipeline))) == DOC


# -- failures: the same exception types as RequestsTransport -----------------------------------------
def test_connection_refused(server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for transport in both(str(server.ca)):
        with pytest.raises(ServiceRequestError) as info:
            send(transport, f"https://127.0.0.1:{port}/json")
        assert type(info.value) is ServiceRequestError
        assert isinstance(translate(info.value, "t"), Retryable)


def test_read_timeout_per_call(server):
    for transport in both(str(server.ca)):
        t0 = time.monotonic()
        with pytest.raises(ServiceResponseTimeoutError):
            send(transport, server.url + "/slow", read_timeout=0.3)
        assert time.monotonic() - t0 < 1.8


def test_connect_timeout_covers_the_handshake():
    """A peer that accepts but never answers the TLS handshake: connection_timeout bounds it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    url = f"https://127.0.0.1:{listener.getsockname()[1]}/json"
    try:
        t0 = time.monotonic()
        with pytest.raises((ServiceRequestTimeoutError, ServiceResponseTimeoutError)):
            send(HttpClientTransport(), url, connection_timeout=0.3)
        assert time.monotonic() - t0 < 1.5
    finally:
        listener.close()


def test_no_answer_is_a_response_error(server):
    for transport in both(str(server.ca)):
        with pytest.raises(ServiceResponseError) as info:
            send(transport, server.url + "/hangup")
        assert type(info.value) is ServiceResponseError, type(transport).__name__
        assert isinstance(translate(info.value, "t"), Retryable)


def test_short_body_is_an_incomplete_read(server):
    for transport in both(str(server.ca)):
        with pytest.raises(IncompleteReadError):
            send(transport, server.url + "/short")


# -- what goes to requests ---------------------------------------------------------------------------
class ConnectProxy:
    """An HTTPS (CONNECT) proxy on loopback that counts its tunnels."""

    def __init__(self):
        self.tunnels = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client):
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        host, port = head.split(b" ")[1].decode().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.tunnels += 1
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def close(self):
        self.sock.close()


def test_a_proxy_from_the_environment_goes_through_requests(server, monkeypatch):
    proxy = ConnectProxy()
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        t = HttpClientTransport(connection_verify=str(server.ca))
        assert send(t, server.url + "/json").json() == DOC
        assert t.fallback_requests == 1 and t.connections_opened == 0 and proxy.tunnels == 1
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")       # requests applies NO_PROXY itself
        assert send(t, server.url + "/json").json() == DOC
        assert proxy.tunnels == 1
    finally:
        proxy.close()


def test_a_proxies_option_goes_through_requests(server):
    proxy = ConnectProxy()
    try:
        t = HttpClientTransport(connection_verify=str(server.ca))
        response = send(t, server.url + "/json", proxies={"https": proxy.url})
        assert response.json() == DOC and t.fallback_requests == 1 and proxy.tunnels == 1
    finally:
        proxy.close()


def test_legacy_requests_go_through_requests(server):
    from azure.core.pipeline.transport import HttpRequest as LegacyRequest
    t = HttpClientTransport(connection_verify=str(server.ca))
    response = t.send(LegacyRequest("GET", server.url + "/json"))
    assert json.loads(response.body()) == DOC and t.fallback_requests == 1
    t.close()


def test_a_closed_transport_is_not_reopened(server):
    t = HttpClientTransport(connection_verify=str(server.ca))
    send(t, server.url + "/json")
    t.close()
    with pytest.raises(ValueError, match="already been closed"):
        t.send(HttpRequest("GET", server.url + "/json"))


def test_only_an_idempotent_request_is_resent_after_a_stale_connection(server, monkeypatch):
    """The server closed the kept-alive connection just as it was reused (the check before
    reuse did not see it yet): a GET goes once more on a new connection; a PUT is never
    re-sent (it may have arrived), it fails as requests would have failed."""
    from aci_ip_registrar import transport as T
    monkeypatch.setattr(T._Connection, "dropped", lambda self: False)
    t = HttpClientTransport(connection_verify=str(server.ca))
    send(t, server.url + "/idle-close")
    time.sleep(0.1)
    assert send(t, server.url + "/json").json() == DOC
    assert t.connections_opened == 2
    send(t, server.url + "/idle-close")
    time.sleep(0.1)
    with pytest.raises(ServiceResponseError):
        send(t, server.url + "/echo", "PUT", json={"a": 1})


# -- the boot's head start (headstart.py): a first connection opened before the transport exists ---
def _early(url, verify):
    from aci_ip_registrar import headstart
    early = headstart.connection(url, verify)
    headstart.start([early])
    return early


def _accepted(server, count):
    """The server counts a connection in its handler thread, a moment after the handshake."""
    deadline = time.monotonic() + 5
    while server.connections < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return server.connections


def test_the_head_start_connection_is_the_transports_first(server):
    before = server.connections
    early = _early(server.url, str(server.ca))
    early.result()
    assert _accepted(server, before + 1) - before == 1   # open before the transport was made
    t = HttpClientTransport(connection_verify=str(server.ca))
    t.expect(server.url, early)
    for _ in range(3):
        assert send(t, server.url + "/json").json() == DOC
    assert server.connections - before == 1 and t.connections_opened == 1
    t.close()


def test_a_failed_head_start_connection_fails_as_a_connection_would(server, other_ca):
    early = _early(server.url, other_ca)              # the server's CA is not this one
    t = HttpClientTransport(connection_verify=other_ca)
    t.expect(server.url, early)
    with pytest.raises(ServiceRequestError) as info:
        send(t, server.url + "/json")
    assert type(info.value) is ServiceRequestError
    assert "TLS verification failed" in translate(info.value, "t").message


def test_a_head_start_connection_to_another_host_or_settings_is_not_taken(server, other_ca):
    before = server.connections
    early = _early(server.url, str(server.ca))
    early.result()
    t = HttpClientTransport(connection_verify=str(server.ca))
    t.expect("https://localhost:1", early)           # another host: never checked out
    assert send(t, server.url + "/json").json() == DOC
    assert _accepted(server, before + 2) - before == 2   # the early one and its own
    assert t.connections_opened == 1
    t.close()                                          # closes the unused early one


def test_no_head_start_connection_through_a_proxy(server, monkeypatch):
    from aci_ip_registrar import headstart
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert headstart.connection(server.url, str(server.ca)) is None
    monkeypatch.delenv("HTTPS_PROXY")
    assert headstart.connection("http://127.0.0.1:9", True) is None
