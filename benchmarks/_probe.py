"""What the measured interpreter runs: its prefix, where it imports the package from, whether the
package is an editable install, and the versions of the given distributions. Prints JSON.

    python _probe.py DIST...
"""
import json
import platform
import sys
from importlib import metadata


def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def editable():
    """True/False from the install's direct_url.json (PEP 610); None when not installed."""
    try:
        dist = metadata.distribution("aci-ip-registrar")
    except metadata.PackageNotFoundError:
        return None
    url = json.loads(dist.read_text("direct_url.json") or "{}")
    return bool((url.get("dir_info") or {}).get("editable"))


def main():
    import aci_ip_registrar
    print(json.dumps({"python": sys.executable, "prefix": sys.prefix,
                      "python_version": platform.python_version(),
                      "package_file": aci_ip_registrar.__file__, "editable": editable(),
                      "packages": {name: version(name) for name in sys.argv[1:]}}))


if __name__ == "__main__":
    main()
