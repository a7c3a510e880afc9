"""The supervisor loop in-process with a fake Duty: cadence, soft errors, bounded deregistration.

Real signals and real child processes (`sleep`, `sh`); no mocks of the OS. Process-level and
PID-1 behaviour is in tests/process/.
"""
from __future__ import annotations

import io
import logging
import os
import signal
import threading
import time

import pytest

from aci_ip_registrar.logs import _TextFormatter
from aci_ip_registrar.supervisor import Duty, supervise


class FakeDuty(Duty):
    """Records tick start/end times (monotonic) and deregister calls; behaviour is injected."""

    def __init__(self, tick_body=None, deregister_body=None):
        self.starts, self.ends, self.deregisters = [], [], []
        self.running = self.max_running = 0
        self._lock = threading.Lock()
        self._tick_body = tick_body or (lambda n: {"n": n})
        self._deregister_body = deregister_body or (lambda allowed: None)
        super().__init__(tick=self._tick, deregister=self._deregister)

    def _tick(self):
        with self._lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            self.starts.append(time.monotonic())
            n = len(self.starts)
        try:
            return self._tick_body(n)
        finally:
            with self._lock:
                self.running -= 1
                self.ends.append(time.monotonic())

    def _deregister(self, allowed):
        self.deregisters.append((time.monotonic(), allowed))
        return self._deregister_body(allowed)


