"""The console entry point. A boot is mostly imports (issue 14), and the cyclic collector's
passes over the fresh module objects cost about 6% of it; a boot that execs the app at once
gains nothing from them. So the youngest generation is collected only every 100,000 net
allocations (not 700) until `settle()`, which the commands that run on call first. The
collector stays on: a long retry or poll still has its garbage collected."""
from __future__ import annotations

import gc
from typing import List, Optional

BOOT_THRESHOLD = 100_000
_DEFAULTS = gc.get_threshold()


def main(argv: Optional[List[str]] = None) -> None:
    gc.set_threshold(BOOT_THRESHOLD, *_DEFAULTS[1:])
    from .cli import main as cli_main
    cli_main(argv)


def settle() -> None:
    """Back to the usual thresholds, with what the boot built frozen (never scanned again)."""
    if gc.get_threshold()[0] == BOOT_THRESHOLD:
        gc.freeze()
        gc.set_threshold(*_DEFAULTS)
