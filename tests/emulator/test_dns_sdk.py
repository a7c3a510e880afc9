"""Private DNS (azure-mgmt-privatedns 2.x) and public DNS (azure-mgmt-dns 9.x) round trips."""

from __future__ import annotations

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.mgmt.dns import models as pub
from azure.mgmt.privatedns import models as priv

from .conftest import NET, REVERSE_ZONE, RG, SUB, ZONE


def _a(ip):
    return priv.RecordSet(ttl=30, metadata={"owner": "aci-ip-registrar"}, a_records=[priv.ARecord(ipv4_address=ip)])


# -- private DNS --------------------------------------------------------------------------------
def test_private_get_seeded_a_record(privatedns):
    rs = privatedns.record_sets.get(RG, ZONE, "A", "app")
    assert rs.a_records[0].ipv4_address == "10.0.2.4"
    assert rs.fqdn == "app.corp.internal."
    assert rs.is_auto_registered is False
    assert rs.type == "Microsoft.Network/privateDnsZones/A"
    assert rs.etag and '"' not in rs.etag and not rs.etag.startswith("W/")


def test_private_create_is_201_update_is_200_names_lower_cased(privatedns, emu):
    created = privatedns.record_sets.create_or_update(RG, ZONE, "A", "NewApp", _a("10.0.2.9"))
    assert created.name == "newapp"
    assert created.id.endswith("/privateDnsZones/corp.internal/A/newapp")
    assert created.metadata == {"owner": "aci-ip-registrar"}
    updated = privatedns.record_sets.create_or_update(RG, ZONE, "A", "newapp", _a("10.0.2.10"))
    assert updated.etag != created.etag
    assert [r.ipv4_address for r in updated.a_records] == ["10.0.2.10"]
    assert [e["status"] for e in emu.log() if e["method"] == "PUT"] == [201, 200]


def test_private_conditional_writes(privatedns, emu):
    current = privatedns.record_sets.get(RG, ZONE, "A", "app")
    fresh = privatedns.record_sets.create_or_update(
        RG, ZONE, "A", "app", _a("10.0.2.11"), etag=current.etag, match_condition=MatchConditions.IfNotModified)
    assert fresh.a_records[0].ipv4_address == "10.0.2.11"
    with pytest.raises(ResourceModifiedError) as info:  # the old etag is stale now
        privatedns.record_sets.create_or_update(
            RG, ZONE, "A", "app", _a("10.0.2.12"), etag=current.etag, match_condition=MatchConditions.IfNotModified)
    assert info.value.status_code == 412
    assert info.value.error.code == "PreconditionFailed"
    with pytest.raises(ResourceExistsError):  # If-None-Match: * on an existing record
        privatedns.record_sets.create_or_update(RG, ZONE, "A", "app", _a("10.0.2.12"), match_condition=MatchConditions.IfMissing)
    with pytest.raises(ResourceNotFoundError):  # If-Match: * on a missing record
        privatedns.record_sets.create_or_update(RG, ZONE, "A", "ghost", _a("10.0.2.12"), match_condition=MatchConditions.IfPresent)
    made = privatedns.record_sets.create_or_update(RG, ZONE, "A", "ghost", _a("10.0.2.12"), match_condition=MatchConditions.IfMissing)
    assert made.name == "ghost"
    sent = [(e["if_match"], e["if_none_match"], e["status"]) for e in emu.log() if e["method"] == "PUT"]
    assert sent == [(f'"{current.etag}"', None, 200), (f'"{current.etag}"', None, 412), (None, "*", 412),
                    ("*", None, 412), (None, "*", 201)]


def test_private_update_patches_metadata_only(privatedns):
    before = privatedns.record_sets.get(RG, ZONE, "A", "app")
    after = privatedns.record_sets.update(RG, ZONE, "A", "app", priv.RecordSet(metadata={"k": "v"}))
    assert after.metadata == {"k": "v"}
    assert after.a_records == before.a_records
    assert after.etag != before.etag


