"""benchmarks/duty.py at CI size, so the benchmark cannot rot: one-shot, one-shot + sync and
watchers on a gateway that ignores If-Match, with faults."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_duty_benchmark_small(tmp_path):
    out = tmp_path / "duty.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "duty.py"), "--n", "3",
                           "--quick", "--interval", "2", "--spread", "1", "--op", "0.2",
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    storms = {r["mode"]: r for r in json.loads(out.read_text())["storms"]}
    assert set(storms) == {"oneshot", "oneshot+sync", "watch", "supervise"}
    assert all(r["foreign_intact"] for r in storms.values())
    assert storms["oneshot+sync"]["missing_after_sync"] == 0
    assert storms["oneshot+sync"]["sync_gateway_puts"] <= 1
    assert storms["watch"]["missing_two_intervals_later"] == 0
    sup = storms["supervise"]
    assert sup["members_booted"] == 3 and sup["missing_two_intervals_later"] == 0
    assert sup["within_two_intervals_of_last_registered"] is True
    assert "| watch (N=3" in proc.stdout
