"""Start one measured process from a small interpreter and report its clock and rusage.

    python -I -S _spawn.py RESULT_JSON ARGV...

Why a launcher: Linux folds the *old* address space's high-water RSS into ru_maxrss at exec, and
a forked (or vforked) child's old address space is its parent's. A process started directly from
the benchmark (which holds the emulator and the logs) would report at least the benchmark's own
peak. This launcher is a bare interpreter (no site, ~10 MB); its child starts from that, so the
child's ru_maxrss is its own peak (and, since it survives exec, the registrar's peak when the
registrar execs the app).

The start time is read here just before fork, so the launcher's own start-up is not counted.
"""
import json
import os
import sys
import time


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    start = time.time()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            os.write(2, f"_spawn: {argv[0]}: {exc}\n".encode())
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    end = time.time()
    with open(out, "w") as fh:
        json.dump({"start": start, "end": end, "status": status, "maxrss_kb": ru.ru_maxrss,
                   "utime": ru.ru_utime, "stime": ru.ru_stime}, fh)
    return os.waitstatus_to_exitcode(status) & 0xFF


if __name__ == "__main__":
    sys.exit(main())
