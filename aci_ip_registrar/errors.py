"""The project's one error tree and its exit codes.

    RegistrarError                 base; carries an exit code
    ├── UsageError                 2  bad command line
    ├── ConfigError                3  bad settings or a misconfigured target (bad ID, missing pool)
    ├── DiscoveryError             4  the member's own IP cannot be found or is refused
    ├── PermissionDenied           5  authentication failed or an action is not permitted
    ├── RegistrationFailed         6  retries or the time budget ran out
    └── UnsafePlanRefused          7  the plan would break an invariant (ledger full, foreign exclusive)

126 and 127 are the shell's codes for a command that cannot run. After a successful exec the exit
code is the app's own. The table lives here and in README.md; never change a published code.
"""
from __future__ import annotations

from typing import Optional

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_DISCOVERY = 4
EXIT_PERMISSION = 5
EXIT_REGISTRATION = 6
EXIT_UNSAFE = 7
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127

EXIT_CODES = {
    EXIT_OK: "registered (or dry run done) and no command to run",
    EXIT_USAGE: "usage error: unknown option, missing value",
    EXIT_CONFIG: "configuration error: bad target ID, mode, TTL, member, CA bundle; target not found",
    EXIT_DISCOVERY: "IP discovery failed, or the IP is loopback/link-local/public and not allowed",
    EXIT_PERMISSION: "authentication failed or permission denied (names the action and scope)",
    EXIT_REGISTRATION: "registration failed after retries, or the --timeout budget ran out",
    EXIT_UNSAFE: "unsafe plan refused: ledger full, or another member holds an exclusive target",
    EXIT_NOT_EXECUTABLE: "the command was found but cannot be executed",
    EXIT_NOT_FOUND: "the command was not found",
}


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


class RegistrationFailed(RegistrarError):
    exit_code = EXIT_REGISTRATION


class UnsafePlanRefused(RegistrarError):
    exit_code = EXIT_UNSAFE


class Retryable(RegistrarError):
    """A transient condition: re-read and re-plan. Never leaves the retry loop as itself."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after
