"""The benchmark at CI size, so it cannot rot: `benchmarks/run.py --tiny` must run end to end and
report sane figures. The request counts are exact (the no-op path only reads, a change writes each
resource once and reads the gateway back once); the timings are only checked for sanity."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = {"pool": 1, "dns": 1, "pool+dns": 2}
# Permission reads of the pre-write check, one per scope a write needs: the gateway and its
# subnet; the DNS zone.
WRITE_SCOPES = {"pool": 2, "dns": 1, "pool+dns": 3}


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "tiny.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--tiny",
                           "--out", str(out)], capture_output=True, text=True, timeout=280,
                          cwd=str(ROOT), env=env)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    assert out.exists(), proc.stdout[-2000:]
    return json.loads(out.read_text()), proc.stdout


def test_prints_the_table_and_the_json_path(bench):
    data, stdout = bench
    assert "| run | median wall | p95 wall | x floor | x limit |" in stdout
    assert "JSON:" in stdout
    assert data["table_markdown"].splitlines()[0] in stdout
    for key in ("machine", "config", "series", "importtime", "fleet", "targets", "rss_method"):
        assert key in data, key
    assert data["machine"]["cores"] >= 1 and data["machine"]["python"]
    assert data["config"]["tiny"] is True and data["config"]["runs"] == 3


def test_records_what_it_measured_with(bench):
    data, stdout = bench
    mw = data["measured_with"]
    # --tiny keeps the running interpreter (fast CI); full runs default to a pip-installed venv.
    assert mw["interpreter"] == data["config"]["interpreter"] == "current", mw
    assert mw["python"] == sys.executable, mw
    assert mw["install"] in ("editable", "pip install . (not editable)", "not installed"), mw
    assert mw["package_file"].endswith("__init__.py") and mw["packages"]["azure-core"], mw
    assert f"measured with: {mw['install']}" in data["table_markdown"].splitlines()[0]


def test_peak_rss_is_measured_the_way_the_readme_says(bench):
    check = bench[0]["rss_method"]
    assert check["maxrss_survives_exec"] is True, check
    # The launcher keeps the benchmark's own memory out of every figure.
    assert check["date_via_launcher_mb"] < 20, check


def _series(data, key):
    s = data["series"][key]
    assert s["runs"] == 3 and s["failures"] == 0, s.get("errors")
    w = s["wall_s"]
    assert 0 < w["min"] <= w["median"] <= w["p95"] <= w["max"] < 60, w
    return s


def test_import_floor(bench):
    data = bench[0]
    for cfg in RESOURCES:
        s = _series(data, f"floor:{cfg}")
        assert 20 < s["rss_mb"]["median"] < 1000, s["rss_mb"]
        assert "requests_per_run" not in s  # the floor talks to nobody


@pytest.mark.parametrize("cfg", sorted(RESOURCES))
def test_noop_boot_only_reads_once_per_resource(bench, cfg):
    data = bench[0]
    s = _series(data, f"noop:{cfg}")
    req = s["requests_per_run"]
    assert req["writes"] == 0 and req["polls"] == 0 and req["perms"] == 0, req
    assert req["reads"] == RESOURCES[cfg], req
    assert req["tokens"] >= 1, req
    for row in s["per_resource"]:
        assert len(row) == RESOURCES[cfg], row
        assert all(v == {"reads": 1, "writes": 0, "readbacks": 0, "polls": 0}
                   for v in row.values()), row
    # No management SDK and no azure-identity on this path: far below the import floor.
    assert s["rss_mb"]["median"] < data["series"]["floor:pool"]["rss_mb"]["median"] - 20


@pytest.mark.parametrize("cfg", sorted(RESOURCES))
def test_dry_run_and_stdlib_limit_only_read(bench, cfg):
    data = bench[0]
    for key in (f"dryrun:{cfg}", f"limit:{cfg}"):
        req = _series(data, key)["requests_per_run"]
        assert req["writes"] == 0 and req["polls"] == 0, (key, req)
        assert req["reads"] == RESOURCES[cfg] and req["tokens"] == 1, (key, req)
        # A dry run that would write checks the permissions its writes need, as the real run.
        assert req["perms"] == (WRITE_SCOPES[cfg] if key.startswith("dryrun") else 0), (key, req)


@pytest.mark.parametrize("cfg", sorted(RESOURCES))
def test_dry_run_limit_makes_the_dry_runs_permission_reads(bench, cfg):
    data = bench[0]
    req = _series(data, f"limit:dryrun:{cfg}")["requests_per_run"]
    assert req["writes"] == 0 and req["polls"] == 0, req
    assert req["reads"] == RESOURCES[cfg] and req["tokens"] >= 1, req
    assert req["perms"] == WRITE_SCOPES[cfg], req
    # Same requests as the dry run it is the limit of.
    assert req == data["series"][f"dryrun:{cfg}"]["requests_per_run"], req
    assert len(data["dryrun_limit_requests"][cfg]["permission_scopes"]) == WRITE_SCOPES[cfg]
    targets = [t["target"] for t in data["targets"] if "x stdlib limit" in t["target"]]
    dry = [t for t in targets if t.startswith(f"--dry-run ({cfg})")]
    assert len(dry) == 1 and f"limit:dryrun:{cfg}" in dry[0], targets
    noop = [t for t in targets if t.startswith(f"no-op boot ({cfg})")]
    assert len(noop) == 1 and "limit:dryrun" not in noop[0], targets


@pytest.mark.parametrize("cfg", ["pool", "pool+dns"])
def test_change_boot_writes_each_resource_once(bench, cfg):
    data = bench[0]
    s = _series(data, f"change:{cfg}")
    req = s["requests_per_run"]
    assert req["writes"] == RESOURCES[cfg], req
    assert req["reads"] == RESOURCES[cfg] + 1, req  # + the gateway's read-back
    assert req["perms"] == WRITE_SCOPES[cfg], req
    assert req["polls"] >= 1, req
    for row in s["per_resource"]:
        assert row["gw"]["reads"] == 1 and row["gw"]["writes"] == 1, row
        assert row["gw"]["readbacks"] == 1, row
        if cfg == "pool+dns":
            assert row["dns"] == {"reads": 1, "writes": 1, "readbacks": 0, "polls": 0}, row
    polling = s["polling"]
    retry_after = data["config"]["single_boot_emulator"]["retry_after_s"]
    # Polls follow the service's Retry-After, never the SDK's 30 s default.
    assert polling["between_polls_s"]["max"] < retry_after + 1.0, polling


def test_importtime_shows_no_network_sdk_on_a_noop(bench):
    it = bench[0]["importtime"]
    assert it["exit"] == 0 and it["total_s"] > 0 and it["modules"] > 100, it
    assert "azure-core, azure-mgmt-core" in it["by_package_s"], it["by_package_s"]
    assert "azure-mgmt-network" not in it["by_package_s"], it["by_package_s"]
    assert "azure.core" in it["imported_sdk"], it["imported_sdk"]
    assert not {"azure.mgmt.network", "azure.identity", "tenacity", "requests",
                "urllib3"} & set(it["imported_sdk"])
    assert it["top_level_cumulative_s"] and it["top_self_s"]


def test_fleet_of_three_loses_nothing(bench):
    (fleet,) = bench[0]["fleet"]
    assert fleet["members"] == 3
    assert fleet["registered"] == 3 and fleet["failed"] == 0, fleet["failures"]
    assert fleet["lost_updates"] == 0, fleet["lost_members"]
    assert fleet["put_outcomes"].get("succeeded") == 3, fleet["put_outcomes"]
    assert fleet["puts"] == 3 + fleet["wasted_puts"]
    assert fleet["manual_entries_kept"] and fleet["ledger_matches"]
    assert fleet["all_registered_s"] > 0


def test_azure_cli_is_reported_as_not_measured(bench):
    data, stdout = bench
    assert data["azure_cli"]["measured"] is False
    assert "az:noop" not in data["series"]
    assert "not measured" in stdout


def test_targets_are_evaluated(bench):
    targets = {t["target"]: t for t in bench[0]["targets"]}
    assert all({"figure", "met"} <= set(t) for t in targets.values())
    for name, t in targets.items():
        if "one read per resource" in name or "one read + one write" in name:
            assert t["met"] is True, t
        if "Azure CLI" in name or "no slower than" in name:
            assert t["met"] is None, t          # not measured at CI size
        if name.startswith("no-op boot imports none of"):
            assert t["met"] is True, t


def test_ratios_are_paired_per_round(bench):
    """The x floor / x limit figures are medians of per-round ratios (the issue's method), each
    round's walls kept in the JSON; the targets also give the ratio of the medians."""
    import statistics
    data = bench[0]
    s = data["series"]
    noop, limit = s["noop:pool"]["wall_by_round"], s["limit:pool"]["wall_by_round"]
    assert len(noop) == len(limit) == 3 and all(noop) and all(limit)
    want = statistics.median(a / b for a, b in zip(noop, limit))
    [target] = [t for t in data["targets"] if t["target"].startswith("no-op boot (pool) <= 2.5")]
    assert target["figure"].startswith(f"{want:.2f}x per round (medians ")
    row = [line for line in data["table_markdown"].splitlines()
           if line.startswith("| registrar no-op boot, pool |")][0]
    assert row.split("|")[5].strip() == f"{want:.2f}"
