"""Run supervisor.supervise() as a real process, for the process tests.

    driver.py [--interval S] [--drain S] [--deregister-timeout S] [--deregister-hang S]
              [--subreaper] [-- APP ARGV...]        (no `--`: watch mode)

Every event is one line "<unix time> <event> key=value..." appended to the file named by
$SUP_EVENTS. Each tick also reports how many zombies we are the parent of, read from /proc.
"""
from __future__ import annotations

import argparse
import ctypes
import logging
import os
import sys
import time

from aci_ip_registrar import logs
from aci_ip_registrar.supervisor import Duty, supervise

PR_SET_CHILD_SUBREAPER = 36


def event(name: str, **fields) -> None:
    extra = "".join(f" {k}={v}" for k, v in fields.items())
    with open(os.environ["SUP_EVENTS"], "a") as fh:
        fh.write(f"{time.time():.6f} {name}{extra}\n")


def my_zombies() -> int:
    """Zombies whose parent is this process (as PID 1 of a namespace: every orphan's)."""
    count, me = 0, os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == me:
            count += 1
    return count


def make_duty(hang: float) -> Duty:
    ticks = []

    def tick():
        ticks.append(1)
        event("tick", n=len(ticks), zombies=my_zombies())
        return {"ok": True}

    def deregister(allowed: float):
        event("deregister-start", allowed=f"{allowed:.3f}")
        time.sleep(hang)
        event("deregister-end")

    return Duty(tick=tick, deregister=deregister)


def main() -> int:
    argv = sys.argv[1:]
    app = argv[argv.index("--") + 1:] if "--" in argv else None
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--drain", type=float, default=0.0)
    parser.add_argument("--deregister-timeout", type=float, default=1.0)
    parser.add_argument("--deregister-hang", type=float, default=0.0)
    parser.add_argument("--subreaper", action="store_true")
    args = parser.parse_args(own)
    if args.subreaper:
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    logs.setup(2, "text")
    event("driver-start", pid=os.getpid())
    status = supervise(app, make_duty(args.deregister_hang), interval=args.interval,
                       drain_delay=args.drain, deregister_timeout=args.deregister_timeout,
                       log=logging.getLogger("aci_ip_registrar.supervisor"))
    event("driver-exit", status=status)
    return status


if __name__ == "__main__":
    sys.exit(main())
