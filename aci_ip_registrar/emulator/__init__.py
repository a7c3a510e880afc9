"""A loopback Azure Resource Manager emulator for tests, benchmarks and trying the tool.

    from aci_ip_registrar.emulator import Emulator
    with Emulator("examples/emulator-seed.json") as emu:
        ...  # point clients at emu.base_url, trust emu.ca_path, use emu.env()

See docs/emulator.md for the seed format, knobs, fault kinds and log fields.
"""

from .control import Emulator
from .faults import KINDS as FAULT_KINDS

__all__ = ["Emulator", "FAULT_KINDS"]
