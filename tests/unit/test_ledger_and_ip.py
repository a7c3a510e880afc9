import pytest

from aci_ip_registrar.config import check_ip
from aci_ip_registrar.errors import DiscoveryError, UnsafePlanRefused
from aci_ip_registrar.ledger import (MAX_TAGS, apply_to_metadata, apply_to_tags,
                                     ledger_from_metadata, ledger_from_tags)
from aci_ip_registrar.planner import LedgerEntry as L


def test_tags_round_trip_and_foreign_tags_kept():
    tags = {"env": "prod", "aciipr:other-pool:0": "cg-x=10.0.0.1"}
    after = {"cg-a": L("10.0.0.4", True), "cg-b": L("10.0.0.5", False, "10.0.0.9")}
    out = apply_to_tags(tags, "Pool1", {}, after, "t")
    assert out["env"] == "prod" and out["aciipr:other-pool:0"] == "cg-x=10.0.0.1"
    assert out["aciipr:pool1:0"] == "cg-a=10.0.0.4+a,cg-b=10.0.0.5>10.0.0.9"
    assert ledger_from_tags(out, "pool1") == after
    assert ledger_from_tags(out, "other-pool") == {"cg-x": L("10.0.0.1")}


def test_ledger_packs_hundreds_of_members_within_the_tag_limits():
    after = {f"cg-app-{i:03d}": L(f"10.0.{i // 250}.{i % 250}") for i in range(400)}
    out = apply_to_tags({"env": "prod"}, "aci-pool", {}, after, "t")
    assert len(out) <= MAX_TAGS
    assert all(len(v) <= 256 for v in out.values())
    assert ledger_from_tags(out, "aci-pool") == after
    # shrinking the ledger drops the tags it no longer needs
    smaller = apply_to_tags(out, "aci-pool", after, {"cg-app-000": L("10.0.0.0")}, "t")
    assert sorted(smaller) == ["aciipr:aci-pool:0", "env"]


def test_full_tag_set_refused():
    tags = {f"t{i}": "v" for i in range(MAX_TAGS)}
    with pytest.raises(UnsafePlanRefused, match="tags are full"):
        apply_to_tags(tags, "p", {}, {"cg-a": L("10.0.0.4")}, "t")


def test_metadata_round_trip():
    meta = apply_to_metadata({"owner": "team"}, {}, {"cg-a-1": L("10.0.0.4")})
    assert meta["owner"] == "team"
    assert ledger_from_metadata(meta) == {"cg-a-1": L("10.0.0.4")}


@pytest.mark.parametrize("ip,needle", [
    ("10.0.0", "not an IPv4"), ("127.0.0.1", "loopback"), ("169.254.1.1", "link-local"),
    ("0.0.0.0", "unspecified"), ("8.8.8.8", "public"), ("224.0.0.1", "multicast"),
    ("fe80::1", "not an IPv4"),
])
def test_refused_ips(ip, needle):
    with pytest.raises(DiscoveryError, match=needle):
        check_ip(ip, False)


def test_allowed_ips():
    assert check_ip(" 10.1.2.3 ", False) == "10.1.2.3"
    assert check_ip("8.8.8.8", True) == "8.8.8.8"
