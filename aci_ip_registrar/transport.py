"""azure-core's HttpTransport on http.client: what a boot needs, without requests and urllib3.

requests, urllib3, charset_normalizer and idna are about a quarter of a no-op boot's imports
(issue 14), and a run sends a handful of JSON requests to one or two hosts. This transport keeps
RequestsTransport's behaviour where the registrar and the SDK clients can see it:

- one keep-alive connection per host, reused across requests and threads (a small pool: a
  second connection only while the first is busy, as urllib3's pool); an idle connection the
  server has closed is noticed before it is reused, and an idempotent request that finds its
  reused connection dead is sent once more on a fresh one;
- TLS as requests does it: `connection_verify` True or a CA file or directory; with True,
  REQUESTS_CA_BUNDLE then CURL_CA_BUNDLE (use_env_settings, the default), else certifi's bundle;
  `connection_cert` for a client certificate; TLS 1.2 at least; hostname checked;
- `connection_timeout` for connect and handshake, `read_timeout` for each socket read, per
  transport or per call; no retries, no redirects;
- the same azure-core exceptions for the same failures (ServiceRequestError and its timeout
  form before the request is sent, ServiceResponseError and its timeout form after,
  IncompleteReadError for a short body, DecodeError for a bad gzip body);
- responses as azure.core.rest.HttpResponse, streamed when `stream=True` (iter_bytes,
  iter_raw, read, and stream_download for the pollers), gzip and deflate decoded.

Anything else goes to azure-core's RequestsTransport, built on first use with the same settings:
a proxy (the `proxies` option or a *_PROXY variable for the URL's scheme: requests then applies
NO_PROXY itself), certificate verification switched off, a legacy
azure.core.pipeline.transport.HttpRequest, multipart files, a form or streamed body, a URL that
needs requoting, or an option this transport does not know.
Not reproduced: requests' ~/.netrc credentials (they would replace the bearer token anyway).
"""
from __future__ import annotations

import http.client
import logging
import select
import socket
import ssl
import threading
import zlib
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

from azure.core.configuration import ConnectionConfiguration
from azure.core.exceptions import (DecodeError, IncompleteReadError, ServiceRequestError,
                                   ServiceRequestTimeoutError, ServiceResponseError,
                                   ServiceResponseTimeoutError)
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._http_response_impl import HttpResponseImpl
from azure.core.utils import case_insensitive_dict

from . import tls

log = logging.getLogger(__name__)

POOL_SIZE = 10                       # idle connections kept per host (requests' pool_maxsize)
DEFAULT_HEADERS = {"Accept-Encoding": "gzip, deflate", "Accept": "*/*",
                   "Connection": "keep-alive"}   # what requests adds to every request
IDEMPOTENT = frozenset(["GET", "HEAD", "OPTIONS"])
HANDLED_OPTIONS = frozenset(["stream", "connection_timeout", "read_timeout",
                             "connection_verify", "connection_cert"])
# What a kept-alive connection the server has meanwhile closed fails with.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
          ConnectionAbortedError, ssl.SSLEOFError, ssl.SSLZeroReturnError)


class _Connection:
    """One http.client connection and whether it has carried a request before."""

    def __init__(self, conn: http.client.HTTPConnection):
        self.conn = conn
        self.used = False

    def dropped(self) -> bool:
        """An idle connection with something to read has been closed (or broken) by the
        server; urllib3 asks the same before reusing one."""
        sock = self.conn.sock
        if sock is None:
            return True
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True


