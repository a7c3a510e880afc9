import pytest

from aci_ip_registrar.config import check_ip
from aci_ip_registrar.errors import DiscoveryError
from aci_ip_registrar.ledger import (MAX_TAGS, Ledger, read_metadata, read_tags, tag_problems,
                                     write_metadata, write_tags)
from aci_ip_registrar.planner import LedgerEntry as L


def test_tags_round_trip_and_foreign_tags_kept():
    tags = {"env": "prod", "aciipr:other-pool:0": "cg-x=10.0.0.1"}
    after = {"cg-a": L("10.0.0.4"), "cg-b": L("10.0.0.5", False, "10.0.0.9")}
    out = write_tags(tags, "Pool1", Ledger(), after, {"cg-a"})
    assert out["env"] == "prod" and out["aciipr:other-pool:0"] == "cg-x=10.0.0.1"
    assert out["aciipr:pool1:0"] == "cg-a=10.0.0.4,cg-b=10.0.0.5>10.0.0.9"
    assert read_tags(out, "pool1").entries == after
    assert read_tags(out, "other-pool").entries == {"cg-x": L("10.0.0.1")}


def test_old_adopted_mark_still_parses():
    assert read_tags({"aciipr:p:0": "cg-a=10.0.0.4+a"}, "p").entries == {
        "cg-a": L("10.0.0.4", True)}


def test_ledger_packs_hundreds_of_members_within_the_tag_limits():
    after = {f"cg-app-{i:03d}": L(f"10.0.{i // 250}.{i % 250 + 1}") for i in range(400)}
    out = write_tags({"env": "prod"}, "aci-pool", Ledger(), after, {"cg-app-000"})
    assert len(out) <= MAX_TAGS and tag_problems(out, "t") == []
    assert read_tags(out, "aci-pool").entries == after
    # shrinking the ledger drops the tags it no longer needs
    smaller = write_tags(out, "aci-pool", read_tags(out, "aci-pool"),
                         {"cg-app-000": L("10.0.0.1")}, {"cg-app-000"})
    assert sorted(smaller) == ["aciipr:aci-pool:0", "env"]


def test_full_tag_set_is_a_problem_not_an_exception():
    tags = {f"t{i}": "v" for i in range(MAX_TAGS)}
    out = write_tags(tags, "p", Ledger(), {"cg-a": L("10.0.0.4")}, {"cg-a"})
    assert any("tags are full" in p for p in tag_problems(out, "t"))


def test_long_value_and_forbidden_name_are_problems():
    problems = tag_problems({"a/b": "x", "long": "y" * 257}, "t")
    assert len(problems) == 2 and "forbids" in problems[0] and "257" in problems[1]


def test_metadata_round_trip():
    meta = write_metadata({"owner": "team"}, Ledger(), {"cg-a-1": L("10.0.0.4")}, {"cg-a-1"})
    assert meta == {"owner": "team", "aciipr__0": "cg-a-1=10.0.0.4"}
    assert read_metadata(meta).entries == {"cg-a-1": L("10.0.0.4")}


@pytest.mark.parametrize("value,why", [
    ("cg-x=not-an-ip>10.0.2.200", "not ipv4"),
    ("cg-x=10.0.2.5>10.0.2.5", "released IP is the current one"),
    ("CG-X=10.0.2.5", "grammar"),
    ("cg-x=10.0.2.5 ", "not ipv4"),
    ("cg-x=010.0.2.5", "not a unicast"),
    ("cg-x=255.255.255.255", "not a unicast"),
    ("cg-x=10.0.2.5>240.0.0.1", "not a unicast"),
    ("cg-x", "not member=ip"),
    ("cg_x=10.0.2.5", "grammar"),
])
def test_unparseable_tag_items_are_foreign(value, why):
    ledger = read_tags({"aciipr:p:0": f"{value},cg-a=10.0.2.4"}, "p")
    assert ledger.entries == {"cg-a": L("10.0.2.4")}
    assert len(ledger.foreign) == 1 and why in ledger.foreign[0].why
    assert ledger.foreign[0].text == value


def test_duplicate_members_are_foreign_in_every_copy():
    ledger = read_tags({"aciipr:p:0": "cg-a=10.0.2.4,cg-b=10.0.2.6",
                        "aciipr:p:1": "cg-a=10.0.2.9", "aciipr:p:2": "CG-B=10.0.2.7"}, "p")
    assert ledger.entries == {}
    assert sorted(f.text for f in ledger.foreign) == [
        "CG-B=10.0.2.7", "cg-a=10.0.2.4", "cg-a=10.0.2.9", "cg-b=10.0.2.6"]
    assert {f.owner for f in ledger.foreign} == {"cg-a", "cg-b"}


def test_bad_tag_names_and_long_values_are_foreign_whole():
    tags = {"aciipr:p:x": "cg-a=10.0.2.4", "aciipr:p:1": "cg-b=10.0.2.5," + "c" * 260}
    ledger = read_tags(tags, "p")
    assert ledger.entries == {} and all(f.whole for f in ledger.foreign)


