import pytest

from aci_ip_registrar.config import parse_targets
from aci_ip_registrar.errors import ConfigError
from aci_ip_registrar.resource_ids import parse_container_group
from aci_ip_registrar.targets import parse_target

APPGW_POOL, PRIVATE_DNS_A = "appgw-pool", "private-dns-a"

SUB = "00000000-0000-0000-0000-0000000000aa"
POOL = (f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/"
        f"applicationGateways/agw/backendAddressPools/aci-pool")
REC = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/corp.internal/A/app"


def test_pool_parsed():
    ref = parse_target(POOL)
    assert (ref.kind, ref.resource_group, ref.resource_name, ref.child) == (
        APPGW_POOL, "rg-net", "agw", "aci-pool")


def test_fixed_segments_case_insensitive():
    ref = parse_target(POOL.replace("resourceGroups", "RESOURCEGROUPS")
                       .replace("Microsoft.Network", "microsoft.network")
                       .replace("applicationGateways", "applicationgateways")
                       .replace("backendAddressPools", "BackendAddressPools"))
    assert ref.kind == APPGW_POOL and ref.child == "aci-pool"


def test_record_parsed_lowercased():
    ref = parse_target(REC.replace("/A/app", "/a/App").replace("corp.internal", "Corp.Internal"))
    assert (ref.kind, ref.resource_name, ref.child) == (PRIVATE_DNS_A, "corp.internal", "app")


@pytest.mark.parametrize("raw,needle", [
    ("", "not an Azure resource ID"),
    ("subscriptions/x", "not an Azure resource ID"),
    (POOL.replace(SUB, "not-a-guid"), "is not a GUID"),
    (POOL.replace("resourceGroups", "resourceGroup"), "expected 'resourceGroups'"),
    (POOL.replace("/backendAddressPools/aci-pool", ""), "must end with"),
    (POOL.replace("aci-pool", "bad pool"), "no whitespace"),
    (POOL.replace("aci-pool", "-pool"), "pool name '-pool'"),
    (REC.replace("/A/", "/CNAME/"), "record type 'CNAME'"),
    (REC.replace("/A/app", ""), "names a zone"),
    (POOL.replace("applicationGateways/agw/backendAddressPools", "loadBalancers/lb/backendAddressPools"),
     "Load Balancer"),
    (POOL.replace("Microsoft.Network", "Microsoft.Compute"), "provider 'Microsoft.Compute'"),
    (POOL.replace("agw", "a//b"), "empty path segment"),
])
def test_bad_ids_name_the_problem(raw, needle):
    with pytest.raises(ConfigError) as info:
        parse_target(raw)
    assert needle in info.value.message


def test_options_and_duplicates():
    specs = parse_targets([f"{POOL} {REC};mode=exclusive;ttl=60"])
    assert [s.mode for s in specs] == ["shared", "exclusive"]
    assert specs[1].ttl == 60
    with pytest.raises(ConfigError, match="duplicate"):
        parse_targets([POOL, POOL.upper().replace(SUB.upper(), SUB)])


@pytest.mark.parametrize("suffix,needle", [
    (";mode=both", "mode 'both'"), (";ttl=0", "ttl '0'"), (";ttl=abc", "ttl 'abc'"),
    (";color=red", "unknown option 'color'"), (";mode", "must be key=value"),
])
def test_bad_options(suffix, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_targets([REC + suffix])


def test_ttl_only_for_dns():
    with pytest.raises(ConfigError, match="unknown option .ttl. for target kind appgw-pool"):
        parse_targets([POOL + ";ttl=30"])


def test_container_group():
    ref = parse_container_group(f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
                                f"Microsoft.ContainerInstance/containerGroups/cg-1")
    assert ref.name == "cg-1"
    with pytest.raises(ConfigError):
        parse_container_group(f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
                              f"Microsoft.ContainerInstance/containerGroups/CG_1")