def test_private_delete_200_then_204_and_conditional_delete(privatedns, emu):
    current = privatedns.record_sets.get(RG, ZONE, "A", "legacy-app")
    with pytest.raises(ResourceModifiedError):
        privatedns.record_sets.delete(RG, ZONE, "A", "legacy-app", etag="stale", match_condition=MatchConditions.IfNotModified)
    privatedns.record_sets.delete(RG, ZONE, "A", "legacy-app", etag=current.etag, match_condition=MatchConditions.IfNotModified)
    privatedns.record_sets.delete(RG, ZONE, "A", "legacy-app")
    assert [e["status"] for e in emu.log() if e["method"] == "DELETE"] == [412, 200, 204]
    with pytest.raises(ResourceNotFoundError) as info:
        privatedns.record_sets.get(RG, ZONE, "A", "legacy-app")
    assert info.value.status_code == 404


def test_private_ptr_and_txt(privatedns):
    ptr = privatedns.record_sets.create_or_update(
        RG, REVERSE_ZONE, "PTR", "5", priv.RecordSet(ttl=30, ptr_records=[priv.PtrRecord(ptrdname="app2.corp.internal")]))
    assert ptr.fqdn == "5.2.0.10.in-addr.arpa."
    assert privatedns.record_sets.get(RG, REVERSE_ZONE, "PTR", "4").ptr_records[0].ptrdname == "app.corp.internal"
    txt = privatedns.record_sets.create_or_update(
        RG, ZONE, "TXT", "owner", priv.RecordSet(ttl=60, txt_records=[priv.TxtRecord(value=["a", "b"])]))
    assert txt.txt_records[0].value == ["a", "b"]


def test_private_lists_page_with_next_link(privatedns, emu):
    for i in range(5):
        privatedns.record_sets.create_or_update(RG, ZONE, "A", f"m{i}", _a(f"10.0.2.{40 + i}"))
    emu.set(page_size=2)
    names = [r.name for r in privatedns.record_sets.list_by_type(RG, ZONE, "A")]
    assert names == ["app", "legacy-app", "m0", "m1", "m2", "m3", "m4"]
    everything = [(r.type.rsplit("/", 1)[-1], r.name) for r in privatedns.record_sets.list(RG, ZONE)]
    assert ("SOA", "@") in everything and len(everything) == 8
    pages = [e for e in emu.log() if e["kind"] == "read" and "$skiptoken" in e["query"]]
    assert pages, "the SDK followed nextLink"
    suffix = [r.name for r in privatedns.record_sets.list_by_type(RG, ZONE, "A", recordsetnamesuffix="app")]
    assert suffix == ["app"]


def test_private_missing_zone_is_parent_not_found(privatedns):
    with pytest.raises(ResourceNotFoundError) as info:
        privatedns.record_sets.create_or_update(RG, "nowhere.internal", "A", "x", _a("10.0.2.9"))
    assert info.value.error.code == "ParentResourceNotFound"


def test_private_zones(privatedns, emu):
    zone = privatedns.private_zones.get(RG, ZONE)
    assert zone.number_of_record_sets == 3  # SOA + two seeded A records
    assert zone.location == "global" and zone.provisioning_state == "Succeeded"
    assert sorted(z.name for z in privatedns.private_zones.list_by_resource_group(RG)) == [REVERSE_ZONE, ZONE]
    new = privatedns.private_zones.begin_create_or_update(RG, "svc.internal", priv.PrivateZone(location="global")).result()
    assert new.name == "svc.internal" and new.number_of_record_sets == 1
    privatedns.private_zones.begin_delete(RG, "svc.internal").result()
    assert emu.get(f"{NET}/privateDnsZones/svc.internal") is None


# -- public DNS ---------------------------------------------------------------------------------
@pytest.fixture
def public_zone(publicdns):
    return publicdns.zones.create_or_update(RG, "example.com", pub.Zone(location="global"))


