"""A small loopback IMDS (the managed-identity form ACI containers use) for tests: records each
request's path, query and Metadata header; answers with scripted replies, then with tokens."""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeImds:
    """Answers each request with the next scripted (status, body, headers), then with a token."""

    def __init__(self):
        self.requests = []
        self.script = []
        self.expires_in = 3600
        self.on_request = None          # called on each request's arrival, before the answer
        imds = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                imds.requests.append({"path": url.path,
                                      "query": dict(urllib.parse.parse_qsl(url.query)),
                                      "metadata": self.headers.get("Metadata")})
                if imds.on_request is not None:
                    imds.on_request()
                if imds.script:
                    status, body, headers = imds.script.pop(0)
                else:
                    n = len(imds.requests)
                    now = int(time.time())
                    status, headers = 200, {}
                    body = {"access_token": f"token-{n}", "token_type": "Bearer",
                            "expires_in": str(imds.expires_in),
                            "expires_on": str(now + imds.expires_in),
                            "resource": imds.requests[-1]["query"].get("resource")}
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def authority(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
