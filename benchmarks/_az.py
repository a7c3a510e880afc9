"""The baseline: a startup script around the Azure CLI, run entirely on loopback.

The script is what the seed's team ran: `az login --identity`, then
`az network application-gateway address-pool update ... --servers ...`, then the app. Each step is
its own process, one after the other (as `sh -e` runs them); the app is `date +%s.%N`.

What the CLI needs so nothing leaves the machine (see shared/docs/az-cli-baseline-notes.md): its
own AZURE_CONFIG_DIR with a versionCheck.json carrying the local versions and a current timestamp,
AZURE_CORE_COLLECT_TELEMETRY=false, a custom cloud registered to the emulator and made active,
REQUESTS_CA_BUNDLE, IDENTITY_ENDPOINT and IDENTITY_HEADER. Setup is checked step by step and the
baseline is abandoned on the first failure, so a half-configured CLI never falls back to the
public cloud's endpoints.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from _proc import STAMP, Result, run

HERE = Path(__file__).resolve().parent
AZ_VENV = HERE / ".az-venv"
SIZE_VENV = HERE / ".size-venv"
ROOT = HERE.parent


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _pip(venv: Path, *args: str, log: Path) -> bool:
    # A PYTHONPATH holding a source tree would make pip see that tree's package as installed.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with open(log, "ab") as fh:
        proc = subprocess.run([str(_venv_python(venv)), "-m", "pip", "--disable-pip-version-check",
                               "-q", *args], stdout=fh, stderr=subprocess.STDOUT, env=env)
    return proc.returncode == 0


def _new_venv(venv: Path) -> None:
    if venv.exists():
        shutil.rmtree(venv)
    # The base interpreter of the one running the benchmark, so both venvs use one Python.
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)


def ensure_az_venv(log) -> Tuple[Optional[Path], str]:
    """benchmarks/.az-venv with azure-cli, created on first use and kept (it is ~500 MB)."""
    az = AZ_VENV / "bin" / "az"
    stamp = AZ_VENV / ".bench-ok"
    if az.exists() and stamp.exists():
        return az, "cached"
    log(f"installing azure-cli into {AZ_VENV} (once; several minutes)")
    _new_venv(AZ_VENV)
    if not _pip(AZ_VENV, "install", "azure-cli", log=AZ_VENV / "install.log"):
        return None, f"pip install azure-cli failed; see {AZ_VENV / 'install.log'}"
    stamp.write_text("ok\n")
    return az, "installed now"


def tree_hash() -> str:
    h = hashlib.sha256()
    for path in sorted([ROOT / "pyproject.toml", *(ROOT / "aci_ip_registrar").rglob("*.py")]):
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def ensure_size_venv(log) -> Tuple[Optional[Path], str]:
    """benchmarks/.size-venv: `pip install <this project>` into a fresh venv (not editable), kept
    until pyproject.toml or the package's sources change. Its size is the size row, and its
    interpreter the one every series is measured with by default (the form users run)."""
    stamp = SIZE_VENV / ".bench-ok"
    want = tree_hash()
    if stamp.exists() and stamp.read_text().strip() == want:
        return SIZE_VENV, "cached"
    log(f"installing the package into {SIZE_VENV} (not editable): the measured install")
    _new_venv(SIZE_VENV)
    # Built from a copy: setuptools writes *.egg-info next to the sources it builds.
    with tempfile.TemporaryDirectory(prefix="bench-size-src-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
            ".git", ".venv*", "benchmarks", "tests", "*.egg-info", "__pycache__", ".hypothesis",
            ".pytest_cache", "build", "dist"))
        if not _pip(SIZE_VENV, "install", str(src), log=SIZE_VENV / "install.log"):
            return None, f"pip install failed; see {SIZE_VENV / 'install.log'}"
    stamp.write_text(want + "\n")
    return SIZE_VENV, "installed now"


def site_packages(venv: Path) -> Optional[Path]:
    found = sorted(venv.glob("lib/python*/site-packages"))
    return found[0] if found else None


BOOTSTRAP = {"pip", "setuptools", "_distutils_hack", "pkg_resources", "distutils-precedence.pth"}


def installed_size(venv: Path, top: int = 8) -> Dict[str, object]:
    """Bytes of every file under site-packages (.pyc included: pip compiles on install), with and
    without pip/setuptools (present in any venv), and the largest top-level entries."""
    sp = site_packages(venv)
    if sp is None:
        return {"error": f"no site-packages under {venv}"}
    per_top: Dict[str, int] = {}

    def walk(entry: Path) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(entry):
            for f in files:
                try:
                    total += os.lstat(os.path.join(dirpath, f)).st_size
                except OSError:
                    pass
        return total

    def add(entry: Path, name: str) -> None:
        # The azure namespace holds every SDK: count azure/<pkg> and azure/mgmt/<pkg> apart.
        if entry.is_dir() and name in ("azure", "azure.mgmt"):
            for sub in entry.iterdir():
                add(sub, f"{name}.{sub.name}")
        elif entry.is_dir() and not entry.is_symlink():
            per_top[name] = walk(entry)
        else:
            per_top[name] = entry.lstat().st_size
    for entry in sp.iterdir():
        add(entry, entry.name)
    everything = sum(per_top.values())

    def is_bootstrap(name: str) -> bool:
        base = name.split("-")[0].lower()
        return name in BOOTSTRAP or base in ("pip", "setuptools")
    without = sum(v for k, v in per_top.items() if not is_bootstrap(k))
    biggest = sorted(((k, v) for k, v in per_top.items()
                      if not k.endswith((".dist-info", ".egg-info", "__pycache__", ".py"))
                      and not is_bootstrap(k)),
                     key=lambda kv: -kv[1])[:top]
    dists = sorted(p.name for p in sp.glob("*.dist-info"))
    return {"site_packages_mb": round(everything / 2**20, 1),
            "without_pip_setuptools_mb": round(without / 2**20, 1),
            "distributions": len(dists),
            "largest_mb": {k: round(v / 2**20, 1) for k, v in biggest}}


def az_version(az: Path) -> Optional[str]:
    meta = sorted(site_packages(AZ_VENV).glob("azure_cli-*.dist-info"))  # type: ignore[union-attr]
    return meta[0].name[:-len(".dist-info")].split("-", 1)[1] if meta else None


class AzCli:
    """A configured Azure CLI pointed at one emulator."""

    def __init__(self, az: Path, emu, env: Dict[str, str]):
        self.az = str(az)
        self.emu = emu
        self.config_dir = tempfile.mkdtemp(prefix="bench-azure-config-")
        self.env = dict(env)
        self.env.update(AZURE_CONFIG_DIR=self.config_dir, AZURE_CORE_COLLECT_TELEMETRY="false",
                        AZURE_CORE_NO_COLOR="true", AZURE_CORE_ONLY_SHOW_ERRORS="true",
                        AZURE_CORE_SURVEY_MESSAGE="false")
        self.setup_notes: List[str] = []

    def close(self) -> None:
        shutil.rmtree(self.config_dir, ignore_errors=True)

    def _az(self, *args: str, timeout: float = 120) -> Result:
        return run([self.az, *args], self.env, timeout=timeout)

    def setup(self) -> None:
        """Seed the config, register and select the emulator cloud. Raises RuntimeError."""
        py = str(Path(self.az).with_name("python"))
        code = ("import datetime, json; from azure.cli.core.util import _get_local_versions as g; "
                "v = g(); [d.__setitem__('pypi', d['local']) for d in v.values()]; "
                "print(json.dumps({'versions': v, 'update_time': str(datetime.datetime.now())}))")
        res = run([py, "-c", code], self.env, timeout=120)
        if res.code != 0:
            raise RuntimeError(f"could not read azure-cli's versions: {res.tail()}")
        Path(self.config_dir, "versionCheck.json").write_text(res.stdout.strip() + "\n")
        arm = self.emu.base_url + "/"
        reg = self._az("cloud", "register", "-n", "Emu", "--endpoint-resource-manager", arm)
        if reg.code != 0:
            # Endpoint discovery failed (GET /metadata/endpoints); give the endpoints instead.
            last = [line for line in reg.stderr.strip().splitlines() if line.strip()]
            self.setup_notes.append(
                "`az cloud register --endpoint-resource-manager` (endpoint discovery through "
                f"GET /metadata/endpoints?api-version=2022-09-01) failed: "
                f"{last[-2] if len(last) > 1 else ''} {last[-1] if last else ''}".strip()
                + "; registered with --skip-endpoint-discovery and explicit endpoints instead")
            reg = self._az("cloud", "register", "-n", "Emu", "--skip-endpoint-discovery",
                           "--endpoint-resource-manager", arm,
                           "--endpoint-active-directory", arm,
                           "--endpoint-active-directory-resource-id",
                           "https://management.core.windows.net/",
                           "--endpoint-management", "https://management.core.windows.net/")
            if reg.code != 0:
                raise RuntimeError(f"az cloud register failed: {reg.tail()}")
        sel = self._az("cloud", "set", "-n", "Emu")
        if sel.code != 0:
            raise RuntimeError(f"az cloud set failed: {sel.tail()}")
        show = self._az("cloud", "show", "-o", "json")
        try:
            rm = json.loads(show.stdout)["endpoints"]["resourceManager"]
        except (ValueError, KeyError):
            rm = None
        if show.code != 0 or not rm or not rm.startswith(self.emu.base_url):
            raise RuntimeError(f"the active cloud does not point at the emulator: {rm!r}")

    def script(self, resource_group: str, gateway: str, pool: str, servers: List[str],
               timeout: float = 300) -> Dict[str, object]:
        """One boot: login, pool update, then the app (date). Steps run one after the other."""
        steps = [("login", [self.az, "login", "--identity", "-o", "none"]),
                 ("update", [self.az, "network", "application-gateway", "address-pool", "update",
                             "-g", resource_group, "--gateway-name", gateway, "-n", pool,
                             "--servers", *servers, "-o", "none"])]
        results = []
        for _name, argv in steps:
            res = run(argv, self.env, timeout=timeout)
            results.append(res)
            if res.code != 0:
                break
        app = run(STAMP, self.env, timeout=30) if results[-1].code == 0 else None
        start = results[0].start
        out = {
            "code": next((r.code for r in results if r.code != 0), 0 if app else 1),
            "start": start,
            "wall": (app.ran_at - start) if app and app.ran_at else None,
            "rss_kb": max(r.rss_kb for r in results),
            "cpu_s": sum(r.cpu_s or 0.0 for r in results),
            "steps": {name: {"wall": round(r.end - r.start, 4), "rss_mb": round(r.rss_mb, 1),
                             "code": r.code}
                      for (name, _), r in zip(steps, results)},
            "stderr": "\n".join(r.tail(600) for r in results if r.code != 0),
        }
        return out
