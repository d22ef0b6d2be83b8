"""Ctrl-C stops a census chunk at once, not when its kernel returns (up to minutes at n = 10)."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Chunk 7295 of binary n = 10 at L = 50 runs about 10 s in one kernel call; a warm-up chunk
# first, so that compiling is not what the interrupt waits for.
CODE = """
import sys, time
from automata.census_pruned import census_chunk
census_chunk(6, 2, 20, 100)
print("running", flush=True)
try:
    census_chunk(10, 2, 50, 7295)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.slow
def test_ctrl_c_stops_a_long_census_kernel_within_two_seconds():
    proc = subprocess.Popen([sys.executable, "-c", CODE], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "running"
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        waited = time.perf_counter() - sent
    finally:
        proc.kill()
    assert out.strip() == "interrupted"
    assert waited < 2.0, f"Ctrl-C took {waited:.1f} s"


def test_an_interrupted_kernel_still_gives_the_same_census():
    from automata.census_pruned import census_chunk, pruned_census

    assert pruned_census(5, 2, 12).automata == {
        key: rt for i in range(47) for key, rt in census_chunk(5, 2, 12, i).automata.items()}
