import pytest

from aci_ip_registrar.config import check_ip
from aci_ip_registrar.errors import DiscoveryError, UnsafePlanRefused
from aci_ip_registrar.ledger import (MAX_TAGS, apply_to_metadata, apply_to_tags,
                                     ledger_from_metadata, ledger_from_tags)
from aci_ip_registrar.planner import LedgerEntry as L


def test_tags_round_trip_and_foreign_tags_kept():
    tags = {"env": "prod", "aciipr:other-pool:cg-x": "10.0.0.1"}
    out = apply_to_tags(tags, "Pool1", {}, {"cg-a": L("10.0.0.4", True)}, "t")
    assert out["env"] == "prod" and out["aciipr:other-pool:cg-x"] == "10.0.0.1"
    assert ledger_from_tags(out, "pool1") == {"cg-a": L("10.0.0.4", True)}
    assert ledger_from_tags(out, "other-pool") == {"cg-x": L("10.0.0.1")}


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