class HttpClientTransport(HttpTransport):
    """See the module docstring. Keyword arguments as RequestsTransport's (ConnectionConfiguration
    and use_env_settings)."""

    def __init__(self, **kwargs: Any) -> None:
        self.use_env_settings = kwargs.pop("use_env_settings", True)
        self._kwargs = dict(kwargs)
        self.connection_config = ConnectionConfiguration(**kwargs)
        self._idle: Dict[tuple, List[_Connection]] = {}
        self._contexts: Dict[tuple, ssl.SSLContext] = {}
        self._early: Dict[tuple, Any] = {}   # key -> headstart.Early: a first connection
        self._lock = threading.Lock()
        self._fallback = None
        self._opened = self._closed = False
        self.connections_opened = 0          # for tests and benchmarks: what reuse achieved
        self.requests_sent = 0
        self.fallback_requests = 0

    # -- HttpTransport ----------------------------------------------------------------------------
    def __enter__(self) -> "HttpClientTransport":
        self.open()
        return self

    def __exit__(self, *args) -> None:
        self.close()

    def open(self) -> None:
        if self._closed:
            # As RequestsTransport: a closed transport is not silently reopened (azure-sdk#25640).
            raise ValueError("HTTP transport has already been closed. You may check if you're "
                             "calling a function outside of the `with` of your client creation, "
                             "or if you called `close()` on your client already.")
        self._opened = True

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
            fallback, self._fallback = self._fallback, None
            early, self._early = list(self._early.values()), {}
            self._closed = self._opened
        for step in early:
            step.discard()
        for conns in idle.values():
            for c in conns:
                c.conn.close()
        if fallback is not None:
            fallback.close()

    def send(self, request, *, proxies=None, **kwargs):
        self.open()
        why = self._unsupported(request, proxies, kwargs)
        if why:
            log.debug("transport: %s %s through requests (%s)", request.method, request.url, why)
            return self._requests().send(request, proxies=proxies, **kwargs)
        cfg = self.connection_config
        stream = kwargs.pop("stream", False)
        connect_timeout = kwargs.pop("connection_timeout", cfg.timeout)
        if isinstance(connect_timeout, tuple):
            if "read_timeout" in kwargs:
                raise ValueError("Cannot set tuple connection_timeout and read_timeout together")
            connect_timeout, read_timeout = connect_timeout
        else:
            read_timeout = kwargs.pop("read_timeout", cfg.read_timeout)
        verify = kwargs.pop("connection_verify", cfg.verify)
        cert = kwargs.pop("connection_cert", cfg.cert)
        parts = urlsplit(request.url)
        try:
            key = self._key(parts, verify, cert)
        except ssl.SSLError as exc:      # an unreadable CA or client certificate file
            raise ServiceRequestError(_text("TLS settings", parts, exc), error=exc) from exc
        raw, conn = self._exchange(request, parts, key, connect_timeout, read_timeout)
        response = _Response(request=request, internal_response=raw,
                             block_size=cfg.data_block_size,
                             release=lambda reusable: self._release(key, conn, reusable))
        if not stream:
            try:
                response.read()
            finally:
                response.close()
        return response

    # -- what goes to requests ----------------------------------------------------------------
    def _unsupported(self, request, proxies, kwargs) -> Optional[str]:
        if not hasattr(request, "content"):
            return "legacy HttpRequest"
        unknown = set(kwargs) - HANDLED_OPTIONS
        if unknown:
            return "option " + ", ".join(sorted(unknown))
        if proxies:
            return "proxies"
        url = request.url
        scheme = url.split(":", 1)[0].lower()
        if scheme not in ("http", "https"):
            return f"scheme {scheme!r}"
        if not url.isascii() or any(ch <= " " or ch == "\x7f" for ch in url):
            return "URL needs requoting"
        if self.use_env_settings and tls.env_proxy(scheme):
            return "proxy from the environment"
        if not kwargs.get("connection_verify", self.connection_config.verify):
            return "verification off"     # no TLS-off code here (tests/integration/test_hygiene)
        if request.files or not isinstance(request.data, (type(None), bytes, bytearray, str)):
            return "body kind"
        return None

    def _requests(self):
        with self._lock:
            if self._fallback is None:
                from azure.core.pipeline.transport import RequestsTransport
                self._fallback = RequestsTransport(use_env_settings=self.use_env_settings,
                                                   **self._kwargs)
            self.fallback_requests += 1
            return self._fallback

    # -- one request/response exchange ------------------------------------------------------------
    def _exchange(self, request, parts, key, connect_timeout, read_timeout):
        method = request.method.upper()
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = case_insensitive_dict(DEFAULT_HEADERS)
        headers.update(request.headers)
        body = request.data
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is None and method not in ("GET", "HEAD") and "content-length" not in headers:
            headers["Content-Length"] = "0"          # as requests sends it
        headers = dict(headers.items())
        while True:
            conn = self._checkout(key, parts, connect_timeout)
            reused = conn.used
            conn.used = True
            try:
                conn.conn.sock.settimeout(read_timeout)
                conn.conn.request(method, target, body=body, headers=headers)
                with self._lock:
                    self.requests_sent += 1
                return conn.conn.getresponse(), conn
            except _STALE as exc:
                conn.conn.close()
                if reused and method in IDEMPOTENT:
                    log.debug("transport: kept-alive connection to %s was closed (%s); "
                              "sending again on a new one", parts.netloc, type(exc).__name__)
                    continue
                raise ServiceResponseError(_text("connection aborted", parts, exc),
                                           error=exc) from exc
            except (socket.timeout, TimeoutError) as exc:
                conn.conn.close()
                raise ServiceResponseTimeoutError(_text("read timed out", parts, exc),
                                                  error=exc) from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.conn.close()
                raise ServiceResponseError(_text("connection aborted", parts, exc),
                                           error=exc) from exc

    def _checkout(self, key, parts, connect_timeout) -> _Connection:
        with self._lock:
            idle = self._idle.get(key) or []
            while idle:
                conn = idle.pop()
                if not conn.dropped():
                    return conn
                conn.conn.close()
        return self._connect(key, parts, connect_timeout)

    def expect(self, url: str, early) -> None:
        """`early` (headstart.py) opens the first connection to `url`'s host with this
        transport's own settings: _connect takes it instead of opening one."""
        cfg = self.connection_config
        try:
            key = self._key(urlsplit(url), cfg.verify, cfg.cert)
        except (OSError, ValueError):      # send() meets the same problem and reports it
            early.discard()
            return
        with self._lock:
            self._early[key] = early

    def _connect(self, key, parts, connect_timeout) -> _Connection:
        scheme, host, port, tls_key = key
        with self._lock:
            early = self._early.pop(key, None)
        try:
            if early is not None:
                conn = early.result()
            else:
                conn = tls.connection(scheme, host, port, connect_timeout,
                                      self._contexts[tls_key] if tls_key else None)
                conn.connect()
        except (socket.timeout, TimeoutError) as exc:
            raise ServiceRequestTimeoutError(_text("connect timed out", parts, exc),
                                             error=exc) from exc
        except OSError as exc:      # refused, unreachable, DNS, TLS (SSLError is an OSError)
            raise ServiceRequestError(_text("failed to establish a connection", parts, exc),
                                      error=exc) from exc
        with self._lock:
            self.connections_opened += 1
        return _Connection(conn)

    def _release(self, key, conn: _Connection, reusable: bool) -> None:
        if reusable and not self._closed:
            with self._lock:
                idle = self._idle.setdefault(key, [])
                if len(idle) < POOL_SIZE:
                    idle.append(conn)
                    return
        conn.conn.close()

    # -- TLS ----------------------------------------------------------------------------------------
    def _key(self, parts, verify, cert) -> tuple:
        """The pool key of a URL: scheme, host, port and (HTTPS) the TLS settings' key."""
        scheme = parts.scheme.lower()
        tls_key = self._tls_key(verify, cert) if scheme == "https" else None
        return (scheme, parts.hostname, parts.port, tls_key)

    def _tls_key(self, verify, cert) -> tuple:
        """The SSL context for these settings, made once; returns its key."""
        key = tls.key(verify, cert, self.use_env_settings)
        with self._lock:
            if key not in self._contexts:
                self._contexts[key] = tls.context(*key)
        return key


