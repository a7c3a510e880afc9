"""HTTP/1.1 keep-alive servers on loopback (stdlib only), one with TLS for ARM, one plain for tokens."""

from __future__ import annotations

import email.utils
import http.server
import json
import logging
import socket
import ssl
import threading
import uuid
from typing import Any, Callable, Optional, Set
from urllib.parse import parse_qsl, unquote

from .wire import Request, Response

logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may sit idle


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aci-ip-registrar-emulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: "LoopbackServer"

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.request, ssl.SSLSocket):
            # The handshake runs here, in the connection's thread, not in the accept loop.
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # the request log records requests; stderr stays quiet

    # Every method goes through one dispatcher; unknown methods get send_error(501).
    def do_GET(self) -> None:
        self._dispatch()

    do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Protocol-level errors (bad request line, unknown method) as ARM-shaped JSON."""
        codes = {400: "BadRequest", 414: "RequestUriTooLong", 431: "RequestHeaderFieldsTooLarge",
                 501: "MethodNotAllowed", 505: "HttpVersionNotSupported"}
        text = message or self.responses.get(code, ("",))[0]
        body = {"error": {"code": codes.get(code, "BadRequest"), "message": text}}
        self.close_connection = True
        headers = {"x-ms-request-id": str(uuid.uuid4())}
        self._write(Response(405 if code == 501 else code, json.dumps(body).encode(), headers), head=False)

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            payload = {"error": {"code": "InvalidRequestContent", "message": str(exc)}}
            self._write(Response(400, json.dumps(payload).encode()), head=False)
            return
        # Not urlsplit: the az CLI sends '//metadata/endpoints', which it would read as a netloc.
        raw_path, _, raw_query = self.path.partition("?")
        path = "/" + "/".join(s for s in unquote(raw_path).split("/") if s)
        query = {}
        for key, value in parse_qsl(raw_query.partition("#")[0], keep_blank_values=True):
            query.setdefault(key.lower(), value)
        req = Request(self.command, path, query, self.headers, body, self.server.base_url)
        resp = self.server.app(req)
        if resp.drop:
            self.close_connection = True  # no bytes at all: the client sees the connection close
            return
        self._write(resp, head=self.command == "HEAD")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("The request body is too large.")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise ValueError(f"Invalid Content-Length header '{length}'.") from None
        if n < 0 or n > MAX_BODY:
            raise ValueError("The request body is too large.")
        return self.rfile.read(n)

    def _write(self, resp: Response, head: bool) -> None:
        body = resp.body if isinstance(resp.body, bytes) else b""
        reason = self.responses.get(resp.status, ("",))[0]
        lines = [f"HTTP/1.1 {resp.status} {reason}",
                 f"Date: {email.utils.formatdate(usegmt=True)}",
                 f"Server: {self.server_version}",
                 "Cache-Control: no-cache",
                 "Pragma: no-cache",
                 "Expires: -1"]
        if resp.status != 204 and resp.status >= 200:
            if body:
                lines.append("Content-Type: application/json; charset=utf-8")
            lines.append(f"Content-Length: {len(body)}")
        for key, value in resp.headers.items():
            lines.append(f"{key}: {value}")
        if self.close_connection:
            lines.append("Connection: close")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if not head and resp.status != 204:
            payload += body
        self.wfile.write(payload)  # one write: no Nagle/delayed-ACK stall between headers and body


class LoopbackServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, port: int, app: Callable[[Request], Response], tls: Optional[ssl.SSLContext]) -> None:
        self.app = app
        self.tls = tls
        self._conns: Set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)
        scheme = "https" if tls else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.server_address[1]}"

    @property
    def port(self) -> int:
        return self.server_address[1]

    def get_request(self):  # type: ignore[override]
        sock, addr = self.socket.accept()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._conns_lock:
            self._conns.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up, fail the TLS handshake or idle out are routine, not tracebacks.
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"emulator-{self.port}", daemon=True)
        thread.start()
        return thread