def test_public_zone_and_record_round_trip(publicdns, public_zone, emu):
    assert public_zone.name == "example.com" and public_zone.name_servers
    rs = publicdns.record_sets.create_or_update(
        RG, "example.com", "WWW", "A", pub.RecordSet(ttl=60, metadata={"o": "aci"}, a_records=[pub.ARecord(ipv4_address="20.1.2.3")]))
    assert rs.name == "www" and rs.ttl == 60 and rs.fqdn == "www.example.com."
    assert rs.provisioning_state == "Succeeded"
    got = publicdns.record_sets.get(RG, "example.com", "www", "A")
    assert got.a_records[0].ipv4_address == "20.1.2.3"
    with pytest.raises(HttpResponseError) as info:  # azure-mgmt-dns has no 412 in its error map
        publicdns.record_sets.create_or_update(RG, "example.com", "www", "A", got, if_match="stale")
    assert info.value.status_code == 412
    updated = publicdns.record_sets.create_or_update(RG, "example.com", "www", "A", got, if_match=got.etag)
    assert updated.etag != got.etag
    with pytest.raises(HttpResponseError) as info:
        publicdns.record_sets.create_or_update(RG, "example.com", "www", "A", got, if_none_match="*")
    assert info.value.status_code == 412
    patched = publicdns.record_sets.update(RG, "example.com", "www", "A", pub.RecordSet(metadata={"k": "v"}))
    assert patched.metadata == {"k": "v"} and patched.a_records[0].ipv4_address == "20.1.2.3"
    ptr = publicdns.record_sets.create_or_update(
        RG, "example.com", "ptr", "PTR", pub.RecordSet(ttl=60, ptr_records=[pub.PtrRecord(ptrdname="x.example.com")]))
    assert ptr.ptr_records[0].ptrdname == "x.example.com"
    assert {r.name for r in publicdns.record_sets.list_by_type(RG, "example.com", "A")} == {"www"}
    assert {(r.type.rsplit("/", 1)[-1], r.name) for r in publicdns.record_sets.list_all_by_dns_zone(RG, "example.com")} == {
        ("SOA", "@"), ("NS", "@"), ("A", "www"), ("PTR", "ptr")}
    assert len(list(publicdns.record_sets.list_by_dns_zone(RG, "example.com"))) == 4
    publicdns.record_sets.delete(RG, "example.com", "www", "A")
    publicdns.record_sets.delete(RG, "example.com", "www", "A")
    assert [e["status"] for e in emu.log() if e["method"] == "DELETE"] == [200, 204]
    # The wire shape is PascalCase for public DNS.
    raw = emu.get(f"{NET}/dnsZones/example.com/PTR/ptr")
    assert set(raw["properties"]) >= {"TTL", "PTRRecords", "fqdn"}


def test_public_zone_get_list_delete(publicdns, public_zone, emu):
    assert publicdns.zones.get(RG, "example.com").number_of_record_sets == 2
    assert [z.name for z in publicdns.zones.list_by_resource_group(RG)] == ["example.com"]
    assert [z.name for z in publicdns.zones.list()] == ["example.com"]
    publicdns.zones.begin_delete(RG, "example.com").result()
    with pytest.raises(ResourceNotFoundError):
        publicdns.zones.get(RG, "example.com")


def test_private_dns_silent_rewrites(raw, emu):
    """Copied from the service: metadata keys with spaces dropped (azure-rest-api-specs#8555), zone
    tags containing ':' dropped (#11748), resource group lower-cased in ids (#6641)."""
    upper = f"/subscriptions/{SUB}/resourceGroups/RG-Upper/providers/Microsoft.Network/privateDnsZones/up.internal"
    zone = raw("PUT", upper, {"location": "global", "tags": {"a:b": "x", "ok": "y"}}, api_version="2024-06-01")
    assert zone.status_code == 201
    assert zone.json()["tags"] == {"ok": "y"}
    assert "/resourceGroups/rg-upper/" in zone.json()["id"]
    rec = raw("PUT", f"{upper}/A/app", {"properties": {"ttl": 5, "metadata": {"has space": "x", "aciipr_m": "y"},
                                                     "aRecords": [{"ipv4Address": "10.0.0.1"}]}},
              api_version="2024-06-01")
    assert rec.status_code == 201
    assert rec.json()["properties"]["metadata"] == {"aciipr_m": "y"}
    assert rec.json()["id"].startswith(f"/subscriptions/{SUB}/resourceGroups/rg-upper/")
    too_many = raw("PUT", f"{upper}/A/app", {"properties": {"metadata": {f"k{i}": "v" for i in range(51)}}},
                   api_version="2024-06-01")
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "InvalidMetadataCount"
    long_value = raw("PUT", upper, {"location": "global", "tags": {"k": "v" * 257}}, api_version="2024-06-01")
    assert long_value.status_code == 400 and long_value.json()["error"]["code"] == "InvalidTagValueLength"
