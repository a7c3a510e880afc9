"""Stay PID 1 in front of the app: tick the verify-and-repair pass, forward signals, reap
zombies, and deregister before the app is told to stop. See docs/supervisor.md.

Modelled on dumb-init and tini: every catchable signal is caught and forwarded to the child,
the child's exit status is passed through (128 + N when it died of signal N), and as PID 1 every
orphan that re-parents to us is reaped. Unlike them, SIGTERM and SIGINT are held back until our
registration is removed and a drain delay has passed, so the gateway stops routing to us first.

The public surface is `Duty` and `supervise`; the rest is private.
"""
from __future__ import annotations

import ctypes
import errno
import logging
import os
import random
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

__all__ = ["Duty", "supervise", "SHUTDOWN_SIGNALS", "SELF_SIGNALS", "UNCAUGHT_SIGNALS"]

PREFIX = "[aci-ip-registrar]"

# Start the shutdown sequence instead of being forwarded at once.
SHUTDOWN_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
# The kernel sends these about our own I/O (broken pipe, file size, background tty access);
# forwarding them would punish the app for something we did. Caught (not SIG_IGN, which exec
# would pass on to the app) and dropped. tini likewise keeps SIGTTIN/SIGTTOU to itself.
SELF_SIGNALS = frozenset({signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTTIN, signal.SIGTTOU})
# Synchronous faults keep their default action, as in tini: a Python handler for SIGSEGV
# would re-enter the faulting instruction forever. SIGKILL and SIGSTOP cannot be caught.
UNCAUGHT_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE,
                              signal.SIGABRT, signal.SIGTRAP, signal.SIGSYS,
                              signal.SIGKILL, signal.SIGSTOP})

_PR_GET_CHILD_SUBREAPER = 37


@dataclass
class Duty:
    """The callbacks the caller provides. Both may raise; both may block on the network."""
    tick: Callable[[], Any]               # one verify-and-repair pass
    deregister: Callable[[float], Any]    # remove own registration within the given seconds


def supervise(argv: Optional[List[str]], duty: Duty, *, interval: float, jitter: float = 0.1,
              drain_delay: float, deregister_timeout: float, log: logging.Logger,
              on_tick_result: Optional[Callable[[Any, Optional[BaseException]], None]] = None
              ) -> int:
    """Run `argv` as a child (supervise mode) or no child (argv None: watch mode) and tick
    `duty` every `interval` seconds until the child exits or SIGTERM/SIGINT arrives.

    Returns the exit status to use: the child's (128 + N if killed by signal N), 127/126 if it
    cannot be started, 0 in watch mode. Must be called from the main thread (signal handlers)."""
    _check_settings(argv, interval, jitter, drain_delay, deregister_timeout)
    if threading.current_thread() is not threading.main_thread():
        raise ValueError("supervise must run in the main thread (it installs signal handlers)")
    with _SignalPipe() as sigs:
        child = None
        if argv is not None:
            child = _start_child(argv, log)
            if isinstance(child, int):
                return child
        loop = _Supervisor(sigs, duty, child, log, interval=interval, jitter=jitter,
                           drain_delay=drain_delay, deregister_timeout=deregister_timeout,
                           on_tick_result=on_tick_result)
        return loop.run()


def _check_settings(argv, interval, jitter, drain_delay, deregister_timeout) -> None:
    if argv is not None and not argv:
        raise ValueError("argv is empty; pass None for watch mode")
    if interval <= 0 or not 0 <= jitter < 1:
        raise ValueError(f"interval must be > 0 and 0 <= jitter < 1 (got {interval}, {jitter})")
    if drain_delay < 0 or deregister_timeout <= 0:
        raise ValueError("drain_delay must be >= 0 and deregister_timeout > 0")


def _start_child(argv: List[str], log: logging.Logger):
    """Popen the app, or return 127/126 with the same stderr line as the exec handoff."""
    try:
        # close_fds=False: descriptors we inherited reach the app as they do through exec (and
        # dumb-init); our own are non-inheritable (PEP 446), so none of them leak.
        child = subprocess.Popen(argv, close_fds=False)
    except FileNotFoundError:
        return _cannot_run(argv[0], "command not found", 127)
    except PermissionError:
        return _cannot_run(argv[0], "permission denied (not executable)", 126)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return _cannot_run(argv[0], "command not found", 127)
        return _cannot_run(argv[0], exc.strerror or str(exc), 126)
    log.info("supervise: started pid=%d command=%s", child.pid, argv[0])
    return child


def _cannot_run(command: str, reason: str, code: int) -> int:
    # Written raw, like handoff.py, so exec and supervise modes fail with the same line.
    sys.stderr.write(f"{PREFIX} {command}: {reason}\n")
    sys.stderr.flush()
    return code


def _exit_status(wait_status: int) -> int:
    """waitpid status -> shell convention: the exit code, or 128 + N for death by signal N."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"SIG{signum}"


def _adopts_orphans() -> bool:
    """True when orphans re-parent to us (PID 1 or a child subreaper). Only then do we reap
    with waitpid(-1): otherwise it could steal the status of a process some tick started."""
    if os.getpid() == 1:
        return True
    try:
        flag = ctypes.c_int(0)
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0) == 0 \
            and flag.value != 0
    except (OSError, AttributeError):
        return False


class _SignalPipe:
    """Handlers queue signal numbers; set_wakeup_fd wakes the main thread's select() even when
    the kernel delivers the signal to a worker thread. Threads wake it with `wake()`."""

    def __enter__(self) -> "_SignalPipe":
        self.pending: deque = deque()
        self._read, self._write = os.pipe()  # non-inheritable (PEP 446): the app never sees it
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._poll = select.poll()  # not select(): no FD_SETSIZE limit on the fd number
        self._poll.register(self._read, select.POLLIN)
        self._old_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._old = {}
        for signum in _catchable_signals():
            try:
                self._old[signum] = signal.signal(signum, self._handler)
            except (OSError, ValueError):  # reserved by the C library (32, 33)
                pass
        return self

    def __exit__(self, *exc) -> None:
        for signum, old in self._old.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._old_fd)
        os.close(self._read)
        os.close(self._write)

    def _handler(self, signum, _frame) -> None:
        self.pending.append(signum)

    def wake(self) -> None:
        try:
            os.write(self._write, b"\0")
        except (BlockingIOError, OSError):  # full pipe: a wake-up is already pending
            pass

    def wait(self, timeout: float) -> List[int]:
        """Sleep until a signal, a wake() or the timeout; return the signals queued since."""
        if not self.pending:
            self._poll.poll(max(0, int(timeout * 1000) + 1))  # ms, rounded up
        try:
            while os.read(self._read, 4096):
                pass
        except BlockingIOError:
            pass
        taken = []
        while self.pending:
            taken.append(self.pending.popleft())
        return taken


def _catchable_signals() -> List[int]:
    return sorted(s for s in signal.valid_signals() if s not in UNCAUGHT_SIGNALS)


class _Worker:
    """One callback in a daemon thread, so the main thread can stop waiting for it."""

    def __init__(self, name: str, target: Callable[[], None], wake: Callable[[], None]):
        self.done = threading.Event()
        self.started = time.monotonic()
        self.ended: Optional[float] = None

        def run() -> None:
            try:
                target()
            finally:
                self.ended = time.monotonic()
                self.done.set()
                wake()
        threading.Thread(target=run, name=name, daemon=True).start()


class _Supervisor:
    """The main-thread loop. Phases: serve (tick, forward, reap) until the child exits or a
    shutdown signal; then finish the running tick, deregister, drain, forward, wait."""

    def __init__(self, sigs: _SignalPipe, duty: Duty, child: Optional[subprocess.Popen],
                 log: logging.Logger, *, interval: float, jitter: float, drain_delay: float,
                 deregister_timeout: float, on_tick_result) -> None:
        self.sigs, self.duty, self.child, self.log = sigs, duty, child, log
        self.interval, self.jitter = interval, jitter
        self.drain_delay, self.deregister_timeout = drain_delay, deregister_timeout
        self.on_tick_result = on_tick_result
        self.reap_all = _adopts_orphans()
        self.status: Optional[int] = None      # the child's, once reaped
        self.stop_signal: Optional[int] = None  # the first SIGTERM/SIGINT
        self.hurry = False                      # a second one: skip to forwarding
        self.forwarding_all = False             # after the hand-over, forward TERM/INT too
        self.tick: Optional[_Worker] = None
        self.next_tick = time.monotonic() + self._pause()

    def run(self) -> int:
        self._serve()
        budget_end = time.monotonic() + self.deregister_timeout
        # Half the budget at most for a running tick, so deregistration always gets the rest.
        self._wait_for(self._tick_idle, time.monotonic() + self.deregister_timeout / 2,
                       "tick still running; deregistering anyway")
        self._deregister(budget_end)
        if self.child is None:
            self.log.info("watch: stopped after signal=%s", _signal_name(self.stop_signal or 0))
            return 0
        if self.status is None:
            self._drain()
            self._hand_over()
        self._wait_for(self._child_gone, None, "")
        self.log.info("supervise: done status=%d", self.status)
        return self.status

    # -- phases -----------------------------------------------------------------------------

    def _serve(self) -> None:
        while self.stop_signal is None and not self._child_gone():
            now = time.monotonic()
            if self._tick_idle() and now >= self.next_tick:
                self._start_tick()
                continue
            wait = self.next_tick - now if self._tick_idle() else None
            self._service(wait)
        if self.stop_signal is not None:
            self.log.info("shutdown: signal=%s; stopping ticks, deregistering",
                          _signal_name(self.stop_signal))
        else:
            self.log.info("supervise: app exited status=%d; stopping ticks, deregistering",
                          self.status)

    def _deregister(self, budget_end: float) -> None:
        if self.hurry:
            self.log.warning("deregister: skipped, second shutdown signal")
            return
        allowed = max(0.0, budget_end - time.monotonic())
        worker = _Worker("aci-ip-registrar-deregister",
                         lambda: self._call_deregister(allowed), self.sigs.wake)
        if self._wait_for(worker.done.is_set, budget_end,
                          f"deregister: still running after {self.deregister_timeout:g}s; "
                          "abandoned, going on"):
            self.log.info("deregister: finished in %.2fs", worker.ended - worker.started)

    def _call_deregister(self, allowed: float) -> None:
        try:
            self.duty.deregister(allowed)
        except BaseException as exc:  # noqa: BLE001 -- the sequence must go on
            self.log.warning("deregister: failed: %s", _one_line(exc))

    def _drain(self) -> None:
        if self.drain_delay > 0 and not self.hurry:
            self.log.info("drain: waiting %gs before forwarding %s", self.drain_delay,
                          _signal_name(self.stop_signal))
            self._wait_for(self._child_gone, time.monotonic() + self.drain_delay, "")

    def _hand_over(self) -> None:
        if self.status is None:
            self._forward(self.stop_signal)
        self.forwarding_all = True

    # -- ticks ------------------------------------------------------------------------------

    def _pause(self) -> float:
        return self.interval * (1 + random.uniform(-self.jitter, self.jitter))

    def _tick_idle(self) -> bool:
        return self.tick is None or self.tick.done.is_set()

    def _start_tick(self) -> None:
        self.tick = _Worker("aci-ip-registrar-tick", self._run_tick, self.sigs.wake)

    def _run_tick(self) -> None:
        result, error = None, None
        try:
            result = self.duty.tick()
        except BaseException as exc:  # noqa: BLE001 -- soft error: log, go on
            error = exc
            self.log.warning("tick: failed: %s", _one_line(exc))
        if self.on_tick_result is not None:
            try:
                self.on_tick_result(result, error)
            except Exception as exc:  # noqa: BLE001
                self.log.warning("tick: result callback failed: %s", _one_line(exc))
        # Set before the worker reports done, so the loop never sees an idle, overdue state.
        # A fixed pause after the end of a pass: a slow Azure is not hammered back to back.
        self.next_tick = time.monotonic() + self._pause()

    # -- events -----------------------------------------------------------------------------

    def _wait_for(self, done: Callable[[], bool], deadline: Optional[float], late: str) -> bool:
        """Service signals until done() (True), the deadline or a second shutdown signal."""
        while not done():
            if self.hurry and deadline is not None:
                return False
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                if late:
                    self.log.warning(late)
                return False
            self._service(None if deadline is None else deadline - now)
        return True

    def _service(self, timeout: Optional[float]) -> None:
        # A 1 s cap guards against a SIGCHLD lost to a full pipe; reaping is idempotent.
        for signum in self.sigs.wait(1.0 if timeout is None else min(timeout, 1.0)):
            self._on_signal(signum)
        self._reap()

    def _on_signal(self, signum: int) -> None:
        if signum == signal.SIGCHLD or signum in SELF_SIGNALS:
            return
        if signum in SHUTDOWN_SIGNALS and not self.forwarding_all:
            if self.stop_signal is None:
                self.stop_signal = signum
            elif not self.hurry:
                self.hurry, self.stop_signal = True, signum
                self.log.warning("shutdown: second signal=%s; forwarding now",
                                 _signal_name(signum))
            return
        self._forward(signum)

    def _forward(self, signum: int) -> None:
        if self.child is None or self.status is not None:
            self.log.debug("signal: %s ignored, no running app", _signal_name(signum))
            return
        self.log.debug("signal: forwarding %s to pid=%d", _signal_name(signum), self.child.pid)
        try:
            os.kill(self.child.pid, signum)
        except ProcessLookupError:  # exited, not yet reaped
            pass

    def _reap(self) -> None:
        while True:
            try:
                pid, wait_status = os.waitpid(-1 if self.reap_all else self._child_pid(),
                                              os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.child is not None and pid == self.child.pid:
                self.status = _exit_status(wait_status)
                # Keep Popen consistent so it never waits on a pid that is gone (or reused).
                self.child.returncode = os.waitstatus_to_exitcode(wait_status)

    def _child_pid(self) -> int:
        if self.child is None or self.status is not None:
            raise ChildProcessError  # nothing of ours to reap
        return self.child.pid

    def _child_gone(self) -> bool:
        return self.child is not None and self.status is not None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {text}"
