"""Process measurement: wall time to the exec'd command's first instruction, and peak RSS.

Wall time: the clock is read just before Popen; the measured process ends by exec'ing
`date +%s.%N` (GNU date starts in about a millisecond), whose timestamp is the moment the
command came to run. Both use CLOCK_REALTIME, so they compare directly.

Peak RSS: os.wait4() returns the child's rusage. Linux keeps ru_maxrss in the process's signal
struct and carries it across exec (exec_mmap folds the old image's high-water mark in), so after
`python ... -> exec date` ru_maxrss is the Python process's own peak. Children that the process
waited for are included too (RUSAGE_BOTH in wait_task_zombie). The old image of a freshly forked
child is its parent's, so processes are started by the small launcher _spawn.py, never directly
by the benchmark (whose own peak would otherwise be the floor of every figure). self_check()
verifies this on the machine: N MB allocated before exec shows as about N MB more.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

DATE = shutil.which("date") or "/bin/date"
STAMP = [DATE, "+%s.%N"]


def base_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of every measured process: nothing from a developer's Azure login, no
    IMDS probe (DefaultAzureCredential's IMDS leg is pointed at a closed loopback port instead of
    169.254.169.254), and Python's default bytecode caching (PYTHONDONTWRITEBYTECODE removed so
    every measured interpreter runs from cached .pyc files after the warm-up, as an installed
    package does)."""
    drop_prefixes = ("AZURE_", "ACI_IP_REGISTRAR_", "IDENTITY_", "MSI_")
    drop = {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "PYTHONDONTWRITEBYTECODE",
            "PYTHONPROFILEIMPORTTIME", "PYTHONPYCACHEPREFIX", "HTTPS_PROXY", "HTTP_PROXY",
            "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(drop_prefixes) and k not in drop}
    env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = "http://127.0.0.1:9"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    if extra:
        env.update(extra)
    return env


def registrar_cmd(python: str) -> List[str]:
    """The console script next to the measured interpreter (as a user runs it), else python -m."""
    script = Path(python).with_name("aci-ip-registrar")
    return [str(script)] if script.exists() else [python, "-m", "aci_ip_registrar"]


@dataclass
class Result:
    argv: List[str]
    start: float                 # time.time() just before Popen
    end: float                   # time.time() after the process was reaped
    code: int
    rss_kb: int                  # ru_maxrss of the process (kB on Linux)
    stdout: str
    stderr: str
    stamps: List[float] = field(default_factory=list)  # `date +%s.%N` lines found on stdout
    cpu_s: Optional[float] = None  # user + system CPU of the process (and what it waited for)

    @property
    def ran_at(self) -> Optional[float]:
        """When the exec'd command started (the last timestamp on stdout)."""
        return self.stamps[-1] if self.stamps else None

    @property
    def wall(self) -> Optional[float]:
        return None if self.ran_at is None else self.ran_at - self.start

    @property
    def rss_mb(self) -> float:
        return self.rss_kb / 1024.0

    def tail(self, n: int = 800) -> str:
        return (self.stderr or "")[-n:]


def _stamps(text: str) -> List[float]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        head, dot, frac = line.partition(".")
        if dot and head.isdigit() and frac.isdigit() and len(head) >= 9:
            out.append(float(line))
    return out


SPAWN = Path(__file__).resolve().with_name("_spawn.py")


class Proc:
    """A started process (through _spawn.py) whose output is drained by threads."""

    def __init__(self, argv: Sequence[str], env: Dict[str, str], cwd: Optional[str] = None):
        self.argv = [str(a) for a in argv]
        self._out: List[bytes] = []
        self._err: List[bytes] = []
        fd, self._result = tempfile.mkstemp(prefix="bench-spawn-", suffix=".json")
        os.close(fd)
        self.start = time.time()  # replaced by the launcher's own clock reading
        self.p = subprocess.Popen([sys.executable, "-I", "-S", str(SPAWN), self._result,
                                   *self.argv], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  start_new_session=True)
        self._threads = [threading.Thread(target=self._drain, args=(self.p.stdout, self._out),
                                          daemon=True),
                         threading.Thread(target=self._drain, args=(self.p.stderr, self._err),
                                          daemon=True)]
        for t in self._threads:
            t.start()

    def _kill(self) -> None:
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except OSError:
            pass

    @staticmethod
    def _drain(stream, sink: List[bytes]) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            sink.append(chunk)
        stream.close()

    def wait(self, timeout: float) -> Result:
        timer = threading.Timer(timeout, self._kill)
        timer.daemon = True
        timer.start()
        try:
            self.p.wait()
        finally:
            timer.cancel()
        for t in self._threads:
            t.join(5)
        out = b"".join(self._out).decode("utf-8", "replace")
        err = b"".join(self._err).decode("utf-8", "replace")
        try:
            with open(self._result) as fh:
                info = json.load(fh)
        except (OSError, ValueError):
            info = {}
        finally:
            try:
                os.unlink(self._result)
            except OSError:
                pass
        if info:
            code = os.waitstatus_to_exitcode(info["status"])
            start, end, rss = info["start"], info["end"], info["maxrss_kb"]
            cpu = info["utime"] + info["stime"]
        else:  # killed before it could report
            code, start, end, rss, cpu = self.p.returncode or -9, self.start, time.time(), 0, None
            err += f"\n[bench] no result from the launcher (exit {self.p.returncode}; timeout?)"
        return Result(self.argv, start, end, code, rss, out, err, _stamps(out), cpu)


def run(argv: Sequence[str], env: Dict[str, str], timeout: float = 300.0,
        cwd: Optional[str] = None) -> Result:
    return Proc(argv, env, cwd).wait(timeout)


def self_check(env: Dict[str, str]) -> Dict[str, object]:
    """Show that ru_maxrss survives exec (allocate N MB in Python, then exec `date`), and what a
    process started directly by this (big) benchmark process would report instead."""
    rows = []
    for mb in (0, 64, 256):
        code = (f"b = bytearray({mb} * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); "
                f"import os; os.execv({DATE!r}, {STAMP!r})")
        res = run([sys.executable, "-c", code], env, timeout=60)
        rows.append({"allocated_mb": mb, "ru_maxrss_mb": round(res.rss_mb, 1),
                     "exit": res.code})
    base = rows[0]["ru_maxrss_mb"]
    ok = all(r["exit"] == 0 and r["ru_maxrss_mb"] >= base + r["allocated_mb"] * 0.95
             for r in rows)
    direct = subprocess.Popen(STAMP, env=env, stdout=subprocess.DEVNULL)
    _, _, ru = os.wait4(direct.pid, 0)
    direct.returncode = 0
    return {"rows": rows, "maxrss_survives_exec": ok,
            "date_started_directly_by_benchmark_mb": round(ru.ru_maxrss / 1024, 1),
            "date_via_launcher_mb": round(run(STAMP, env, timeout=30).rss_mb, 1)}
