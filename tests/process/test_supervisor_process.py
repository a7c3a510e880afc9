"""The supervisor as a real process, tested from outside like dumb-init: signals reach the app,
exit statuses pass through, SIGTERM deregisters and drains before the app hears of it, and as
PID 1 of a PID namespace it reaps orphans.

driver.py runs supervise() with a Duty that writes timestamped events; app.py records the
signals it gets. Both append to one events file, so times compare on one clock.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DRIVER = str(HERE / "driver.py")
APP = [sys.executable, str(HERE / "app.py")]
SLACK = 0.5  # process start-up and scheduling, on a loaded CI machine


class Run:
    """One driver process and its events file."""

    def __init__(self, tmp_path: Path, driver_args, app_args, prefix=()):
        self.events_path = tmp_path / "events.log"
        self.events_path.touch()
        env = dict(os.environ, SUP_EVENTS=str(self.events_path), PYTHONUNBUFFERED="1")
        argv = list(prefix) + [sys.executable, DRIVER] + [str(a) for a in driver_args]
        if app_args is not None:
            argv += ["--"] + APP + [str(a) for a in app_args]
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid  # the process to signal (overridden in a namespace)
        self.namespaced = bool(prefix)

    def events(self):
        rows = []
        for line in self.events_path.read_text().splitlines():
            stamp, name, *rest = line.split()
            rows.append((float(stamp), name, dict(kv.split("=", 1) for kv in rest)))
        return rows

    def wait_event(self, name, timeout=5.0, **match):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for row in self.events():
                if row[1] == name and all(row[2].get(k) == str(v) for k, v in match.items()):
                    return row
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(f"no {name} {match}; events: {self.events()}; "
                             f"stderr: {self.stderr_so_far()}")

    def stderr_so_far(self):
        return "(running)" if self.proc.poll() is None else self.proc.stderr.read()

    def app_pid(self) -> int:
        return int(self.wait_event("app-start")[2]["pid"])

    def kill(self, signum):
        os.kill(self.pid, signum)

    def finish(self, timeout=5.0):
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def close(self):
        """After a failure: kill the app too, or it holds our pipes open for 30 s. (In a
        namespace its pid means nothing here; --kill-child takes the namespace down.)"""
        for row in self.events() if not self.namespaced else ():
            if row[1] == "app-start":
                try:
                    os.kill(int(row[2]["pid"]), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)


@pytest.fixture
def run(tmp_path):
    runs = []

    def start(driver_args=(), app_args=(), prefix=()):
        runs.append(Run(tmp_path, driver_args, app_args, prefix))
        return runs[-1]
    yield start
    for r in runs:
        r.close()


def first(rows, name, **match):
    return next(r for r in rows if r[1] == name
                and all(r[2].get(k) == str(v) for k, v in match.items()))


# -- signals and statuses ------------------------------------------------------------------

FORWARDED = [signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH,
             signal.SIGCONT, signal.SIGTSTP, signal.SIGALRM, signal.SIGRTMIN + 1]


def _name(signum):
    return signal.Signals(signum).name if signum in signal.Signals._value2member_map_ \
        else f"SIG{signum}"


def test_non_terminating_signals_reach_the_app_at_once(run):
    r = run([], ["--on-stop", "exit:0"])
    r.app_pid()
    for signum in FORWARDED:
        sent = time.time()
        r.kill(signum)
        got = r.wait_event("app-signal", sig=_name(signum))
        assert got[0] - sent < SLACK, _name(signum)
    r.kill(signal.SIGTERM)
    status, out, err = r.finish()
    assert status == 0, err
    received = [e[2]["sig"] for e in r.events() if e[1] == "app-signal"]
    assert received == [_name(s) for s in FORWARDED] + ["SIGTERM"]
    assert out == "app-stdout\n"  # the supervisor writes nothing to stdout
    assert all(line.startswith("[aci-ip-registrar] ") for line in err.splitlines()), err


def test_signals_about_our_own_io_are_not_forwarded(run):
    # SIGTTIN/SIGTTOU would stop the app (default action); SIGPIPE must not kill us either.
    r = run([], ["--on-stop", "exit:0"])
    r.app_pid()
    for signum in (signal.SIGTTIN, signal.SIGTTOU, signal.SIGPIPE, signal.SIGXFSZ):
        r.kill(signum)
    r.kill(signal.SIGHUP)
    r.wait_event("app-signal", sig="SIGHUP")  # the app is not stopped
    r.kill(signal.SIGTERM)
    status, _, err = r.finish()
    assert status == 0, err
    received = [e[2]["sig"] for e in r.events() if e[1] == "app-signal"]
    assert received == ["SIGHUP", "SIGTERM"]


@pytest.mark.parametrize("code", [0, 3, 42])
def test_the_apps_exit_code_passes_through_after_deregistering(run, code):
    r = run(["--interval", "0.05", "--drain", "5"], ["--exit-after", "0.3", "--code", code])
    status, _, err = r.finish()
    assert status == code, err
    rows = r.events()
    assert [e[1] for e in rows].count("tick") >= 2
    assert first(rows, "deregister-end")[0] > first(rows, "app-start")[0] + 0.3
    assert first(rows, "driver-exit")[0] - first(rows, "app-start")[0] < 0.3 + SLACK  # no drain


def test_death_by_sigkill_is_137(run):
    r = run()
    os.kill(r.app_pid(), signal.SIGKILL)
    status, _, err = r.finish()
    assert status == 128 + signal.SIGKILL, err
    assert "deregister-end" in [e[1] for e in r.events()]


@pytest.mark.parametrize("kind,signum", [("segv", signal.SIGSEGV), ("abort", signal.SIGABRT)])
def test_a_crash_passes_through_as_128_plus_the_signal(run, kind, signum):
    r = run([], ["--crash", kind])
    status, _, err = r.finish()
    assert status == 128 + signum, err


def test_argv_arrives_byte_for_byte_and_stdout_is_the_apps(tmp_path):
    argv = ["with space", 'double"quote', "single'quote", "", "--target", "-v", "$HOME",
            "*", "ünïcødé", "a\nb", "--"]
    code = "import sys,json;print(json.dumps(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, DRIVER, "--", sys.executable, "-c", code, *argv],
                          env=dict(os.environ, SUP_EVENTS=str(tmp_path / "e.log")),
                          capture_output=True, text=True, timeout=10)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == argv


def test_inherited_descriptors_pass_and_ours_do_not_leak(tmp_path):
    read, write = os.pipe()
    os.set_inheritable(write, True)
    try:
        events = tmp_path / "e.log"
        proc = subprocess.run([sys.executable, DRIVER, "--"] + APP + ["--exit-after", "0"],
                              env=dict(os.environ, SUP_EVENTS=str(events)), pass_fds=[write],
                              capture_output=True, text=True, timeout=10)
    finally:
        os.close(read)
        os.close(write)
    assert proc.returncode == 0, proc.stderr
    started = next(line for line in events.read_text().splitlines() if " app-start " in line)
    fds = {int(fd) for fd in started.split("fds=")[1].split(",")}
    # stdio, the descriptor the driver inherited, and the one listdir itself opened.
    assert {0, 1, 2, write} <= fds and len(fds) == 5, fds


def test_command_not_found_is_127_with_a_prefixed_line(tmp_path):
    proc = subprocess.run([sys.executable, DRIVER, "--", "no-such-command-xyz"],
                          env=dict(os.environ, SUP_EVENTS=str(tmp_path / "e.log")),
                          capture_output=True, text=True, timeout=10)
    assert proc.returncode == 127
    assert "[aci-ip-registrar] no-such-command-xyz: command not found" in proc.stderr
    assert proc.stdout == ""


# -- the SIGTERM sequence ----------------------------------------------------------------------

def test_sigterm_deregisters_then_drains_then_tells_the_app(run):
    drain, timeout, hang = 0.5, 1.0, 0.2
    r = run(["--drain", drain, "--deregister-timeout", timeout, "--deregister-hang", hang],
            ["--on-stop", "exit:42"])
    r.app_pid()
    sent = time.time()
    r.kill(signal.SIGTERM)
    status, _, err = r.finish()
    rows = r.events()
    start, end = first(rows, "deregister-start"), first(rows, "deregister-end")
    term = first(rows, "app-signal", sig="SIGTERM")
    exited = first(rows, "driver-exit")
    assert status == 42, err
    assert sent <= start[0] < end[0] < term[0]
    assert term[0] - end[0] >= drain - 0.02  # the drain delay is after deregistering
    assert exited[0] - sent <= hang + drain + SLACK
    assert 0.9 <= float(start[2]["allowed"]) <= timeout


def test_a_hanging_deregister_is_cut_at_the_timeout(run):
    drain, timeout = 0.3, 0.5
    r = run(["--drain", drain, "--deregister-timeout", timeout, "--deregister-hang", 10], [])
    r.app_pid()
    sent = time.time()
    r.kill(signal.SIGTERM)
    status, _, err = r.finish()
    rows = r.events()
    term = first(rows, "app-signal", sig="SIGTERM")
    assert status == 128 + signal.SIGTERM, err
    assert "deregister-end" not in [e[1] for e in rows]
    assert timeout + drain - 0.02 <= term[0] - sent <= timeout + drain + SLACK
    assert "abandoned" in err


def test_a_second_sigterm_skips_to_forwarding(run):
    r = run(["--drain", 3, "--deregister-timeout", 3, "--deregister-hang", 10], [])
    r.app_pid()
    r.kill(signal.SIGTERM)
    r.wait_event("deregister-start")
    again = time.time()
    r.kill(signal.SIGTERM)
    status, _, err = r.finish()
    assert status == 128 + signal.SIGTERM, err
    assert first(r.events(), "app-signal", sig="SIGTERM")[0] - again < SLACK


def test_sigint_runs_the_same_sequence_and_forwards_sigint(run):
    r = run(["--drain", 0.2], [])
    r.app_pid()
    r.kill(signal.SIGINT)
    status, _, err = r.finish()
    rows = r.events()
    assert status == 128 + signal.SIGINT, err
    assert first(rows, "deregister-end")[0] < first(rows, "app-signal", sig="SIGINT")[0]


def test_watch_mode_sigterm_deregisters_and_exits_zero(run):
    r = run(["--interval", "0.05", "--drain", 5], None)
    r.wait_event("tick")
    sent = time.time()
    r.kill(signal.SIGTERM)
    status, out, err = r.finish()
    rows = r.events()
    assert status == 0, err
    assert first(rows, "deregister-end")[0] >= sent
    assert first(rows, "driver-exit")[0] - sent < SLACK  # no drain without an app
    assert out == ""


# -- as PID 1 ----------------------------------------------------------------------------------

# --kill-child: if the test kills unshare, the namespace (and every process in it) goes too.
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]


def _unshare_works() -> bool:
    try:
        return subprocess.run(UNSHARE + ["true"],
                              capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


PIDNS = pytest.param("pidns", marks=pytest.mark.skipif(
    not _unshare_works(), reason="unshare --pid needs root or user namespaces"))
REAPERS = [PIDNS, "subreaper"]


def _start_as_reaper(run, how, driver_args, app_args):
    """PID 1 of a new PID namespace, or (without privileges) a child subreaper: both adopt
    the orphans of their descendants."""
    if how == "subreaper":
        return run(list(driver_args) + ["--subreaper"], app_args)
    r = run(driver_args, app_args, prefix=UNSHARE)
    r.wait_event("driver-start")
    r.pid = _only_child(r.proc.pid)  # unshare does not forward signals; signal PID 1 itself
    return r


def _only_child(pid: int) -> int:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = path.read_text().split()
    assert len(children) == 1, children
    return int(children[0])


@pytest.mark.parametrize("how", REAPERS)
def test_orphans_are_reaped_without_losing_the_apps_status(run, how):
    r = _start_as_reaper(run, how, ["--interval", "0.05"],
                         ["--orphans", 3, "--orphan-life", 0.2, "--on-stop", "exit:7"])
    driver_pid = r.wait_event("driver-start")[2]["pid"]
    if how == "pidns":
        assert driver_pid == "1"
    r.app_pid()
    exits = _grandchild_exits(r, 3)
    assert all(e[2]["ppid"] == driver_pid for e in exits)  # they were re-parented to us
    last_exit = max(e[0] for e in exits)
    time.sleep(0.3)  # several ticks after the last orphan died
    r.kill(signal.SIGTERM)
    status, _, err = r.finish()
    assert status == 7, err
    later = [e for e in r.events() if e[1] == "tick" and e[0] > last_exit + 0.05]
    assert len(later) >= 3, r.events()
    assert all(e[2]["zombies"] == "0" for e in later), later


def _grandchild_exits(r, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [e for e in r.events() if e[1] == "grandchild-exit"]
        if len(rows) >= count:
            return rows
        time.sleep(0.02)
    raise AssertionError(f"grandchildren did not exit: {r.events()}")


@pytest.mark.parametrize("signum,expected", [(signal.SIGTERM, 128 + signal.SIGTERM),
                                             (signal.SIGINT, 128 + signal.SIGINT)])
def test_as_pid1_the_stop_signal_ends_it_with_the_apps_status(run, signum, expected):
    if not _unshare_works():
        pytest.skip("unshare --pid needs root or user namespaces")
    r = _start_as_reaper(run, "pidns", ["--drain", 0.1], [])
    assert r.wait_event("driver-start")[2]["pid"] == "1"
    r.app_pid()
    r.kill(signum)
    status, _, err = r.finish()
    rows = r.events()
    # unshare passes its child's status on (it re-raises a fatal signal on itself: not here).
    assert status == expected, err
    assert first(rows, "deregister-end")[0] < first(rows, "app-signal", sig=_name(signum))[0]