@pytest.fixture
def log_lines():
    """A logger formatted like the product's (prefix, level) into a buffer."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(_TextFormatter())
    log = logging.getLogger(f"test.supervisor.{time.monotonic_ns()}")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, lambda: buf.getvalue().splitlines()
    log.removeHandler(handler)


def _sigterm_self_later(delay: float) -> None:
    threading.Timer(delay, os.kill, (os.getpid(), signal.SIGTERM)).start()


def _run(argv, duty, log, **kw):
    settings = dict(interval=0.1, jitter=0.0, drain_delay=0.0, deregister_timeout=1.0)
    settings.update(kw)
    started = time.monotonic()
    status = supervise(argv, duty, log=log, **settings)
    return status, time.monotonic() - started


def test_ticks_follow_the_interval_one_at_a_time_then_deregister(log_lines):
    log, _ = log_lines
    duty = FakeDuty(tick_body=lambda n: time.sleep(0.05))
    started = time.monotonic()
    status, _ = _run(["sleep", "1"], duty, log, interval=0.1)
    assert status == 0
    # A pause of `interval` after each pass of 0.05 s: starts 0.15 s apart, about 6 in 1 s.
    gaps = [b - a for a, b in zip(duty.starts, duty.starts[1:])]
    assert 5 <= len(duty.starts) <= 8, duty.starts
    assert all(0.14 <= g <= 0.25 for g in gaps), gaps
    assert duty.starts[0] - started >= 0.09  # first after one interval
    assert duty.max_running == 1
    assert len(duty.deregisters) == 1
    assert duty.deregisters[0][0] >= duty.ends[-1]  # never while a pass is running


def test_jitter_spreads_the_pauses_within_bounds(log_lines):
    log, _ = log_lines
    duty = FakeDuty()
    status, _ = _run(["sleep", "1.2"], duty, log, interval=0.1, jitter=0.5)
    assert status == 0
    gaps = [b - a for a, b in zip(duty.starts, duty.starts[1:])]
    assert len(gaps) >= 6, gaps
    assert all(0.045 <= g <= 0.25 for g in gaps), gaps  # 0.05..0.15 plus scheduling
    assert max(gaps) - min(gaps) > 0.01, gaps  # not a fixed cadence


def test_a_raising_tick_is_logged_on_one_line_and_the_loop_goes_on(log_lines):
    log, lines = log_lines
    results = []

    def boom(n):
        if n % 2:
            raise RuntimeError(f"boom {n}\nsecond line")
        return {"n": n}

    duty = FakeDuty(tick_body=boom)
    status, _ = _run(["sleep", "0.65"], duty, log, interval=0.05,
                     on_tick_result=lambda r, e: results.append((r, e)))
    assert status == 0
    assert len(duty.starts) >= 5
    assert len(results) == len(duty.ends)
    assert isinstance(results[0][1], RuntimeError) and results[0][0] is None
    assert results[1] == ({"n": 2}, None)
    failed = [line for line in lines() if "tick: failed" in line]
    assert failed and failed[0] == ("[aci-ip-registrar] warning: tick: failed: "
                                    "RuntimeError: boom 1 second line")


def test_a_raising_result_callback_does_not_stop_the_loop(log_lines):
    log, lines = log_lines
    duty = FakeDuty()

    def bad_callback(result, error):
        raise ValueError("callback broke")

    status, _ = _run(["sleep", "0.45"], duty, log, interval=0.05, on_tick_result=bad_callback)
    assert status == 0
    assert len(duty.starts) >= 4
    assert any("result callback failed: ValueError" in line for line in lines())


def test_deregister_overrunning_its_timeout_is_abandoned_within_bounds(log_lines):
    log, lines = log_lines
    release = threading.Event()
    duty = FakeDuty(tick_body=lambda n: _sigterm_self_later(0.0) if n == 1 else None,
                    deregister_body=lambda allowed: release.wait(10))
    try:
        status, elapsed = _run(None, duty, log, interval=0.05, deregister_timeout=0.4)
    finally:
        release.set()
    assert status == 0
    assert len(duty.deregisters) == 1
    assert 0.35 <= duty.deregisters[0][1] <= 0.4  # told how long it may take
    assert 0.4 <= elapsed - 0.05 <= 0.4 + 0.3, elapsed  # one interval, then the timeout
    assert any("deregister: still running after 0.4s; abandoned" in line for line in lines())


def test_watch_mode_sigterm_deregisters_and_returns_zero(log_lines):
    log, lines = log_lines
    duty = FakeDuty(tick_body=lambda n: _sigterm_self_later(0.0) if n == 2 else None)
    status, elapsed = _run(None, duty, log, interval=0.05, drain_delay=5.0)
    assert status == 0
    assert len(duty.deregisters) == 1
    assert elapsed < 1.0  # no drain delay without an app to drain for
    assert len(duty.starts) == 2  # no pass after the signal
    assert any("deregister: finished" in line for line in lines())


def test_a_running_tick_is_awaited_before_deregistering(log_lines):
    log, _ = log_lines

    def slow_then_signal(n):
        if n == 1:
            _sigterm_self_later(0.0)
            time.sleep(0.3)

    duty = FakeDuty(tick_body=slow_then_signal)
    status, _ = _run(None, duty, log, interval=0.05, deregister_timeout=2.0)
    assert status == 0
    assert duty.deregisters[0][0] >= duty.ends[0]
    assert 1.6 <= duty.deregisters[0][1] <= 2.0  # the budget less the wait for the pass


def test_a_hung_tick_gets_half_the_budget_then_deregister_runs(log_lines):
    log, lines = log_lines
    release = threading.Event()

    def hang(n):
        _sigterm_self_later(0.0)
        release.wait(10)

    duty = FakeDuty(tick_body=hang)
    try:
        status, elapsed = _run(None, duty, log, interval=0.05, deregister_timeout=0.6)
    finally:
        release.set()
    assert status == 0
    assert len(duty.deregisters) == 1
    assert 0.2 <= duty.deregisters[0][1] <= 0.31, duty.deregisters  # about 0.6 / 2
    assert elapsed < 0.05 + 0.6 + 0.3
    assert any("tick still running" in line for line in lines())


def test_second_sigterm_cuts_the_deregistration_wait(log_lines):
    log, _ = log_lines
    release = threading.Event()

    def dereg(allowed):
        _sigterm_self_later(0.2)
        release.wait(10)

    duty = FakeDuty(tick_body=lambda n: _sigterm_self_later(0.0) if n == 1 else None,
                    deregister_body=dereg)
    try:
        status, elapsed = _run(None, duty, log, interval=0.05, deregister_timeout=5.0)
    finally:
        release.set()
    assert status == 0
    assert elapsed < 1.0, elapsed


def test_app_exiting_by_itself_triggers_deregister_and_passes_its_status(log_lines):
    log, _ = log_lines
    duty = FakeDuty()
    status, elapsed = _run(["sh", "-c", "sleep 0.3; exit 3"], duty, log, interval=0.05,
                           drain_delay=5.0)
    assert status == 3
    assert len(duty.deregisters) == 1
    assert elapsed < 1.5  # no drain delay once the app is gone


def test_command_not_found_is_127_and_not_executable_126(log_lines, tmp_path, capsys):
    log, _ = log_lines
    duty = FakeDuty()
    assert _run(["no-such-command-xyz", "arg"], duty, log)[0] == 127
    script = tmp_path / "app.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    assert _run([str(script)], duty, log)[0] == 126
    err = capsys.readouterr().err
    assert "[aci-ip-registrar] no-such-command-xyz: command not found\n" in err
    assert f"[aci-ip-registrar] {script}: permission denied (not executable)\n" in err
    assert duty.starts == [] and duty.deregisters == []


def test_handlers_are_restored_after_supervise(log_lines):
    log, _ = log_lines
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    _run(["true"], FakeDuty(), log)
    assert {s: signal.getsignal(s) for s in before} == before
    assert signal.set_wakeup_fd(-1) == -1


@pytest.mark.parametrize("settings", [dict(interval=0), dict(jitter=1.0),
                                      dict(drain_delay=-1), dict(deregister_timeout=0)])
def test_bad_settings_are_refused(log_lines, settings):
    log, _ = log_lines
    with pytest.raises(ValueError):
        _run(None, FakeDuty(), log, **settings)
    with pytest.raises(ValueError):
        _run([], FakeDuty(), log)


def test_main_thread_only():
    errors = []

    def call():
        try:
            supervise(None, FakeDuty(), interval=1, drain_delay=0, deregister_timeout=1,
                      log=logging.getLogger("x"))
        except ValueError as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    thread.join(5)
    assert errors, "supervise must refuse to run outside the main thread"
