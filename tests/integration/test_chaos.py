"""Reduced chaos run for CI: 10 registrars, 20% faults, restarts and swaps, in both If-Match modes.
The full size is `python tests/chaos_harness.py --n 50 --fault-rate 0.2 --seeds 1-20 --if-match both`
(figures in benchmarks/results/chaos-n50.json)."""
from __future__ import annotations

import pytest

from chaos_harness import ALWAYS, run_seed


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
def test_chaos_with_if_match_holds_every_invariant(seed):
    result = run_seed(seed, n=10, fault_rate=0.2, if_match=True)
    print(f"seed={seed} {result}")
    assert result["faults_injected"] > 0 and result["swapped_pairs"] == 2
    assert result["restarts"] >= 1
    assert result["failed_processes"] == {}
    assert result["violations"] == [], f"reproduce with seed {seed}"
    assert result["missing"] == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 13])
def test_chaos_without_if_match_keeps_what_the_code_guarantees(seed):
    """With If-Match ignored a one-shot registrar can lose a neighbour's address (a stale PUT
    landing after the neighbour's operation finished). Asserted: I3 and I5 hold, every process
    exits (with a documented code), and every loss traces back to a stale PUT the gateway accepted.
    Missing members are a measured figure, printed, not asserted."""
    result = run_seed(seed, n=10, fault_rate=0.2, if_match=False)
    print(f"seed={seed} violations={result['violations_by_invariant']} "
          f"missing={result['missing']} exit_codes={result['exit_codes']}")
    assert result["faults_injected"] > 0 and result["swapped_pairs"] == 2
    assert all(result["violations_by_invariant"][inv] == 0 for inv in ALWAYS), result["violations"]
    assert all(code is not None for code in result["exit_codes"])
    if result["violations"] or result["missing"]:
        assert result["stale_puts_accepted"] > 0
