"""Click commands to mount on the main CLI: `emulator` (serve) and `emulator-log` (read the log)."""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional

import click

PREFIX = "[aci-ip-registrar] "
logger = logging.getLogger("aci_ip_registrar.emulator.cli")


def _stderr_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(PREFIX + "%(message)s"))
    for name in ("aci_ip_registrar.emulator",):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.propagate = False
        log.setLevel(logging.WARNING if quiet else logging.INFO)


def _access_line(entry: Dict[str, Any]) -> str:
    parts = [f"emulator {entry['method']} {entry['path']}", f"status={entry['status']}", f"kind={entry['kind']}"]
    for key in ("fault", "error_code", "op_status", "if_match"):
        if entry.get(key):
            parts.append(f"{key}={entry[key]}")
    return " ".join(parts)


def export_lines(env: Dict[str, str]) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())


def _detach_stdout() -> None:
    """Close stdout after the exports, so `eval "$(aci-ip-registrar emulator &)"` sees EOF and returns."""
    try:
        if sys.stdout.fileno() != 1 or os.isatty(1):
            return
    except (AttributeError, ValueError, OSError):
        return  # not a real file descriptor (e.g. click's test runner)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _env(name: str) -> str:
    return f"ACI_IP_REGISTRAR_EMULATOR_{name}"


@click.command("emulator")
@click.option("--port", type=int, default=0, show_default=True, envvar=_env("PORT"),
              help="HTTPS port for the ARM endpoint on 127.0.0.1 (0 picks a free one).")
@click.option("--identity-port", type=int, default=0, show_default=True, envvar=_env("IDENTITY_PORT"),
              help="HTTP port for the managed-identity token endpoint (0 picks a free one).")
