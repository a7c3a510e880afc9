"""The command line: the only module that prints results or chooses exit codes."""
from __future__ import annotations

import importlib
import logging
import random
import sys
import time
from typing import List, Optional

import click

from . import errors as E
from .config import (DEFAULT_ARM_ENDPOINT, Settings, check_ca_bundle, check_endpoint,
                     check_member, parse_container_group_opt, parse_targets)

log = logging.getLogger("aci_ip_registrar")
ENV = "ACI_IP_REGISTRAR_"


class LazyGroup(click.Group):
    """Subcommands imported on use, so `register` does not pay for the emulator's imports."""

    lazy = {
        "demo": "aci_ip_registrar.demo:demo_command",
        "emulator": "aci_ip_registrar.emulator.commands:emulator_command",
        "emulator-log": "aci_ip_registrar.emulator.commands:emulator_log_command",
    }

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name in self.lazy:
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


def _fail(exc: E.RegistrarError, output: str) -> int:
    log.error("%s", exc.message)
    if output == "json":
        from .output import error_dict
        _emit(error_dict(exc.message, exc.exit_code))
    return exc.exit_code


def build_settings(p: dict) -> Settings:
    """Validate every option; all problems are reported in one line."""
    problems: List[str] = []
    settings = Settings(targets=[])

    def check(fn, *args):
        try:
            return fn(*args)
        except E.RegistrarError as exc:
            problems.append(exc.message)
            return None

    settings.targets = check(parse_targets, p["targets"]) or []
    sources = [name for name in ("ip", "interface", "container_group") if p[name]]
    if len(sources) > 1:
        raise E.UsageError("give only one of --ip, --interface, --container-group "
                           f"(got {', '.join('--' + s.replace('_', '-') for s in sources)})")
    settings.container_group = check(parse_container_group_opt, p["container_group"])
    if p["member"] or not p["container_group"]:
        settings.member = check(check_member, p["member"])
    settings.ca_bundle = check(check_ca_bundle, p["ca_bundle"])
    settings.arm_endpoint = check(check_endpoint, p["arm_endpoint"]) or DEFAULT_ARM_ENDPOINT
    if p["timeout"] <= 0:
        problems.append(f"--timeout {p['timeout']:g} must be positive")
    if p["start_jitter"] < 0 or p["start_jitter"] >= max(p["timeout"], 0):
        problems.append(f"--start-jitter {p['start_jitter']:g} must be >= 0 and below --timeout")
    if p["poll_interval"] <= 0:
        problems.append(f"--poll-interval {p['poll_interval']:g} must be positive")
    if problems:
        raise E.ConfigError("; ".join(problems))
    settings.ip = p["ip"]
    settings.interface = p["interface"]
    settings.allow_any_ip = p["allow_any_ip"]
    settings.dry_run = p["dry_run"]
    settings.on_failure = p["on_failure"]
    settings.timeout = p["timeout"]
    settings.start_jitter = p["start_jitter"]
    settings.poll_interval = p["poll_interval"]
    settings.while_busy = p["while_busy"]
    settings.command = list(p["command"])
    return settings


def run_register(settings: Settings, output: str, credential=None) -> int:
    """Discover, plan, write. Returns 0 or raises RegistrarError. Prints the result."""
    from .clients import Clients
    from .discovery import discover
    from .output import render
    from .retry import Budget
    from .runner import offline_plans, register

    budget = Budget(settings.timeout)
    if settings.start_jitter:
        # Spread a mass restart after a platform event over time.
        time.sleep(random.uniform(0, settings.start_jitter))
    clients = Clients(settings.arm_endpoint, settings.ca_bundle, settings.poll_interval,
                      credential=credential)
    try:
        ip, source = discover(settings, clients, budget)
        member = settings.member or check_member(settings.container_group.name)
        log.info("member=%s ip=%s source=%r targets=%d dry_run=%s", member, ip, source,
                 len(settings.targets), settings.dry_run)
        try:
            report = register(settings, member, ip, clients, budget, settings.dry_run)
        except E.PermissionDenied as exc:
            if not (settings.dry_run and "no usable Azure credential" in exc.message):
                raise
            from .runner import Report
            report = Report(member, ip, True, offline_plans(settings, member, ip),
                            offline_reason="no usable Azure credential, targets not read; "
                                           "this is what would be ensured")
            log.warning("dry run without credentials: %s", exc.message)
        _emit(render(report, source, output))
        return 0
    finally:
        clients.close()


