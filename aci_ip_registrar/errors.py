"""The project's one error tree and its exit codes.

    RegistrarError                 base; carries an exit code
    ├── UsageError                 2  bad command line
    ├── ConfigError                3  bad settings or a misconfigured target (bad ID, missing pool)
    ├── DiscoveryError             4  the member's own IP cannot be found or is refused
    ├── PermissionDenied           5  authentication failed or an action is not permitted
    │   └── CredentialUnavailable     no credential could be found at all (dry run goes offline)
    ├── RegistrationFailed         6  retries or the time budget ran out
    ├── UnsafePlanRefused          7  the plan would break an invariant (ledger full, foreign exclusive)
    └── Retryable                     transient: re-read and re-plan; never leaves the retry loop
    Interrupted (BaseException)    128+N  a signal stopped the run before the app started

126 and 127 are the shell's codes for a command that cannot run. After a successful exec the exit
code is the app's own. EXIT_CODES is the one table: `exit-codes` prints it and README.md embeds it
(a test keeps them equal). Never change a published code.
"""
from __future__ import annotations

import signal
from typing import Optional

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_DISCOVERY = 4
EXIT_PERMISSION = 5
EXIT_REGISTRATION = 6
EXIT_UNSAFE = 7
EXIT_DRIFT = 8
EXIT_CHANGED = 9
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127
EXIT_SIGHUP = 128 + signal.SIGHUP
EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGTERM = 128 + signal.SIGTERM

EXIT_CODES = {
    EXIT_OK: "registered (or dry run done) and no command to run",
    EXIT_USAGE: "usage error: unknown option, missing value, conflicting IP sources, a per-target "
                "option given twice",
    EXIT_CONFIG: "configuration error: bad target ID, mode, TTL, member, number, CA bundle, "
                 "client certificate or endpoint; target, pool, zone or container group not found",
    EXIT_DISCOVERY: "IP discovery failed, or the IP is one no container holds (loopback, "
                    "link-local, multicast, broadcast, reserved, 0/8) or public and not allowed",
    EXIT_PERMISSION: "authentication failed or permission denied; the message names the missing "
                     "action and scope",
    EXIT_REGISTRATION: "registration failed after retries, or the `--timeout` budget ran out; the "
                       "message names what was pending",
    EXIT_UNSAFE: "unsafe plan refused before any write: gateway tags full or over Azure's limits, "
                 "another member or an unparseable ledger entry holds an exclusive target, an "
                 "auto-registered record",
    EXIT_DRIFT: "`status`: a target is not in sync with the member (drift found; nothing written)",
    EXIT_CHANGED: "`sync`: the pass wrote changes (with `--dry-run`: would write them); the "
                  "targets are now in sync",
    EXIT_NOT_EXECUTABLE: "the command was found but cannot be executed",
    EXIT_NOT_FOUND: "the command was not found",
    EXIT_SIGHUP: "stopped by SIGHUP before the app started (nothing new written, app not started)",
    EXIT_SIGINT: "stopped by SIGINT before the app started (nothing new written, app not started)",
    EXIT_SIGTERM: "stopped by SIGTERM before the app started (nothing new written, app not "
                  "started)",
}


def exit_code_table() -> str:
    """The table as Markdown; the same text is in README.md."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {code} | {meaning} |" for code, meaning in sorted(EXIT_CODES.items())]
    return "\n".join(rows)


class RegistrarError(Exception):
    exit_code = EXIT_REGISTRATION

    def __init__(self, message: str, *, target: Optional[str] = None,
                 status: Optional[int] = None, code: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.target = target
        self.status = status
        self.code = code


class UsageError(RegistrarError):
    exit_code = EXIT_USAGE


class ConfigError(RegistrarError):
    exit_code = EXIT_CONFIG


class DiscoveryError(RegistrarError):
    exit_code = EXIT_DISCOVERY


class PermissionDenied(RegistrarError):
    exit_code = EXIT_PERMISSION


class CredentialUnavailable(PermissionDenied):
    """No credential in the chain could get a token (raised by the credential, not by ARM)."""


class RegistrationFailed(RegistrarError):
    exit_code = EXIT_REGISTRATION


class UnsafePlanRefused(RegistrarError):
    exit_code = EXIT_UNSAFE


class Retryable(RegistrarError):
    """A transient condition: re-read and re-plan. Never leaves the retry loop as itself."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class Interrupted(BaseException):
    """A stop signal arrived before the app started. A BaseException, so that no `except
    Exception` on the way (ours, azure-core's) can swallow it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum
