"""Subscription, tenant and cloud-discovery routes the Azure CLI needs."""

from __future__ import annotations

from typing import Any, Dict

from .errors import ArmError
from .state import Store
from .wire import Request, Response


def _subscription(sub: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub['subscriptionId']}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub["subscriptionId"],
        "tenantId": sub["tenantId"],
        "displayName": sub["displayName"],
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def list_subscriptions(store: Store, req: Request, route: Any) -> Response:
    subs = [_subscription(s) for s in store.subscriptions.values()]
    return Response(200, {"value": subs, "count": {"type": "Total", "value": len(subs)}})


def get_subscription(store: Store, req: Request, route: Any) -> Response:
    sub = store.subscriptions.get(route.sub.lower())
    if sub is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{route.sub}' could not be found.")
    return Response(200, _subscription(sub))


def list_tenants(store: Store, req: Request, route: Any) -> Response:
    tenants = []
    for tid in dict.fromkeys(s["tenantId"] for s in store.subscriptions.values()):
        tenants.append({
            "id": f"/tenants/{tid}", "tenantId": tid, "tenantCategory": "Home",
            "displayName": "Emulated tenant", "defaultDomain": "emulator.invalid",
            "domains": ["emulator.invalid"], "tenantType": "AAD",
        })
    return Response(200, {"value": tenants, "count": {"type": "Total", "value": len(tenants)}})


def metadata_endpoints(store: Store, req: Request, route: Any) -> Response:
    """Cloud discovery. Every endpoint points back at the emulator so nothing leaves loopback.

    api-version 2015-01-01 gets the old single-object form; 2019-05-01 up to 2022-09-01 the
    list of clouds; 2022-09-01 and later (what `az cloud register` asks for since 2.4x) the one
    cloud object of this endpoint.
    """
    base = req.base_url + "/"
    auth = {
        "loginEndpoint": base,
        "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
        "tenant": "common",
        "identityProvider": "AAD",
    }
    version = req.query.get("api-version") or "2015-01-01"
    if version < "2019-05-01":
        return Response(200, {
            "galleryEndpoint": base, "graphEndpoint": base, "portalEndpoint": base,
            "authentication": auth,
        })
    cloud = {
        "name": "AciIpRegistrarEmulator",
        "resourceManager": base,
        "gallery": base,
        "graph": base,
        "portal": base,
        "microsoftGraphResourceId": base,
        "authentication": auth,
        "media": base,
        "graphAudience": base,
        "batch": base,
        "suffixes": {"storage": "core.windows.net", "keyVaultDns": "vault.azure.net"},
    }
    return Response(200, cloud if version >= "2022-09-01" else [cloud])