@click.option("--seed", "seed_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              envvar=_env("SEED"), help="JSON seed file (see examples/emulator-seed.json).")
@click.option("--op-duration", type=float, default=60.0, show_default=True, envvar=_env("OP_DURATION"),
              help="Seconds an App Gateway operation stays InProgress ('inf' for ever), queued then applying.")
@click.option("--queued-share", type=float, default=0.5, show_default=True, envvar=_env("QUEUED_SHARE"),
              help="Share of an operation spent queued (GET still shows the old gateway) before applying.")
@click.option("--retry-after", type=float, default=10.0, show_default=True, envvar=_env("RETRY_AFTER"),
              help="Seconds sent as Retry-After on operation polls and 429s.")
@click.option("--time-scale", type=float, default=1.0, show_default=True, envvar=_env("TIME_SCALE"),
              help="Multiplies operation durations and Retry-After (e.g. 0.01 for a fast demo).")
@click.option("--aci-op-duration", type=float, default=20.0, show_default=True, envvar=_env("ACI_OP_DURATION"),
              help="Seconds a container group start or restart takes.")
@click.option("--integer-retry-after/--decimal-retry-after", default=True, show_default=True,
              envvar=_env("INTEGER_RETRY_AFTER"), help="Retry-After in whole seconds (as the spec types it).")
@click.option("--identity-form", type=click.Choice(["imds", "appservice"]), default="imds", show_default=True,
              envvar=_env("IDENTITY_FORM"), help="Managed-identity variables to export: IMDS (as in ACI) or App Service.")
@click.option("--enforce-if-match/--no-enforce-if-match", default=False, show_default=True,
              envvar=_env("ENFORCE_IF_MATCH"), help="Answer a stale If-Match on App Gateway with 412 (Azure: unconfirmed).")
@click.option("--on-concurrent-put", type=click.Choice(["supersede", "reject"]), default="supersede",
              show_default=True, envvar=_env("ON_CONCURRENT_PUT"),
              help="A gateway PUT during another operation cancels it, or gets 429 "
                   "RetryableErrorDueToAnotherOperation.")
@click.option("--roles", "roles_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              envvar=_env("ROLES"),
              help="Enforce Azure RBAC for the caller: a JSON list of role assignments "
                   "[{\"scope\", \"actions\", \"notActions\"}], or {\"role\": <az role definition JSON>, "
                   "\"assignments\": [{\"scope\": ...}]}. Without it everything is allowed.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the CA certificate (default: a temporary directory removed on exit).")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the export lines to this file.")
@click.option("--quiet", is_flag=True, help="Do not log each request on stderr.")
def emulator_command(port: int, identity_port: int, seed_file: Optional[Path], op_duration: float,
                     queued_share: float, retry_after: float, time_scale: float, aci_op_duration: float,
                     integer_retry_after: bool, identity_form: str, enforce_if_match: bool,
                     on_concurrent_put: str, roles_file: Optional[Path], workdir: Optional[Path],
                     env_file: Optional[Path], quiet: bool) -> None:
    """Serve the loopback ARM emulator until interrupted.

    Prints, as shell export lines on stdout, everything a client needs (endpoint, CA bundle,
    managed-identity endpoint and header, subscription id), then closes stdout. Logs go to stderr.
    """
    from . import Emulator, rbac  # imported late: `--help` stays fast

    _stderr_logging(quiet)
    roles = None
    if roles_file is not None:
        try:
            roles = rbac.load(json.loads(roles_file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"cannot read the role assignments in {roles_file}: {exc}") from exc
    try:
        emu = Emulator(seed_file, port=port, identity_port=identity_port, op_duration=op_duration,
                       queued_share=queued_share, retry_after=retry_after, time_scale=time_scale,
                       aci_op_duration=aci_op_duration, integer_retry_after=integer_retry_after,
                       identity_form=identity_form, enforce_if_match=enforce_if_match,
                       on_concurrent_put=on_concurrent_put, workdir=workdir)
        if roles_file is not None:
            emu.set_role_assignments(roles)
        emu.start()
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot start the emulator: {exc}") from exc
    if not quiet:
        emu.add_log_listener(lambda entry: logger.info(_access_line(entry)))
    env = dict(emu.env(), ACI_IP_REGISTRAR_EMULATOR_PID=str(os.getpid()))
    exports = export_lines(env)
    if env_file is not None:
        env_file.write_text(exports, encoding="utf-8")
    click.echo(exports, nl=False)
    sys.stdout.flush()
    _detach_stdout()
    logger.warning("emulator listening on %s (identity %s, subscription %s); Ctrl-C to stop",
                   emu.base_url, emu.imds_authority if identity_form == "imds" else emu.identity_endpoint,
                   emu.subscription_id)
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:
        pass  # not the main thread
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        logger.warning("emulator stopped")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _fetch(endpoint: str, route: str, ca_bundle: Optional[str], method: str = "GET") -> Any:
    ctx = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
    req = urllib.request.Request(endpoint.rstrip("/") + route, method=method)
    with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:  # noqa: S310 - loopback emulator
        data = resp.read()
    return json.loads(data) if data else None


def _log_line(entry: Dict[str, Any]) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(entry["time"])) + f".{int(entry['time'] * 1000) % 1000:03d}"
    parts = [stamp, f"{entry['method']:<6}", str(entry["status"] if entry["status"] is not None else "-"),
             f"{entry['kind']:<5}", entry["path"]]
    for key in ("fault", "error_code", "op_status", "if_match", "if_none_match"):
        if entry.get(key):
            parts.append(f"{key}={entry[key]}")
    return " ".join(parts)


@click.command("emulator-log")
@click.option("--endpoint", envvar="ACI_IP_REGISTRAR_ARM_ENDPOINT", required=True,
              help="The emulator's ARM endpoint (default: $ACI_IP_REGISTRAR_ARM_ENDPOINT).")
@click.option("--ca-bundle", envvar="ACI_IP_REGISTRAR_CA_BUNDLE", default=None,
              help="CA bundle to trust (default: $ACI_IP_REGISTRAR_CA_BUNDLE).")
@click.option("--json", "as_json", is_flag=True, help='Print {"log": [...], "counts": {...}} as JSON.')
@click.option("--clear", is_flag=True, help="Clear the log after reading it.")
def emulator_log_command(endpoint: str, ca_bundle: Optional[str], as_json: bool, clear: bool) -> None:
    """Print a running emulator's request log and its counts by kind."""
    try:
        log = _fetch(endpoint, "/_emulator/log", ca_bundle)
        counts = _fetch(endpoint, "/_emulator/counts", ca_bundle)
        if clear:
            _fetch(endpoint, "/_emulator/log", ca_bundle, method="DELETE")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read the emulator log from {endpoint}: {exc}") from exc
    if as_json:
        click.echo(json.dumps({"log": log, "counts": counts}, indent=2))
        return
    for entry in log:
        click.echo(_log_line(entry))
    click.echo(" ".join(f"{key}={value}" for key, value in counts.items()))
