"""Logging to stderr, every line prefixed `[aci-ip-registrar]` (we share the streams with the
app), or one JSON object per line with --log-format json. Secrets never reach a handler: the
SDK's HTTP logging policy redacts Authorization, and we never log tokens or request bodies."""
from __future__ import annotations

import json
import logging
import re
import sys
import time

PREFIX = "[aci-ip-registrar]"
# Belt and braces: anything shaped like a bearer token or JWT is masked before it is written.
_SECRET = re.compile(r"(Bearer\s+)\S+|eyJ[\w-]{8,}\.[\w-]+\.[\w-]*", re.I)


def scrub(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) or "") + "***", text)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = scrub(record.getMessage())
        return f"{PREFIX} {record.levelname.lower()}: {message}"


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name,
            "message": scrub(record.getMessage()), "tool": "aci-ip-registrar"})


def setup(verbosity: int, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity >= 1
                  else logging.WARNING)
    # The SDKs are chatty at INFO; show their HTTP lines (redacted) only at -vvv.
    level = logging.INFO if verbosity >= 3 else logging.WARNING
    for name in ("azure", "msal", "urllib3"):
        logging.getLogger(name).setLevel(level)
