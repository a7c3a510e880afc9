"""Liveness and readiness for ACI probes: a tiny stdlib HTTP server in a daemon thread.

    GET /healthz  200 while the loop is alive: the last pass (successful or not) finished within
                  `stale_after` seconds, or none has been due yet; else 503 (a hung pass).
    GET /readyz   200 only when the last completed check found the member's address present in
                  every target; 503 before the first check and after a failed one.
    anything else 404.

Both bodies are JSON: the last result, timestamps (Unix seconds) and counters. Nothing is
logged per request: stdout carries only results, and probes every few seconds are noise.
The public surface is `HealthState`, `start_health_server`, `tick_recorder`.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Optional

__all__ = ["HealthState", "HealthServer", "start_health_server", "tick_recorder"]


class HealthState:
    """What the probes answer from; thread-safe (ticks record, server threads read).

    `stale_after` bounds the age of the last finished pass; pick at least interval x (1 +
    jitter) plus the longest pass you accept, e.g. 3 x interval. `clock` is for tests."""

    def __init__(self, stale_after: float, *, clock: Callable[[], float] = time.time):
        if stale_after <= 0:
            raise ValueError("stale_after must be > 0")
        self.stale_after = stale_after
        self._clock = clock
        self._lock = threading.Lock()
        self.started_at = clock()
        self._last_result: Optional[Dict[str, Any]] = None
        self._last_ok: Optional[bool] = None     # None: no completed check yet
        self._last_check_at: Optional[float] = None
        self._last_finished_at: Optional[float] = None
        self._last_error: Optional[str] = None
        self._counters = {"ticks": 0, "repairs": 0, "errors": 0}

    def record(self, result: Dict[str, Any], ok: bool, finished_at: float) -> None:
        """A completed check. `ok`: the address is present in every target. An integer
        `result["repairs"]` (writes made by this pass) is added to the repairs counter."""
        with self._lock:
            self._last_result, self._last_ok = dict(result), bool(ok)
            self._last_check_at = self._last_finished_at = finished_at
            self._counters["ticks"] += 1
            repairs = result.get("repairs", 0)
            if isinstance(repairs, int) and not isinstance(repairs, bool):
                self._counters["repairs"] += repairs

    def record_error(self, message: str, finished_at: float) -> None:
        """A pass that raised: the loop is alive, but readiness keeps the last completed
        check (an Azure hiccup says nothing new about where our address is)."""
        with self._lock:
            self._last_error, self._last_finished_at = message, finished_at
            self._counters["ticks"] += 1
            self._counters["errors"] += 1

    def alive(self) -> bool:
        with self._lock:
            return self._alive_locked()

    def ready(self) -> bool:
        with self._lock:
            return self._last_ok is True

    def _alive_locked(self) -> bool:
        last = self._last_finished_at if self._last_finished_at is not None else self.started_at
        return self._clock() - last <= self.stale_after

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            now = self._clock()
            last = self._last_finished_at
            return {
                "alive": self._alive_locked(), "ready": self._last_ok is True,
                "now": now, "started_at": self.started_at, "stale_after": self.stale_after,
                "last_finished_at": last, "last_check_at": self._last_check_at,
                "seconds_since_last": None if last is None else round(now - last, 3),
                "last_ok": self._last_ok, "last_result": self._last_result,
                "last_error": self._last_error, "counters": dict(self._counters),
            }


def tick_recorder(state: HealthState) -> Callable[[Any, Optional[BaseException]], None]:
    """An `on_tick_result` for supervisor.supervise: a dict result with a boolean "ok" is a
    completed check; an exception, or anything else, counts as an error."""
    def on_tick_result(result: Any, error: Optional[BaseException]) -> None:
        now = time.time()
        if error is None and isinstance(result, dict) and isinstance(result.get("ok"), bool):
            state.record(result, result["ok"], now)
        elif error is not None:
            state.record_error(f"{type(error).__name__}: {error}", now)
        else:
            state.record_error(f"tick returned {type(result).__name__}, not a dict with 'ok'",
                               now)
    return on_tick_result


class _Handler(BaseHTTPRequestHandler):
    server: "HealthServer"

    def do_GET(self) -> None:  # noqa: N802 -- the stdlib's name
        self._answer(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        state = self.server.state
        if path == "/healthz":
            snap = state.snapshot()
            self._send(200 if snap["alive"] else 503, snap, send_body)
        elif path == "/readyz":
            snap = state.snapshot()
            self._send(200 if snap["ready"] else 503, snap, send_body)
        else:
            self._send(404, {"error": "not found", "paths": ["/healthz", "/readyz"]}, send_body)

    def _send(self, status: int, body: Dict[str, Any], send_body: bool) -> None:
        data = json.dumps(body, default=str, sort_keys=True).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # no per-request lines anywhere (the stdlib would write them to stderr)


class HealthServer(ThreadingHTTPServer):
    """The server; `port` is the bound port (useful with port 0). `close()` stops it."""
    daemon_threads = True

    def __init__(self, address, state: HealthState):
        super().__init__(address, _Handler)
        self.state = state
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def start_health_server(host: str, port: int, state: HealthState) -> HealthServer:
    """Bind host:port (0 picks a free port) and serve in a daemon thread; returns at once."""
    server = HealthServer((host, port), state)
    # A short poll so close() returns promptly; an idle select() every 0.1 s costs nothing.
    server._thread = threading.Thread(target=server.serve_forever, args=(0.1,),
                                      name="aci-ip-registrar-health", daemon=True)
    server._thread.start()
    return server
