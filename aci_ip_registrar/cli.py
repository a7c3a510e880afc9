"""The command line: the only module that prints results or chooses exit codes."""
from __future__ import annotations

import importlib
import logging
import math
import random
import signal
import sys
import time
from typing import List, Optional

import click

from . import errors as E
from .boot import settle
from .config import (DEFAULT_ARM_ENDPOINT, Settings, check_ca_bundle, check_endpoint,
                     check_member, check_number, parse_container_group_opt, parse_targets)

log = logging.getLogger("aci_ip_registrar")
ENV = "ACI_IP_REGISTRAR_"


class LazyGroup(click.Group):
    """Subcommands imported on use: a boot (`register`) builds only its own options."""

    lazy = {
        "check": "aci_ip_registrar.commands:check_command",
        "demo": "aci_ip_registrar.demo:demo_command",
        "deregister": "aci_ip_registrar.commands:deregister_command",
        "emulator": "aci_ip_registrar.emulator.commands:emulator_command",
        "emulator-log": "aci_ip_registrar.emulator.commands:emulator_log_command",
        "roles": "aci_ip_registrar.commands:roles_command",
        "status": "aci_ip_registrar.commands:status_command",
        "sync": "aci_ip_registrar.commands:sync_command",
        "watch": "aci_ip_registrar.commands:watch_command",
    }

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name in self.lazy:
            settle()      # none of these is a boot that execs at once
            module, attr = self.lazy[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aci-ip-registrar")
def main_group():
    """Keep App Gateway pools and Private DNS records pointed at this container's IP."""


def _emit(text: str) -> None:
    click.echo(text)
    sys.stdout.flush()


def _fail(exc: E.RegistrarError, output: str, report=None) -> int:
    log.error("%s", exc.message)
    if report is not None and report.outcomes:
        from .output import render
        report.error = exc
        _emit(render(report, output))
    elif output == "json":
        from .output import error_dict
        _emit(error_dict(exc.message, exc.exit_code))
    return exc.exit_code


def build_settings(p: dict, member_required: bool = True) -> Settings:
    """Validate every option. Usage errors first (exit 2), then every configuration problem
    reported in one line (exit 3)."""
    sources = [name for name in ("ip", "interface", "container_group") if p[name]]
    if len(sources) > 1:
        raise E.UsageError("give only one of --ip, --interface, --container-group "
                           f"(got {', '.join('--' + s.replace('_', '-') for s in sources)})")
    problems: List[str] = []
    settings = Settings(targets=[])

    def check(fn, *args):
        try:
            return fn(*args)
        except E.UsageError:
            raise
        except E.RegistrarError as exc:
            problems.append(exc.message)
            return None

    settings.targets = check(parse_targets, p["targets"]) or []
    settings.container_group = check(parse_container_group_opt, p["container_group"])
    if p["member"] or (member_required and not p["container_group"]):
        settings.member = check(check_member, p["member"])
    settings.ca_bundle = check(check_ca_bundle, p["ca_bundle"])
    settings.arm_endpoint = check(check_endpoint, p["arm_endpoint"]) or DEFAULT_ARM_ENDPOINT
    problems += [m for m in (check_number("--timeout", p["timeout"]),
                             check_number("--start-jitter", p["start_jitter"], zero_ok=True),
                             check_number("--poll-interval", p["poll_interval"])) if m]
    if math.isfinite(p["start_jitter"]) and math.isfinite(p["timeout"]) \
            and p["start_jitter"] >= max(p["timeout"], 0) > 0:
        problems.append(f"--start-jitter {p['start_jitter']:g} must be below --timeout")
    if problems:
        raise E.ConfigError("; ".join(problems))
    for name in ("ip", "interface", "allow_any_ip", "dry_run", "on_failure", "timeout",
                 "start_jitter", "poll_interval", "while_busy"):
        setattr(settings, name, p[name])
    settings.command = list(p["command"])
    return settings


def run_register(settings: Settings, output: str, credential=None, report=None,
                 leave: bool = False) -> int:
    """Discover, plan, check, write; print the result. Returns 0 or the failure's exit code.
    leave=True deregisters instead (no IP discovery)."""
    from .clients import Clients
    from .output import render
    from .retry import Budget
    from .runner import Report, deregister, register

    budget = Budget(settings.timeout)
    report = report or Report(settings.member, None, settings.dry_run)
    if settings.start_jitter:
        # Spread a mass restart after a platform event over time.
        time.sleep(random.uniform(0, settings.start_jitter))
    clients = Clients(settings.arm_endpoint, settings.ca_bundle, settings.poll_interval,
                      credential=credential)
    try:
        (deregister if leave else register)(settings, clients, budget, report)
    except E.RegistrarError as exc:
        return _fail(exc, output, report)
    except Exception as exc:  # never a stack trace on the app's stderr
        return _fail(E.RegistrationFailed(f"internal error: {type(exc).__name__}: {exc}"),
                     output, report)
    finally:
        clients.close()
    _emit(render(report, output))
    return 0


REGISTER_HELP = """Register this container's private IP in every target, then exec COMMAND.

TARGETS are Azure resource IDs of App Gateway backend pools, Private or public DNS A record sets,
or private reverse zones (PTR), each optionally followed by ;mode=shared|exclusive and the kind's
own options: ;ttl=SECONDS (DNS), ;host=NAME (PTR), ;private-ip=allow (public DNS). Every option
can also be set through the environment variable shown in --help (ACI_IP_REGISTRAR_...)."""


def _opt(*names, env: str, **kw):
    return click.option(*names, envvar=ENV + env, show_envvar=True, **kw)


def _apply_options(*options):
    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn
    return decorate


# Options every command that reads or writes targets shares.
_TARGET_OPTIONS = _apply_options(
    _opt("--target", "-t", "targets", env="TARGETS", multiple=True,
         metavar="ID[;mode=..][;ttl=..]",
         help="Target resource ID (repeatable; the env var takes several, space or comma "
              "separated)."),
    _opt("--member", env="MEMBER", help="Member name (the container group's name). Never "
                                        "guessed."),
    _opt("--container-group", env="CONTAINER_GROUP", metavar="RESOURCE_ID",
         help="The member's ACI container group (its IP is read from the ACI API; its name is "
              "the default member name)."),
    _opt("--dry-run", env="DRY_RUN", is_flag=True, help="Read and print the plan; write nothing."),
    _opt("--timeout", env="TIMEOUT", type=float, default=300.0, show_default=True,
         help="Overall time budget in seconds."),
    _opt("--poll-interval", env="POLL_INTERVAL", type=float, default=2.0, show_default=True,
         help="Operation poll interval when Azure sends no Retry-After (the SDK's default is "
              "30s)."),
    _opt("--while-busy", env="WHILE_BUSY", type=click.Choice(["wait", "supersede"]),
         default="wait", show_default=True,
         help="When a gateway update is running: wait for it, or write over it (cancels it; "
              "converges a fleet in about one update)."),
    _opt("--arm-endpoint", env="ARM_ENDPOINT", default=DEFAULT_ARM_ENDPOINT, show_default=True,
         help="Azure Resource Manager endpoint (sovereign clouds, the emulator)."),
    _opt("--ca-bundle", env="CA_BUNDLE", help="PEM file of CAs to trust for the ARM endpoint."),
    _opt("--output", env="OUTPUT", type=click.Choice(["text", "json"]), default="text",
         show_default=True, help="Format of the result on stdout."),
    _opt("--log-format", env="LOG_FORMAT", type=click.Choice(["text", "json"]), default="text",
         show_default=True, help="Format of the log lines on stderr."),
    click.option("-v", "--verbose", count=True, help="More logs (-vvv adds redacted HTTP "
                                                     "lines)."),
)


def _duty_options(drain: bool):
    options = [
        _opt("--interval", env="INTERVAL", type=float, default=60.0, show_default=True,
             help="Seconds between verification passes (one read per resource; a write only "
                  "on drift)."),
        _opt("--deregister-timeout", env="DEREGISTER_TIMEOUT", type=float, default=30.0,
             show_default=True, help="On SIGTERM, seconds allowed for removing our address."),
        _opt("--health-port", env="HEALTH_PORT", type=int, default=None,
             help="Serve /healthz and /readyz on this port (for ACI probes)."),
        _opt("--health-host", env="HEALTH_HOST", default="0.0.0.0", show_default=True,
             help="Address the health endpoint listens on."),
    ]
    if drain:
        options.append(_opt("--drain-delay", env="DRAIN_DELAY", type=float, default=10.0,
                            show_default=True,
                            help="After deregistering, seconds to wait before the app gets "
                                 "SIGTERM, so the gateway stops routing to it."))
    return _apply_options(*options)


def _duty_settings(p: dict) -> dict:
    """The continuing modes' numbers, checked like the others (exit 3)."""
    problems = [m for m in (check_number("--interval", p["interval"]),
                            check_number("--deregister-timeout", p["deregister_timeout"]),
                            check_number("--drain-delay", p.get("drain_delay", 0.0),
                                         zero_ok=True)) if m]
    port = p["health_port"]
    if port is not None and not 0 <= port <= 65535:
        problems.append(f"--health-port {port} must be 0-65535")
    if problems:
        raise E.ConfigError("; ".join(problems))
    return dict(interval=p["interval"], deregister_timeout=p["deregister_timeout"],
                drain_delay=p.get("drain_delay", 0.0),
                health=(p["health_host"], port) if port is not None else None)


def _stay(settings: Settings, p: dict, argv, first_tick: bool) -> int:
    settle()
    from .clients import Clients
    from .discovery import discover
    from .duty import OnDuty, keep
    numbers = _duty_settings(p)
    clients = Clients(settings.arm_endpoint, settings.ca_bundle, settings.poll_interval)
    duty = OnDuty(settings, clients, lambda budget: discover(settings, clients, budget),
                  supersede=settings.while_busy == "supersede")
    try:
        return keep(duty, argv, timeout=settings.timeout, first_tick=first_tick, **numbers)
    finally:
        clients.close()


@main_group.command("register", help=REGISTER_HELP,
                    context_settings={"allow_interspersed_args": False})
@_TARGET_OPTIONS
@_opt("--ip", env="IP", help="Use this IP instead of discovering it.")
@_opt("--interface", env="INTERFACE", help="Read the IP from this interface.")
@_opt("--allow-any-ip", env="ALLOW_ANY_IP", is_flag=True,
      help="Allow public addresses (never loopback, link-local, multicast, broadcast, "
           "reserved or 0/8: no container holds those).")
@_opt("--on-failure", env="ON_FAILURE", type=click.Choice(["exit", "exec"]), default="exit",
      show_default=True, help="On failure: exit non-zero, or log and exec the command anyway.")
@_opt("--start-jitter", env="START_JITTER", type=float, default=0.0, show_default=True,
      help="Sleep a random 0..N seconds first (mass restarts).")
@_opt("--supervise", env="SUPERVISE", is_flag=True,
      help="Start COMMAND as a child and stay PID 1: forward signals, reap zombies, keep "
           "verifying every --interval, deregister on SIGTERM; exit with the app's status.")
@_duty_options(drain=True)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def register_command(**p):
    from . import logs
    from .runner import Report
    logs.setup(p["verbose"], p["log_format"])
    output = p["output"]
    _stop_on_signals()
    report = Report(None, None, bool(p["dry_run"]))
    try:
        settings = build_settings(p)
        code = run_register(settings, output, report=report)
    except E.RegistrarError as exc:
        sys.exit(_fail(exc, output))
    except E.Interrupted as stop:
        sys.exit(_interrupted(stop, report, output))
    if code and settings.on_failure == "exit":
        sys.exit(code)
    if code:
        log.error("registration failed (exit %d); --on-failure exec: starting the app anyway",
                  code)
    if p["supervise"]:
        sys.exit(_supervise(settings, p, output))
    if not settings.command:
        from .handoff import exit_now
        exit_now(code)
    from .handoff import exec_command
    exec_command(settings.command)


def _supervise(settings: Settings, p: dict, output: str) -> int:
    if not settings.command:
        return _fail(E.UsageError("--supervise needs the app's command after --"), output)
    try:
        return _stay(settings, p, settings.command, first_tick=False)
    except E.RegistrarError as exc:
        return _fail(exc, output)


def _stop_on_signals() -> None:
    """Until the app starts, SIGTERM, SIGINT and SIGHUP stop the run at once. As PID 1 a signal
    with the default action is dropped by the kernel, so an explicit handler is needed. exec
    resets caught signals to their defaults, so the app starts with a clean slate."""
    def handler(signum, _frame):
        raise E.Interrupted(signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)


def _interrupted(stop: E.Interrupted, report, output: str) -> int:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)    # a second signal must not cut the report short
    from .runner import WRITTEN
    name = signal.Signals(stop.signum).name
    written = [o.plan.resource.label for o in report.outcomes if o.status == WRITTEN]
    pending = report.pending() or ["registration (targets not yet planned)"]
    log.error("stopped by %s before the app started; pending: %s; written: %s; no new write "
              "starts and the app is not started (a write Azure already accepted runs on; the "
              "next run settles it)", name, "; ".join(pending), ", ".join(written) or "nothing")
    if output == "json":
        from .output import error_dict
        _emit(error_dict(f"stopped by {name}", stop.exit_code, pending))
    return stop.exit_code


@main_group.command("exit-codes")
def exit_codes_command():
    """Print the exit code table (the same table as in README.md)."""
    click.echo(E.exit_code_table())


def main(argv: Optional[List[str]] = None) -> None:
    main_group.main(args=argv, prog_name="aci-ip-registrar")


if __name__ == "__main__":  # pragma: no cover
    main()
