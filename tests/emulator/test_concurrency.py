"""Many concurrent clients: no errors, no lost updates, the server stays up."""

from __future__ import annotations

import threading
import time

import requests

from .conftest import GW_ID, NET

RECORD = f"{NET}/privateDnsZones/corp.internal/TXT/counter"


def _session(emu):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer t"
    return session


def test_fifty_concurrent_clients(emu):
    failures, statuses = [], []
    lock = threading.Lock()

    def worker():
        session = _session(emu)
        try:
            for _ in range(20):
                resp = session.get(emu.base_url + GW_ID, params={"api-version": "2026-03-01"}, verify=emu.ca_path, timeout=20)
                with lock:
                    statuses.append(resp.status_code)
        except Exception as exc:  # noqa: BLE001 - collect and report every failure
            failures.append(repr(exc))
        finally:
            session.close()

    threads = [threading.Thread(target=worker) for _ in range(50)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures
    assert statuses == [200] * 1000
    assert time.monotonic() - started < 30
    assert emu.counts()["reads"] == 1000


def test_conditional_increments_lose_nothing(emu):
    """Ten writers increment one TXT record with If-Match; every increment lands exactly once."""
    url = emu.base_url + RECORD
    params = {"api-version": "2024-06-01"}
    init = _session(emu).put(url, params=params, json={"properties": {"ttl": 5, "txtRecords": [{"value": ["0"]}]}},
                             verify=emu.ca_path, timeout=10)
    assert init.status_code == 201
    errors = []

    def writer():
        session = _session(emu)
        done = 0
        while done < 10:
            current = session.get(url, params=params, verify=emu.ca_path, timeout=10).json()
            value = int(current["properties"]["txtRecords"][0]["value"][0])
            body = {"properties": {"ttl": 5, "txtRecords": [{"value": [str(value + 1)]}]}}
            resp = session.put(url, params=params, json=body, headers={"If-Match": f'"{current["etag"]}"'},
                               verify=emu.ca_path, timeout=10)
            if resp.status_code == 200:
                done += 1
            elif resp.status_code != 412:
                errors.append(resp.text)
                return
        session.close()

    threads = [threading.Thread(target=writer) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert emu.get(RECORD)["properties"]["txtRecords"][0]["value"] == ["100"]
