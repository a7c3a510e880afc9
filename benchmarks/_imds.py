"""The IMDS managed-identity form (what an ACI container uses) for the benchmark, on loopback:
the emulator serves it itself at `imds_authority`."""
from __future__ import annotations

from typing import Dict


def imds_env(emu) -> Dict[str, str]:
    """The emulator's environment in the IMDS form: AZURE_POD_IDENTITY_AUTHORITY_HOST, no App
    Service variables (those would make azure-identity take the other path)."""
    env = dict(emu.env())
    env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = emu.imds_authority
    env.pop("IDENTITY_ENDPOINT", None)
    env.pop("IDENTITY_HEADER", None)
    return env
