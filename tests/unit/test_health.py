"""HealthState transitions and the real HTTP server on 127.0.0.1 (port 0), asked with urllib."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from aci_ip_registrar.health import HealthState, start_health_server, tick_recorder


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def served(clock):
    state = HealthState(stale_after=30, clock=clock)
    server = start_health_server("127.0.0.1", 0, state)
    yield state, server
    server.close()


def get(server, path):
    url = f"http://127.0.0.1:{server.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type"), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type"), json.loads(err.read())


def test_server_binds_a_free_port(served):
    _, server = served
    assert server.port > 0
    assert server.server_address[0] == "127.0.0.1"


def test_readiness_follows_the_last_completed_check(served, clock):
    state, server = served
    status, ctype, body = get(server, "/readyz")
    assert (status, ctype, body["ready"], body["last_ok"]) == (503, "application/json", False,
                                                               None)
    clock.now += 1
    state.record({"targets": {"pool": True}, "repairs": 0}, ok=True, finished_at=clock.now)
    status, _, body = get(server, "/readyz")
    assert status == 200 and body["ready"] is True
    assert body["last_result"] == {"targets": {"pool": True}, "repairs": 0}
    assert body["last_check_at"] == clock.now

    clock.now += 1
    state.record({"targets": {"pool": False}, "repairs": 1}, ok=False, finished_at=clock.now)
    status, _, body = get(server, "/readyz")
    assert status == 503 and body["last_ok"] is False

    clock.now += 1
    state.record({"targets": {"pool": True}, "repairs": 0}, ok=True, finished_at=clock.now)
    status, _, body = get(server, "/readyz")
    assert status == 200
    assert body["counters"] == {"ticks": 3, "repairs": 1, "errors": 0}


def test_an_erroring_pass_keeps_readiness_and_counts(served, clock):
    state, server = served
    state.record({"repairs": 2}, ok=True, finished_at=clock.now)
    state.record_error("AzureError: 503 from ARM", finished_at=clock.now + 1)
    status, _, body = get(server, "/readyz")
    assert status == 200
    assert body["last_error"] == "AzureError: 503 from ARM"
    assert body["counters"] == {"ticks": 2, "repairs": 2, "errors": 1}
    assert body["last_finished_at"] == clock.now + 1 and body["last_check_at"] == clock.now


def test_liveness_is_ok_until_a_pass_is_overdue(served, clock):
    state, server = served
    assert get(server, "/healthz")[0] == 200  # nothing due yet
    clock.now += 30
    assert get(server, "/healthz")[0] == 200
    clock.now += 0.5
    status, _, body = get(server, "/healthz")
    assert status == 503 and body["alive"] is False  # no pass finished in 30 s
    state.record({}, ok=False, finished_at=clock.now)
    status, _, body = get(server, "/healthz")
    assert status == 200 and body["seconds_since_last"] == 0
    assert get(server, "/readyz")[0] == 503  # alive is not ready
    clock.now += 31
    assert get(server, "/healthz")[0] == 503
    state.record_error("boom", finished_at=clock.now)  # a failed pass still shows the loop runs
    assert get(server, "/healthz")[0] == 200


def test_other_paths_are_404(served):
    _, server = served
    for path in ("/", "/health", "/readyz/x", "/metrics"):
        status, _, body = get(server, path)
        assert status == 404, path
        assert body["error"] == "not found"
    assert get(server, "/healthz?verbose=1")[0] == 200


def test_head_answers_without_a_body(served):
    _, server = served
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/healthz", method="HEAD")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200
        assert resp.read() == b""


def test_requests_write_nothing_to_stdout_or_stderr(served, capfd):
    _, server = served
    capfd.readouterr()
    for path in ("/healthz", "/readyz", "/nope"):
        get(server, path)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_tick_recorder_maps_results_and_exceptions():
    state = HealthState(stale_after=10)
    record = tick_recorder(state)
    record({"ok": True, "repairs": 1}, None)
    assert state.ready()
    record(None, RuntimeError("ARM down"))
    snap = state.snapshot()
    assert snap["ready"] is True and snap["last_error"] == "RuntimeError: ARM down"
    record({"ok": False}, None)
    assert not state.ready()
    record("not a dict", None)
    assert state.snapshot()["counters"] == {"ticks": 4, "repairs": 1, "errors": 2}
    assert state.alive()


def test_stale_after_must_be_positive():
    with pytest.raises(ValueError):
        HealthState(stale_after=0)


def test_close_frees_the_port(clock):
    state = HealthState(stale_after=5, clock=clock)
    server = start_health_server("127.0.0.1", 0, state)
    port = server.port
    server.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