def test_foreign_items_stay_byte_identical_in_their_tag():
    tags = {"aciipr:p:0": "cg-x=not-an-ip>10.0.2.200", "aciipr:p:1": "cg-b=10.0.2.5,junk item"}
    before = read_tags(tags, "p")
    out = write_tags(tags, "p", before, {"cg-a": L("10.0.2.4"), "cg-b": L("10.0.2.5")}, {"cg-a"})
    assert out["aciipr:p:0"] == "cg-x=not-an-ip>10.0.2.200"
    assert out["aciipr:p:1"] == "junk item"
    assert out["aciipr:p:2"] == "cg-a=10.0.2.4,cg-b=10.0.2.5"
    again = read_tags(out, "p")
    assert again.entries == {"cg-a": L("10.0.2.4"), "cg-b": L("10.0.2.5")}
    assert sorted(f.text for f in again.foreign) == sorted(f.text for f in before.foreign)


def test_own_foreign_item_is_replaced():
    tags = {"aciipr:p:0": "cg-a=garbage,cg-b=10.0.2.5"}
    before = read_tags(tags, "p")
    out = write_tags(tags, "p", before, {"cg-a": L("10.0.2.4"), "cg-b": L("10.0.2.5")}, {"cg-a"})
    assert out == {"aciipr:p:0": "cg-a=10.0.2.4,cg-b=10.0.2.5"}


def test_metadata_foreign_keys_and_values():
    meta = {"aciipr_Team": "x>10.0.2.88", "aciipr_cg_b": "10.0.2.5", "aciipr_cg_c": "nope",
            "aciipr_cg_d": "10.0.2.7", "aciipr_CG_D": "10.0.2.8", "owner": "me"}
    ledger = read_metadata(meta)
    assert ledger.entries == {"cg-b": L("10.0.2.5")}
    assert {f.where for f in ledger.foreign} == {"aciipr_Team", "aciipr_cg_c", "aciipr_cg_d",
                                                "aciipr_CG_D"}
    out = write_metadata(meta, ledger, {"cg-b": L("10.0.2.5"), "cg-d": L("10.0.2.9")}, {"cg-d"})
    # valid entries of earlier releases' one-key-per-member form migrate into the packed keys
    assert out == {"aciipr_Team": "x>10.0.2.88", "aciipr_cg_c": "nope", "owner": "me",
                   "aciipr__0": "cg-b=10.0.2.5,cg-d=10.0.2.9"}


def test_metadata_packed_keys_hold_many_members_within_the_limits():
    after = {f"cg-app-{i:03d}": L(f"10.0.{i // 250}.{i % 250 + 1}") for i in range(60)}
    meta = write_metadata({"team": "web"}, Ledger(), after, set())
    assert len(meta) <= 8 and tag_problems(meta, "t", "the metadata entries", "metadata entries") == []
    assert read_metadata(meta).entries == after


def test_metadata_packed_foreign_items_stay_in_their_key():
    meta = {"aciipr__0": "cg-a=10.0.2.4,junk", "aciipr__x": "whatever", "aciipr_cg_b": "10.0.2.5"}
    ledger = read_metadata(meta)
    assert ledger.entries == {"cg-a": L("10.0.2.4"), "cg-b": L("10.0.2.5")}
    out = write_metadata(meta, ledger, {"cg-a": L("10.0.2.6"), "cg-b": L("10.0.2.5")}, {"cg-a"})
    assert out == {"aciipr__0": "junk", "aciipr__x": "whatever",
                   "aciipr__1": "cg-a=10.0.2.6,cg-b=10.0.2.5"}


@pytest.mark.parametrize("ip,needle", [
    ("10.0.0", "not an IPv4"), ("127.0.0.1", "loopback"), ("169.254.1.1", "link-local"),
    ("0.0.0.0", "unspecified"), ("8.8.8.8", "public"), ("224.0.0.1", "multicast"),
    ("fe80::1", "not an IPv4"), ("255.255.255.255", "broadcast"), ("240.0.0.1", "reserved"),
    ("0.1.2.3", "this network"), ("239.1.1.1", "multicast"),
])
def test_refused_ips(ip, needle):
    with pytest.raises(DiscoveryError, match=needle):
        check_ip(ip, False)


@pytest.mark.parametrize("ip", ["127.0.0.1", "255.255.255.255", "240.0.0.1", "0.1.2.3",
                                "169.254.1.1", "224.0.0.1"])
def test_allowing_public_never_allows_what_no_container_holds(ip):
    with pytest.raises(DiscoveryError):
        check_ip(ip, True)


def test_allowed_ips():
    assert check_ip(" 10.1.2.3 ", False) == "10.1.2.3"
    assert check_ip("100.64.1.2", False) == "100.64.1.2"
    assert check_ip("8.8.8.8", True) == "8.8.8.8"
