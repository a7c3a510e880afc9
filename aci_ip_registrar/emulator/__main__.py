"""`python -m aci_ip_registrar.emulator [--seed FILE] ...`: the same as `aci-ip-registrar emulator`."""

from .commands import emulator_command

if __name__ == "__main__":
    emulator_command(prog_name="python -m aci_ip_registrar.emulator")
