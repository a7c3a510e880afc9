"""The physical limit of a no-op boot, standard library only: one managed-identity token from
IMDS, one HTTPS GET per resource over one TLS connection (the same CA, the same endpoint), a check
that the member's IP is there, then exec the app. No SDK, no retries, no planning: what any
Python tool doing this job cannot go below.

    python reference_boot.py [--absent] [--perm SCOPE]... IP RESOURCE_ID... -- APP ARGV...

The limit of a run that would write (a dry run for a new IP): `--absent` checks that the IP is
NOT in the resources instead, and each `--perm SCOPE` then reads the caller's permissions at
SCOPE (`{SCOPE}/providers/Microsoft.Authorization/permissions`, following `nextLink`), over the
same connection with the same token, as the registrar's pre-write check does.

Environment: AZURE_POD_IDENTITY_AUTHORITY_HOST (IMDS), ACI_IP_REGISTRAR_ARM_ENDPOINT,
ACI_IP_REGISTRAR_CA_BUNDLE (as the registrar reads them).
"""
import http.client
import json
import os
import ssl
import sys
import urllib.parse

API = {"applicationgateways": "2026-03-01", "privatednszones": "2024-06-01"}
PERMISSIONS = "/providers/Microsoft.Authorization/permissions?api-version=2022-04-01"


def token(resource: str) -> str:
    authority = urllib.parse.urlsplit(os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"])
    conn = http.client.HTTPConnection(authority.hostname, authority.port, timeout=10)
    query = urllib.parse.urlencode({"api-version": "2018-02-01", "resource": resource})
    conn.request("GET", "/metadata/identity/oauth2/token?" + query, headers={"Metadata": "true"})
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    if response.status != 200:
        sys.exit(f"token: {response.status}")
    return body["access_token"]


def holds(doc: dict, ip: str) -> bool:
    props = doc.get("properties") or {}
    ips = [a.get("ipv4Address") for a in props.get("aRecords") or []]
    for pool in props.get("backendAddressPools") or []:
        ips += [a.get("ipAddress") for a in (pool.get("properties") or {}).get("backendAddresses") or []]
    return ip in ips


def main() -> None:
    split = sys.argv.index("--")
    args, app = iter(sys.argv[1:split]), sys.argv[split + 1:]
    absent, scopes, rest = False, [], []
    for arg in args:  # no argparse: its import would be charged to the limit
        if arg == "--absent":
            absent = True
        elif arg == "--perm":
            scopes.append(next(args))
        else:
            rest.append(arg)
    ip, ids = rest[0], rest[1:]
    endpoint = urllib.parse.urlsplit(os.environ["ACI_IP_REGISTRAR_ARM_ENDPOINT"])
    bearer = token(f"{endpoint.scheme}://{endpoint.netloc}")
    context = ssl.create_default_context(cafile=os.environ.get("ACI_IP_REGISTRAR_CA_BUNDLE"))
    conn = http.client.HTTPSConnection(endpoint.hostname, endpoint.port, context=context,
                                       timeout=10)

    def get(url: str) -> dict:
        conn.request("GET", url,
                     headers={"Authorization": "Bearer " + bearer, "Accept": "application/json"})
        response = conn.getresponse()
        doc = json.loads(response.read())
        if response.status != 200:
            sys.exit(f"{url}: {response.status}")
        return doc

    for rid in ids:
        kind = rid.split("/")[7].lower()
        if holds(get(f"{rid}?api-version={API[kind]}"), ip) == absent:
            sys.exit(f"{rid}: {ip} {'there' if absent else 'not there'}")
    for scope in scopes:
        url = scope + PERMISSIONS
        while url:
            link = urllib.parse.urlsplit(get(url).get("nextLink") or "")
            url = f"{link.path}?{link.query}" if link.path else None  # same endpoint, same conn
    conn.close()
    sys.stdout.flush()
    os.execvp(app[0], app)


if __name__ == "__main__":
    main()