def _text(what: str, parts, exc: BaseException) -> str:
    return f"{what} ({parts.scheme}://{parts.netloc}): {type(exc).__name__}: {exc}"


# -- responses ----------------------------------------------------------------------------------------
class _Response(HttpResponseImpl):
    """azure.core.rest.HttpResponse over an http.client response. Closing it gives the
    connection back for reuse when the body was read to its end, else closes it."""

    def __init__(self, *, request, internal_response: http.client.HTTPResponse,
                 block_size: int, release) -> None:
        headers = case_insensitive_dict()
        for name, value in internal_response.getheaders():
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        super().__init__(request=request, internal_response=internal_response,
                         status_code=internal_response.status, reason=internal_response.reason,
                         headers=headers, content_type=headers.get("content-type"),
                         block_size=block_size, stream_download_generator=_stream)
        self._release = release
        self._complete = False       # the body was read to its end: the connection is reusable

    def close(self) -> None:
        if not self.is_closed:
            super().close()
            self._release(self._complete and not self._internal_response.will_close)


def _decoder(encoding: Optional[str]):
    encoding = (encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _Deflate()
    return None


class _Deflate:
    """'deflate' is zlib-wrapped by the standard and raw in practice; urllib3 accepts both."""

    def __init__(self):
        self._first, self._obj = True, zlib.decompressobj()

    def decompress(self, data: bytes) -> bytes:
        if self._first:
            self._first = False
            try:
                return self._obj.decompress(data)
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._obj.decompress(data)

    def flush(self) -> bytes:
        return self._obj.flush()


def _stream(pipeline, response, *, decompress: bool = True):
    """The body in blocks (azure-core calls this with keywords from iter_bytes/iter_raw and
    positionally from stream_download)."""
    raw: http.client.HTTPResponse = response.internal_response
    decoder = _decoder(response.headers.get("content-encoding")) if decompress else None
    where = f"{response.request.method} {response.request.url.split('?', 1)[0]}"
    try:
        while True:
            chunk = raw.read(response.block_size)
            if not chunk:
                if raw.length:       # read(amt) ends quietly where read() would raise
                    raise http.client.IncompleteRead(b"", raw.length)
                break
            if decoder is not None:
                chunk = decoder.decompress(chunk)
                if not chunk:
                    continue
            yield chunk
        response._complete = True
        if decoder is not None:
            tail = decoder.flush()
            if tail:
                yield tail
    except http.client.IncompleteRead as exc:
        response.close()
        raise IncompleteReadError(f"incomplete body from {where}: {exc!r}", error=exc) from exc
    except (socket.timeout, TimeoutError) as exc:
        response.close()
        raise ServiceResponseTimeoutError(f"read timed out: {where}: {exc}", error=exc) from exc
    except zlib.error as exc:
        response.close()
        raise DecodeError(f"cannot decode the body of {where}: {exc}", error=exc) from exc
    except (OSError, http.client.HTTPException) as exc:
        response.close()
        raise ServiceResponseError(f"connection broken reading {where}: {type(exc).__name__}: "
                                   f"{exc}", error=exc) from exc


__all__ = ["HttpClientTransport"]
