"""TLS contexts, standard library only: one per CA file, shared by config's check of the bundle
and by every connection of the transport (a load costs a boot about 2 ms; and config must not
import the transport, which imports azure-core before the token request has left)."""
from __future__ import annotations

import functools
import os
import ssl


def ca_context(cafile: str) -> ssl.SSLContext:
    """The verifying context of one CA file, loaded once per version of the file."""
    st = os.stat(cafile)
    return _ca_context(cafile, st.st_ino, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _ca_context(cafile: str, *_version) -> ssl.SSLContext:
    return tls12(ssl.create_default_context(cafile=cafile))


def tls12(ctx: ssl.SSLContext) -> ssl.SSLContext:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx
