"""A test app: records the signals it receives, then behaves as told.

    app.py [--exit-after S] [--code N] [--on-stop die|exit:N] [--crash segv|abort]
           [--orphans N --orphan-life S]

Events go to $SUP_EVENTS like the driver's. SIGTERM/SIGINT end it (`--on-stop die`: by the
signal itself; `exit:N`: with code N); every other recorded signal is only noted.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys
import time

NOTED = ["SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCONT", "SIGTSTP", "SIGALRM"]


def event(name: str, **fields) -> None:
    extra = "".join(f" {k}={v}" for k, v in fields.items())
    with open(os.environ["SUP_EVENTS"], "a") as fh:
        fh.write(f"{time.time():.6f} {name}{extra}\n")


def signame(signum: int) -> str:
    return signal.Signals(signum).name if signum in signal.Signals._value2member_map_ \
        else f"SIG{signum}"


def install(on_stop: str) -> None:
    def noted(signum, _frame):
        event("app-signal", sig=signame(signum))

    def stop(signum, _frame):
        event("app-signal", sig=signame(signum))
        if on_stop == "die":
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        os._exit(int(on_stop.split(":")[1]))

    for name in NOTED:
        signal.signal(getattr(signal, name), noted)
    signal.signal(signal.SIGRTMIN + 1, noted)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def spawn_orphans(count: int, life: float) -> None:
    """Double fork: the middle child exits at once, so each grandchild re-parents to the
    nearest subreaper (PID 1 of the namespace) and becomes its zombie when it exits."""
    for _ in range(count):
        middle = os.fork()
        if middle == 0:
            if os.fork() == 0:
                time.sleep(life)
                event("grandchild-exit", pid=os.getpid(), ppid=os.getppid())
                os._exit(0)
            os._exit(0)
        os.waitpid(middle, 0)


def crash(kind: str) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if kind == "segv":
        ctypes.string_at(0)  # a real invalid read: the kernel sends SIGSEGV
    os.abort()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exit-after", type=float)
    parser.add_argument("--code", type=int, default=0)
    parser.add_argument("--on-stop", default="die")
    parser.add_argument("--crash")
    parser.add_argument("--orphans", type=int, default=0)
    parser.add_argument("--orphan-life", type=float, default=0.3)
    args = parser.parse_args()
    install(args.on_stop)
    print("app-stdout", flush=True)
    event("app-start", pid=os.getpid(), ppid=os.getppid(),
          fds=",".join(sorted(os.listdir("/proc/self/fd"), key=int)))
    spawn_orphans(args.orphans, args.orphan_life)
    if args.crash:
        crash(args.crash)
    deadline = time.monotonic() + (args.exit_after if args.exit_after is not None else 30)
    while time.monotonic() < deadline:
        time.sleep(0.01)
    sys.exit(args.code)


if __name__ == "__main__":
    main()