REGISTER_HELP = """Register this container's private IP in every target, then exec COMMAND.

TARGETS are Azure resource IDs of App Gateway backend pools or Private DNS A record sets, each
optionally followed by ;mode=shared|exclusive and (DNS) ;ttl=SECONDS. Every option can also be set
through the environment variable shown in --help (ACI_IP_REGISTRAR_...)."""


def _opt(*names, env: str, **kw):
    return click.option(*names, envvar=ENV + env, show_envvar=True, **kw)


@main_group.command("register", help=REGISTER_HELP,
                    context_settings={"allow_interspersed_args": False})
@_opt("--target", "-t", "targets", env="TARGETS", multiple=True, metavar="ID[;mode=..][;ttl=..]",
      help="Target resource ID (repeatable; the env var takes several, space or comma separated).")
@_opt("--member", env="MEMBER", help="Member name (the container group's name). Never guessed.")
@_opt("--ip", env="IP", help="Use this IP instead of discovering it.")
@_opt("--interface", env="INTERFACE", help="Read the IP from this interface.")
@_opt("--container-group", env="CONTAINER_GROUP", metavar="RESOURCE_ID",
      help="Read the IP of this ACI container group from the ACI API (re-register from outside).")
@_opt("--allow-any-ip", env="ALLOW_ANY_IP", is_flag=True,
      help="Allow loopback, link-local and public addresses.")
@_opt("--dry-run", env="DRY_RUN", is_flag=True, help="Read and print the plan; write nothing.")
@_opt("--on-failure", env="ON_FAILURE", type=click.Choice(["exit", "exec"]), default="exit",
      show_default=True, help="On failure: exit non-zero, or log and exec the command anyway.")
@_opt("--timeout", env="TIMEOUT", type=float, default=300.0, show_default=True,
      help="Overall time budget in seconds.")
@_opt("--start-jitter", env="START_JITTER", type=float, default=0.0, show_default=True,
      help="Sleep a random 0..N seconds first (mass restarts).")
@_opt("--poll-interval", env="POLL_INTERVAL", type=float, default=2.0, show_default=True,
      help="Operation poll interval when Azure sends no Retry-After (the SDK's default is 30s).")
@_opt("--while-busy", env="WHILE_BUSY", type=click.Choice(["wait", "supersede"]),
      default="wait", show_default=True,
      help="When a gateway update is running: wait for it, or write over it (cancels it; "
           "converges a fleet in about one update).")
@_opt("--arm-endpoint", env="ARM_ENDPOINT", default=DEFAULT_ARM_ENDPOINT, show_default=True,
      help="Azure Resource Manager endpoint (sovereign clouds, the emulator).")
@_opt("--ca-bundle", env="CA_BUNDLE", help="PEM file of CAs to trust for the ARM endpoint.")
@_opt("--output", env="OUTPUT", type=click.Choice(["text", "json"]), default="text",
      show_default=True, help="Format of the result on stdout.")
@_opt("--log-format", env="LOG_FORMAT", type=click.Choice(["text", "json"]), default="text",
      show_default=True, help="Format of the log lines on stderr.")
@click.option("-v", "--verbose", count=True, help="More logs (-vvv adds redacted HTTP lines).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def register_command(**p):
    from . import logs
    logs.setup(p["verbose"], p["log_format"])
    output = p["output"]
    try:
        settings = build_settings(p)
    except E.RegistrarError as exc:
        sys.exit(_fail(exc, output))
    code = 0
    try:
        run_register(settings, output)
    except E.RegistrarError as exc:
        code = _fail(exc, output)
    except Exception as exc:  # never a stack trace on the app's stderr
        code = _fail(E.RegistrationFailed(f"internal error: {type(exc).__name__}: {exc}"), output)
    if code and settings.on_failure == "exit":
        sys.exit(code)
    if code:
        log.error("registration failed (exit %d); --on-failure exec: starting the app anyway",
                  code)
    if not settings.command:
        sys.exit(code)
    from .handoff import exec_command
    exec_command(settings.command)


@main_group.command("exit-codes")
def exit_codes_command():
    """Print the exit code table."""
    for code, meaning in sorted(E.EXIT_CODES.items()):
        click.echo(f"{code:>3}  {meaning}")


def main(argv: Optional[List[str]] = None) -> None:
    main_group.main(args=argv, prog_name="aci-ip-registrar")


if __name__ == "__main__":  # pragma: no cover
    main()
