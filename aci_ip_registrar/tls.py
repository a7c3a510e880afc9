"""TLS as requests sets it up, standard library only: the transport (transport.py), config's check
of a CA bundle and the boot's head start (headstart.py) share these rules and these contexts,
and none of them has to import azure-core for it.

`connection_verify` True or a CA file or directory; with True, REQUESTS_CA_BUNDLE then
CURL_CA_BUNDLE (use_env_settings), else certifi's bundle; a client certificate; TLS 1.2 at least.
A context per CA file is loaded once per version of the file (a load costs a boot about 2 ms).
"""
from __future__ import annotations

import functools
import http.client
import os
import ssl
from typing import Optional

SYSTEM = "<system>"
BLOCK_SIZE = 32768          # socket write size (azure-core's BiggerBlockSizeHTTPAdapter)


def connection(scheme: str, host: str, port: Optional[int], timeout: float,
               context: Optional[ssl.SSLContext]) -> http.client.HTTPConnection:
    """An http.client connection as the transport opens them (not yet connected)."""
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context,
                                           blocksize=BLOCK_SIZE)
    return http.client.HTTPConnection(host, port, timeout=timeout, blocksize=BLOCK_SIZE)


def key(verify, cert, use_env: bool) -> tuple:
    """The settings a context is made from, with requests' environment rules applied."""
    if verify is True and use_env:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return (verify if isinstance(verify, (bool, str)) else bool(verify),
            tuple(cert) if isinstance(cert, (list, tuple)) else cert)


def context(verify, cert) -> ssl.SSLContext:
    if not verify:
        raise AssertionError("verification off is sent through requests")  # pragma: no cover
    where = verify if isinstance(verify, str) else default_bundle()
    if not where or not os.path.exists(where):
        # requests raises this OSError (not wrapped by azure-core) for a missing bundle.
        raise OSError(f"Could not find a suitable TLS CA certificate bundle, invalid path: "
                      f"{where}")
    if where == SYSTEM:
        ctx = ssl.create_default_context()
    elif os.path.isdir(where):
        ctx = ssl.create_default_context(capath=where)
    elif not cert:
        return ca_context(where)
    else:
        ctx = ssl.create_default_context(cafile=where)
    tls12(ctx)
    if cert:
        if isinstance(cert, tuple):
            ctx.load_cert_chain(cert[0], cert[1])
        else:
            ctx.load_cert_chain(cert)
    return ctx


def ca_context(cafile: str) -> ssl.SSLContext:
    """The verifying context of one CA file (shared: never load a client certificate into it)."""
    st = os.stat(cafile)
    return _ca_context(cafile, st.st_ino, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _ca_context(cafile: str, *_version) -> ssl.SSLContext:
    return tls12(ssl.create_default_context(cafile=cafile))


def tls12(ctx: ssl.SSLContext) -> ssl.SSLContext:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def default_bundle() -> str:
    """requests' default: certifi's bundle (the system store when certifi is absent)."""
    try:
        import certifi
    except ImportError:
        return SYSTEM
    return certifi.where()


def env_proxy(scheme: str) -> bool:
    names = {f"{scheme}_proxy", "all_proxy"}
    return any(value and name.lower() in names for name, value in os.environ.items())
