"""The IMDS managed-identity form (what an ACI container uses) for the benchmark, on loopback.

An emulator that serves IMDS itself (`imds_authority`) is used as it is. An older one serves only
the App Service form (IDENTITY_ENDPOINT + IDENTITY_HEADER): this small bridge answers the IMDS
form by asking the emulator's App Service endpoint, so every token is still issued and logged by
the emulator (the `tokens` column).
"""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional, Tuple

IMDS_PATH = "/metadata/identity/oauth2/token"


class ImdsBridge:
    def __init__(self, identity_endpoint: str, identity_header: str):
        self.endpoint, self.header = identity_endpoint, identity_header
        bridge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                status, body = bridge.answer(self.path, self.headers.get("Metadata"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def authority(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, metadata: Optional[str]):
        url = urllib.parse.urlsplit(path)
        if url.path != IMDS_PATH:
            return 404, {"error": "not_found"}
        if (metadata or "").lower() != "true":
            return 400, {"error": "invalid_request",
                         "error_description": "Required metadata header not specified"}
        query = dict(urllib.parse.parse_qsl(url.query))
        upstream = {"api-version": "2019-08-01", "resource": query.get("resource", "")}
        if query.get("client_id"):
            upstream["client_id"] = query["client_id"]
        req = urllib.request.Request(self.endpoint + "?" + urllib.parse.urlencode(upstream),
                                     headers={"X-IDENTITY-HEADER": self.header})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as resp:
            doc = json.loads(resp.read())
        now = int(time.time())
        expires_on = int(doc["expires_on"])
        return 200, {"access_token": doc["access_token"], "expires_on": str(expires_on),
                     "expires_in": str(expires_on - now), "not_before": str(now),
                     "resource": doc.get("resource"), "token_type": "Bearer",
                     "client_id": doc.get("client_id")}

    def __enter__(self) -> "ImdsBridge":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def imds_env(emu, stack) -> Tuple[Dict[str, str], str]:
    """The emulator's environment in the IMDS form (AZURE_POD_IDENTITY_AUTHORITY_HOST, no App
    Service variables), and how it is served. `stack` (an ExitStack) owns a bridge if needed."""
    env = dict(emu.env())
    authority = getattr(emu, "imds_authority", None)
    if authority:
        env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = authority
        how = "the emulator's own IMDS route"
    elif env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST"):
        how = "the emulator's own IMDS route"
    else:
        bridge = stack.enter_context(ImdsBridge(env["IDENTITY_ENDPOINT"], env["IDENTITY_HEADER"]))
        env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = bridge.authority
        how = "bridged to the emulator's App Service endpoint"
    env.pop("IDENTITY_ENDPOINT", None)
    env.pop("IDENTITY_HEADER", None)
    return env, how
