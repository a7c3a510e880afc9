"""Checks on the deployment pieces: entrypoint.sh, examples/Dockerfile, examples/aci/*.json.

None of these can be run for real here (no docker engine, no Azure), so the tests pin down
the properties that matter: the exact least-privilege action list, the container group's
VNet/identity/env shape, and an entrypoint that passes argv through unchanged under exec.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "entrypoint.sh"
DOCKERFILE = ROOT / "examples" / "Dockerfile"
TEMPLATE = ROOT / "examples" / "aci" / "azuredeploy.json"
ROLE = ROOT / "examples" / "aci" / "registrar-role.json"
ACI_SPEC = ROOT / "tests" / "data" / "azure-specs" / "containerinstance" / "containerInstance.json"

# What `aci-ip-registrar roles` prints for the examples' targets (the role files are its output;
# tests/integration/test_permissions.py regenerates them against the emulator seed).
EXPECTED_ACTIONS = {
    "Microsoft.Network/applicationGateways/read",
    "Microsoft.Network/applicationGateways/write",
    "Microsoft.Network/virtualNetworks/subnets/read",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
    "Microsoft.Network/publicIPAddresses/read",
    "Microsoft.Network/publicIPAddresses/join/action",
    "Microsoft.Network/privateDnsZones/A/read",
    "Microsoft.Network/privateDnsZones/A/write",
    "Microsoft.ContainerInstance/containerGroups/read",
}

EXEC_LINE = 'exec aci-ip-registrar register -- "$@"'


# --------------------------------------------------------------------------- helpers


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def template():
    return _load(TEMPLATE)


@pytest.fixture(scope="module")
def role():
    return _load(ROLE)


def _resources_of_type(tpl, rtype):
    return [r for r in tpl["resources"] if r["type"].lower() == rtype.lower()]


def _one(tpl, rtype):
    found = _resources_of_type(tpl, rtype)
    assert len(found) == 1, f"expected exactly one {rtype}, found {len(found)}"
    return found[0]


def _container_group(tpl):
    return _one(tpl, "Microsoft.ContainerInstance/containerGroups")


def _env(tpl):
    containers = _container_group(tpl)["properties"]["containers"]
    assert len(containers) == 1
    return {e["name"]: e.get("value") for e in containers[0]["properties"]["environmentVariables"]}


def _expressions(node, *, skip_templates=True):
    """ARM expressions ("[...]", not the "[[" escape) in node, not descending into nested templates."""
    if isinstance(node, dict):
        for k, v in node.items():
            if skip_templates and k == "template" and isinstance(v, dict) and "resources" in v:
                continue
            yield from _expressions(k, skip_templates=skip_templates)
            yield from _expressions(v, skip_templates=skip_templates)
    elif isinstance(node, list):
        for v in node:
            yield from _expressions(v, skip_templates=skip_templates)
    elif isinstance(node, str) and node.startswith("[") and not node.startswith("[[") and node.endswith("]"):
        yield node


def _nested_templates(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "template" and isinstance(v, dict) and "resources" in v:
                yield v
            else:
                yield from _nested_templates(v)
    elif isinstance(node, list):
        for v in node:
            yield from _nested_templates(v)


def _strip_literals(expr):
    # ARM string literals are single-quoted, with '' as the escape.
    return re.sub(r"'(?:[^']|'')*'", "''", expr)


def _check_references(tpl, where):
    params = set(tpl.get("parameters", {}))
    variables = set(tpl.get("variables", {}))
    problems = []
    for expr in _expressions(tpl):
        body = _strip_literals(expr[1:-1])
        depth = 0
        for ch in body:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth < 0:
                break
        if depth != 0:
            problems.append(f"{where}: unbalanced parentheses in {expr}")
        for name in re.findall(r"parameters\('([^']+)'\)", expr):
            if name not in params:
                problems.append(f"{where}: unknown parameter {name!r} in {expr}")
        for name in re.findall(r"variables\('([^']+)'\)", expr):
            if name not in variables:
                problems.append(f"{where}: unknown variable {name!r} in {expr}")
    return problems


def _dockerfile_instructions():
    """(KEYWORD, arguments) pairs, continuation lines joined, comments dropped."""
    out, buf = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        keyword, _, rest = buf.strip().partition(" ")
        out.append((keyword.upper(), rest.strip()))
        buf = ""
    assert not buf, "Dockerfile ends inside a continuation line"
    return out


def _json_form(args):
    value = json.loads(args)  # raises for the shell form
    assert isinstance(value, list) and value and all(isinstance(a, str) for a in value)
    return value


# --------------------------------------------------------------------------- JSON files


@pytest.mark.parametrize("path", [TEMPLATE, ROLE], ids=lambda p: p.name)
def test_json_files_parse(path):
    assert isinstance(_load(path), dict)


def test_standalone_role_has_exactly_the_expected_actions(role):
    actions = role["Actions"]
    assert len(actions) == len(set(actions)), "duplicate actions"
    assert set(actions) == EXPECTED_ACTIONS
    assert not any("*" in a for a in actions), "no wildcards in a least-privilege role"
    assert role["NotActions"] == [] and role.get("DataActions", []) == []
    assert role["IsCustom"] is True
    assert role["Name"] == "ACI IP Registrar"
    assert role["AssignableScopes"], "AssignableScopes must hold at least the placeholder"


def test_template_role_matches_the_standalone_role(template, role):
    role_def = _one(template, "Microsoft.Authorization/roleDefinitions")
    permissions = role_def["properties"]["permissions"]
    assert len(permissions) == 1
    actions = permissions[0]["actions"]
    assert len(actions) == len(set(actions))
    assert set(actions) == EXPECTED_ACTIONS == set(role["Actions"])
    assert permissions[0].get("notActions", []) == []
    assert permissions[0].get("dataActions", []) == []
    assert role_def["properties"]["type"].lower() == "customrole"
    assert template["parameters"]["roleName"]["defaultValue"] == role["Name"]


def test_template_expressions_reference_defined_names(template):
    problems = _check_references(template, "azuredeploy.json")
    for i, nested in enumerate(_nested_templates(template)):
        problems += _check_references(nested, f"nested template {i}")
    assert not problems, "\n".join(problems)


def test_container_group_is_vnet_injected_with_private_ip(template):
    props = _container_group(template)["properties"]
    assert props["ipAddress"]["type"] == "Private"
    assert props["ipAddress"]["ports"], "ACI requires ports on ipAddress"
    subnet_ids = props["subnetIds"]
    assert isinstance(subnet_ids, list) and len(subnet_ids) == 1 and subnet_ids[0]["id"]
    assert "virtualNetworks/subnets" in template["variables"]["aciSubnetId"]
    assert props["osType"] == "Linux"
    assert props["restartPolicy"] == "Always", "on-failure=exit relies on ACI restarting the group"
    assert "initContainers" not in props, "the group's IP exists only after init containers finish"


def test_container_group_uses_the_user_assigned_identity(template):
    group = _container_group(template)
    identity = group["identity"]
    assert identity["type"] == "UserAssigned"
    assert list(identity["userAssignedIdentities"]) == ["[variables('identityId')]"]
    assert "userAssignedIdentities" in template["variables"]["identityId"]
    _one(template, "Microsoft.ManagedIdentity/userAssignedIdentities")


def test_container_group_environment(template):
    env = _env(template)
    for name in ("ACI_IP_REGISTRAR_TARGETS", "ACI_IP_REGISTRAR_MEMBER", "AZURE_CLIENT_ID"):
        assert env.get(name), f"{name} missing or empty"
    assert env["ACI_IP_REGISTRAR_MEMBER"] == "[parameters('containerGroupName')]"
    assert "clientId" in env["AZURE_CLIENT_ID"] and "identityId" in env["AZURE_CLIENT_ID"]
    assert env["ACI_IP_REGISTRAR_TARGETS"] == "[variables('registrarTargets')]"
    targets = template["variables"]["registrarTargets"]
    assert "variables('backendPoolId')" in targets and "variables('dnsRecordId')" in targets
    assert "applicationGateways/backendAddressPools" in template["variables"]["backendPoolId"]
    assert "privateDnsZones/A" in template["variables"]["dnsRecordId"]
    # Only names the CLI defines, plus the credential's own variable.
    for name in env:
        assert name.startswith("ACI_IP_REGISTRAR_") or name == "AZURE_CLIENT_ID", name


def test_container_group_waits_for_its_role_assignments(template):
    group = _container_group(template)
    deployments = [
        r for r in _resources_of_type(template, "Microsoft.Resources/deployments") if "copy" in r
    ]
    assert len(deployments) == 1
    loop = deployments[0]
    assert loop["copy"]["name"] in group["dependsOn"]
    inner = loop["properties"]["template"]["resources"]
    assert [r["type"] for r in inner] == ["Microsoft.Authorization/roleAssignments"]
    assert inner[0]["properties"]["principalType"] == "ServicePrincipal"


def test_role_is_assigned_at_resource_scopes_only(template):
    scopes = [a["scope"] for a in template["variables"]["registrarAssignments"]]
    joined = " ".join(scopes) + " " + template["variables"]["dnsScope"]
    assert any("Microsoft.Network/applicationGateways/" in s for s in scopes)
    assert any("Microsoft.Network/virtualNetworks/{0}/subnets/{1}" in s for s in scopes)
    assert any("Microsoft.Network/publicIPAddresses/" in s for s in scopes)
    assert "Microsoft.Network/privateDnsZones/" in joined
    # The container-group read assignment sits on the group, never on the resource group:
    # the same role carries gateway and DNS write.
    direct = _resources_of_type(template, "Microsoft.Authorization/roleAssignments")
    assert direct and all("containerGroups" in r["scope"] for r in direct)
    for scope in scopes + [r["scope"] for r in direct]:
        assert "resourceGroup()" not in scope and "subscription()" not in scope, scope


def test_container_group_properties_exist_in_the_aci_api():
    spec = _load(ACI_SPEC)["definitions"]
    allowed = spec["ContainerGroupProperties"]["properties"]["properties"]
    props = _container_group(_load(TEMPLATE))["properties"]
    assert set(props) <= set(allowed["properties"]), set(props) - set(allowed["properties"])
    assert set(allowed["required"]) <= set(props)
    container = props["containers"][0]["properties"]
    assert set(container) <= set(spec["ContainerProperties"]["properties"])
    assert set(spec["ContainerProperties"]["required"]) <= set(container)
    assert props["ipAddress"]["type"] in spec["IpAddress"]["properties"]["type"]["enum"]


# --------------------------------------------------------------------------- entrypoint.sh


def test_entrypoint_is_executable():
    mode = ENTRYPOINT.stat().st_mode
    assert mode & stat.S_IXUSR and mode & stat.S_IXGRP and mode & stat.S_IXOTH


def test_entrypoint_shebang_and_exec_line():
    text = ENTRYPOINT.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n")
    code = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert code == [EXEC_LINE]


def test_entrypoint_parses_with_sh_n():
    result = subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_entrypoint_passes_argv_through_and_keeps_the_pid(tmp_path):
    # A stand-in registrar on PATH: prints its PID, then each argument NUL-terminated.
    fake = tmp_path / "aci-ip-registrar"
    fake.write_text("#!/bin/sh\nprintf '%s\\0' \"$$\"\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done\n")
    fake.chmod(0o755)
    args = ["python", "-m", "http.server", "8080", "two words", "", "$HOME", "*", "-- x"]
    env = dict(os.environ, PATH=f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    sh = shutil.which("sh")
    result = subprocess.run(
        [sh, "-c", 'printf "%s\\0" "$$"; exec "$0" "$@"', str(ENTRYPOINT), *args],
        capture_output=True,
        env=env,
        check=True,
    )
    fields = result.stdout.decode().split("\0")[:-1]
    outer_pid, inner_pid, argv = fields[0], fields[1], fields[2:]
    assert inner_pid == outer_pid, "entrypoint.sh must exec, not fork"
    assert argv == ["register", "--", *args]


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_base_is_slim_python():
    froms = [a for k, a in _dockerfile_instructions() if k == "FROM"]
    assert froms, "no FROM"
    image = froms[-1].split()[0]
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", image), image


def test_dockerfile_entrypoint_and_cmd_are_json_form():
    instructions = _dockerfile_instructions()
    entrypoints = [a for k, a in instructions if k == "ENTRYPOINT"]
    cmds = [a for k, a in instructions if k == "CMD"]
    assert len(entrypoints) == 1 and len(cmds) == 1
    assert _json_form(entrypoints[0]) == ["/entrypoint.sh"]
    _json_form(cmds[0])


def test_dockerfile_runs_as_non_root_after_installing():
    instructions = _dockerfile_instructions()
    keywords = [k for k, _ in instructions]
    users = [a for k, a in instructions if k == "USER"]
    assert users, "no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]
    last_user = len(keywords) - 1 - keywords[::-1].index("USER")
    runs_after = [a for k, a in instructions[last_user:] if k == "RUN"]
    assert not runs_after, "nothing should need to run after dropping root"
    installs = [i for i, (k, a) in enumerate(instructions) if k == "RUN" and "pip install" in a]
    assert installs and installs[-1] < last_user
    assert any("--no-cache-dir" in instructions[i][1] for i in installs)


def test_dockerfile_copies_the_entrypoint():
    copies = [a.split() for k, a in _dockerfile_instructions() if k == "COPY"]
    assert ["entrypoint.sh", "/entrypoint.sh"] in copies
    assert any(c[0] == "." for c in copies), "the package is installed from the build context"


def test_template_env_vars_are_real_cli_options():
    """Every ACI_IP_REGISTRAR_* variable the template sets is one the CLI reads."""
    import re
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    template = (root / "examples" / "aci" / "azuredeploy.json").read_text()
    used = set(re.findall(r'"(ACI_IP_REGISTRAR_[A-Z_]+)"', template))
    assert used
    help_text = subprocess.run([sys.executable, "-m", "aci_ip_registrar", "register", "--help"],
                               capture_output=True, text=True, check=True,
                               env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"}).stdout
    known = set(re.findall(r"ACI_IP_REGISTRAR_[A-Z_]+", help_text))
    assert used <= known, used - known


# --------------------------------------------------------------------------- fleet sync job

SYNC_DIR = ROOT / "examples" / "sync"


def test_sync_role_is_exactly_what_sync_needs():
    role = _load(SYNC_DIR / "sync-role.json")
    assert set(role["Actions"]) == EXPECTED_ACTIONS
    assert role["NotActions"] == [] and role["DataActions"] == []


def test_sync_job_env_names_are_the_clis():
    from click.testing import CliRunner
    from aci_ip_registrar.cli import main_group
    job = _load(SYNC_DIR / "sync-job.json")
    (res,) = _resources_of_type(job, "Microsoft.App/jobs")
    assert res["identity"]["type"] == "UserAssigned"
    assert res["properties"]["configuration"]["triggerType"] == "Schedule"
    container = res["properties"]["template"]["containers"][0]
    assert container["command"] == ["aci-ip-registrar"] and container["args"][0] == "sync"
    named = set(re.findall(r"'(ACI_IP_REGISTRAR_[A-Z_]+|AZURE_CLIENT_ID)'",
                           json.dumps(job)))
    help_text = CliRunner().invoke(main_group, ["sync", "--help"], terminal_width=200).output
    for name in named - {"AZURE_CLIENT_ID"}:
        assert name in help_text, name
    assert {"ACI_IP_REGISTRAR_SCOPES", "ACI_IP_REGISTRAR_TARGETS",
            "ACI_IP_REGISTRAR_TAG_SELECTOR"} <= named


# --------------------------------------------------------------------------- watcher sidecar

SIDECAR = ROOT / "examples" / "aci" / "watcher-sidecar.yaml"


def test_watcher_sidecar_uses_real_options_and_probe_paths():
    from click.testing import CliRunner
    from aci_ip_registrar.cli import main_group
    text = SIDECAR.read_text()
    assert 'command: ["aci-ip-registrar", "watch"]' in text
    help_text = CliRunner().invoke(main_group, ["watch", "--help"], terminal_width=200).output
    for name in set(re.findall(r"ACI_IP_REGISTRAR_[A-Z_]+", text)):
        assert name in help_text, name
    port = re.search(r"ACI_IP_REGISTRAR_HEALTH_PORT\s+value: '(\d+)'", text).group(1)
    assert text.count(f"port: {port}") == 2
    assert "path: /healthz" in text and "path: /readyz" in text


def test_entrypoint_and_dockerfile_show_the_supervised_form():
    from click.testing import CliRunner
    from aci_ip_registrar.cli import main_group
    help_text = CliRunner().invoke(main_group, ["register", "--help"], terminal_width=200).output
    for text in (ENTRYPOINT.read_text(), DOCKERFILE.read_text()):
        assert "ACI_IP_REGISTRAR_SUPERVISE=true" in text
        for name in re.findall(r"ACI_IP_REGISTRAR_[A-Z_]+", text):
            assert name in help_text, name
