"""One exit-code table: `exit-codes` prints it and README.md embeds the same text."""
import re
import subprocess
import sys
from pathlib import Path

from aci_ip_registrar.errors import EXIT_CODES, exit_code_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_embeds_the_table():
    text = README.read_text()
    block = re.search(r"<!-- exit-codes:.*?-->\n(.*?)\n<!-- /exit-codes -->", text, re.S)
    assert block and block.group(1) == exit_code_table()


def test_exit_codes_command_prints_the_same_table():
    out = subprocess.run([sys.executable, "-m", "aci_ip_registrar", "exit-codes"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == exit_code_table()


def test_published_codes_never_change_meaning():
    assert {0, 2, 3, 4, 5, 6, 7, 8, 9, 126, 127, 129, 130, 143} == set(EXIT_CODES)
    assert EXIT_CODES[143].startswith("stopped by SIGTERM")
