"""Hand the process over to the app with exec: same PID, argv untouched, environment passed.

Python opens its own descriptors non-inheritable (PEP 446), so sockets of the SDK clients do not
leak into the app; descriptors this process inherited stay inherited, as with dumb-init.
"""
from __future__ import annotations

import errno
import logging
import os
import sys
from typing import List, NoReturn

from .errors import EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND

PREFIX = "[aci-ip-registrar]"


def exec_command(argv: List[str]) -> NoReturn:
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        _die(argv[0], "command not found", EXIT_NOT_FOUND)
    except PermissionError:
        _die(argv[0], "permission denied (not executable)", EXIT_NOT_EXECUTABLE)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            _die(argv[0], "command not found", EXIT_NOT_FOUND)
        _die(argv[0], exc.strerror or str(exc), EXIT_NOT_EXECUTABLE)
    raise AssertionError("unreachable")  # pragma: no cover


def exit_now(code: int) -> NoReturn:
    """Exit after the output, without the interpreter's teardown: collecting the SDK's modules
    at exit costs about half a second when there is no app to exec. Skipped when the streams
    are not the process's own (an in-process runner must get SystemExit) and under a profiler,
    tracer or coverage, which write their results at exit."""
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    if sys.stdout is sys.__stdout__ and sys.stderr is sys.__stderr__ and \
            sys.getprofile() is None and sys.gettrace() is None:
        os._exit(code)
    sys.exit(code)


def _die(command: str, reason: str, code: int) -> NoReturn:
    os.write(2, f"{PREFIX} {command}: {reason}\n".encode("utf-8", "replace"))
    os._exit(code)
