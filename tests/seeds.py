"""Seed builders for tests: a realistic gateway, a private zone, container groups."""
from __future__ import annotations

import copy
from typing import Iterable

SUB = "3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
RG = "rg-net"
GW = "agw-prod"
ZONE = "corp.internal"
NET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
GW_ID = f"{NET}/applicationGateways/{GW}"
POOL_ID = f"{GW_ID}/backendAddressPools/aci-pool"
POOL2_ID = f"{GW_ID}/backendAddressPools/aci-pool-2"
ZONE_ID = f"{NET}/privateDnsZones/{ZONE}"
REC_ID = f"{ZONE_ID}/A/app"
CG_RG = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerInstance"
SUBNET = f"{NET}/virtualNetworks/vnet-prod/subnets/appgw"


def _sub(kind: str, name: str, props: dict) -> dict:
    return {"name": name, "id": f"{GW_ID}/{kind}/{name}", "properties": props}


def gateway(pools=None, tags=None) -> dict:
    pools = pools if pools is not None else {
        "aci-pool": [{"ipAddress": "10.0.2.200"}, {"fqdn": "legacy.corp.internal"}],
        "aci-pool-2": [],
        "static-pool": [{"ipAddress": "10.0.9.9"}],
    }
    return {
        "id": GW_ID, "name": GW, "type": "Microsoft.Network/applicationGateways",
        "location": "westeurope",
        "tags": dict(tags if tags is not None else {"env": "prod", "owner": "platform-team"}),
        "properties": {
            "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 2},
            "gatewayIPConfigurations": [_sub("gatewayIPConfigurations", "gwip",
                                             {"subnet": {"id": SUBNET}})],
            "sslCertificates": [_sub("sslCertificates", "wildcard-corp",
                                     {"publicCertData": "MIIDfakeCERTdata==",
                                      "keyVaultSecretId": None})],
            "frontendIPConfigurations": [_sub("frontendIPConfigurations", "fe-private",
                                              {"privateIPAddress": "10.0.1.10",
                                               "privateIPAllocationMethod": "Static",
                                               "subnet": {"id": SUBNET}})],
            "frontendPorts": [_sub("frontendPorts", "port-443", {"port": 443})],
            "backendAddressPools": [_sub("backendAddressPools", name,
                                         {"backendAddresses": list(entries)})
                                    for name, entries in pools.items()],
            "backendHttpSettingsCollection": [_sub("backendHttpSettingsCollection", "http-8080",
                                                   {"port": 8080, "protocol": "Http",
                                                    "cookieBasedAffinity": "Disabled",
                                                    "requestTimeout": 30,
                                                    "probe": {"id": f"{GW_ID}/probes/health"}})],
            "httpListeners": [_sub("httpListeners", "listener-443",
                                   {"frontendIPConfiguration": {"id": f"{GW_ID}/frontendIPConfigurations/fe-private"},
                                    "frontendPort": {"id": f"{GW_ID}/frontendPorts/port-443"},
                                    "protocol": "Https",
                                    "sslCertificate": {"id": f"{GW_ID}/sslCertificates/wildcard-corp"}})],
            "requestRoutingRules": [_sub("requestRoutingRules", "rule-app",
                                         {"ruleType": "Basic", "priority": 100,
                                          "httpListener": {"id": f"{GW_ID}/httpListeners/listener-443"},
                                          "backendAddressPool": {"id": POOL_ID},
                                          "backendHttpSettings": {"id": f"{GW_ID}/backendHttpSettingsCollection/http-8080"}})],
            "probes": [_sub("probes", "health", {"protocol": "Http", "host": "127.0.0.1",
                                                 "path": "/healthz", "interval": 30,
                                                 "timeout": 30, "unhealthyThreshold": 3})],
        },
    }


def zone() -> dict:
    return {"id": ZONE_ID, "name": ZONE, "type": "Microsoft.Network/privateDnsZones",
            "location": "global", "tags": {}}


def record(name="app", ips=(), metadata=None, ttl=300) -> dict:
    return {"id": f"{ZONE_ID}/A/{name}", "name": name, "type": "Microsoft.Network/privateDnsZones/A",
            "properties": {"ttl": ttl, "metadata": dict(metadata or {}),
                           "aRecords": [{"ipv4Address": ip} for ip in ips]}}


def container_group(name: str, ip: str) -> dict:
    return {"id": f"{CG_RG}/containerGroups/{name}", "name": name,
            "type": "Microsoft.ContainerInstance/containerGroups", "location": "westeurope",
            "tags": {}, "properties": {
                "provisioningState": "Succeeded", "osType": "Linux", "sku": "Standard",
                "restartPolicy": "Always",
                "subnetIds": [{"id": f"{NET}/virtualNetworks/vnet-prod/subnets/aci"}],
                "ipAddress": {"type": "Private", "ip": ip,
                              "ports": [{"port": 8080, "protocol": "TCP"}]},
                "containers": [{"name": "app", "properties": {
                    "image": "example.azurecr.io/app:1", "ports": [{"port": 8080}],
                    "resources": {"requests": {"cpu": 1, "memoryInGB": 1.5}}}}],
                "instanceView": {"state": "Running", "events": []}}}


def seed(gw=None, records=None, groups=None, with_zone=True) -> dict:
    resources = [copy.deepcopy(gw if gw is not None else gateway())]
    if with_zone:
        resources.append(zone())
    resources += [copy.deepcopy(r) for r in (records or [])]
    resources += [copy.deepcopy(g) for g in (groups or [])]
    return {"subscriptions": [{"subscriptionId": SUB, "tenantId": TENANT,
                               "displayName": "prod"}],
            "resources": resources}


def strip_volatile(gw: dict, pools: Iterable[str] = ("aci-pool",)) -> dict:
    """The gateway minus what registering in `pools` may change: those pools' addresses, the
    ledger tags, etags and provisioning states. Everything else must stay byte for byte (I3)."""
    gw = copy.deepcopy(gw)
    gw.pop("etag", None)
    gw["tags"] = {k: v for k, v in gw.get("tags", {}).items() if not k.startswith("aciipr:")}
    props = gw["properties"]
    props.pop("provisioningState", None)
    for value in props.values():
        for item in value if isinstance(value, list) else []:
            if isinstance(item, dict):
                item.pop("etag", None)
                if isinstance(item.get("properties"), dict):
                    item["properties"].pop("provisioningState", None)
                    if item.get("name") in pools:
                        item["properties"].pop("backendAddresses", None)
    return gw
