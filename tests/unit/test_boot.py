"""boot.py: the young generation is held back during a boot, and every command that runs on
turns the collector back to its usual thresholds first (with the boot's objects frozen)."""
from __future__ import annotations

import gc
from importlib.metadata import entry_points

import click
import pytest

from aci_ip_registrar import boot, cli, duty
from aci_ip_registrar.config import Settings


@pytest.fixture
def gc_state():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_the_console_script_is_the_boot_entry_point():
    (ep,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "aci-ip-registrar"]
    assert ep.value == "aci_ip_registrar.boot:main"


def test_a_boot_runs_with_the_young_generation_held_back(gc_state, capsys):
    seen = []
    cli.main_group.add_command(click.Command("probe", callback=lambda: seen.append(
        gc.get_threshold())))
    try:
        with pytest.raises(SystemExit) as done:
            boot.main(["probe"])
    finally:
        cli.main_group.commands.pop("probe")
    assert done.value.code == 0
    assert seen == [(boot.BOOT_THRESHOLD, *gc.get_threshold()[1:])]


def test_settle_restores_the_usual_thresholds_and_freezes_the_boot(gc_state):
    usual = gc.get_threshold()
    gc.set_threshold(boot.BOOT_THRESHOLD, *usual[1:])
    boot.settle()
    assert gc.get_threshold() == usual
    frozen = gc.get_freeze_count()
    assert frozen > 0
    boot.settle()                                  # not a boot any more: nothing to do
    assert gc.get_freeze_count() == frozen and gc.get_threshold() == usual


def test_settle_leaves_a_process_that_did_not_boot_alone(gc_state):
    gc.set_threshold(700, 10, 10)
    frozen = gc.get_freeze_count()
    boot.settle()
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == frozen


@pytest.mark.parametrize("name", sorted(cli.LazyGroup.lazy))
def test_every_lazy_command_settles_before_it_is_loaded(gc_state, name):
    gc.set_threshold(boot.BOOT_THRESHOLD, 10, 10)
    ctx = click.Context(cli.main_group)
    assert cli.main_group.get_command(ctx, name) is not None
    assert gc.get_threshold()[0] != boot.BOOT_THRESHOLD


def test_supervise_settles_before_it_stays(gc_state, monkeypatch):
    seen = []

    def keep(duty_, argv, **numbers):
        seen.append(gc.get_threshold()[0])
        return 0
    monkeypatch.setattr(duty, "keep", keep)
    gc.set_threshold(boot.BOOT_THRESHOLD, 10, 10)
    p = dict(interval=1.0, deregister_timeout=1.0, drain_delay=0.0, health_port=None,
             health_host="127.0.0.1")
    settings = Settings([], member="cg-a", ip="10.0.2.4", arm_endpoint="https://127.0.0.1:9")
    assert cli._stay(settings, p, ["true"], first_tick=False) == 0
    assert seen and seen[0] != boot.BOOT_THRESHOLD
