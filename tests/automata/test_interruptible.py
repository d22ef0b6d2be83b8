"""Ctrl-C stops a census chunk at once, not when its kernel returns (up to minutes at n = 10)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each child restores Python's own Ctrl-C handler first: a suite started in the background
# by a non-interactive shell hands its children SIGINT ignored, and Python then installs none.
# Chunk 7295 of binary n = 10 at L = 50 runs about 10 s in one kernel call; a warm-up chunk
# first, so that compiling is not what the interrupt waits for.
CODE = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
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


# A random binary automaton of 400 states: its exact search makes subset queries of
# 2-12 s each in one kernel call (1 thread), reached a few seconds in.
SOLVER_CODE = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from automata.generate import random_synchronizing_dfa
from automata.sync import shortest_reset_word
shortest_reset_word(random_synchronizing_dfa(120, 2, 1))
dfa = random_synchronizing_dfa(400, 2, 3)
print("running", flush=True)
try:
    shortest_reset_word(dfa)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("delay", [4.0, 9.0])
def test_ctrl_c_stops_the_exact_solver_within_two_seconds(delay):
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", SOLVER_CODE], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "running"
        time.sleep(delay)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        waited = time.perf_counter() - sent
    finally:
        proc.kill()
    # A plain KeyboardInterrupt, not the SystemError numba reports when the signal lands
    # while a kernel calls back into Python.
    assert out.strip() == "interrupted", err[-2000:]
    assert waited < 2.0, f"Ctrl-C took {waited:.1f} s"


def test_a_kernel_call_below_the_threshold_runs_on_the_calling_thread():
    import threading

    import numpy as np

    from automata._interruptible import LONG_ROWS, run_long

    def where(a):
        return threading.current_thread().name

    assert run_long(where, np.zeros(LONG_ROWS - 1)) == threading.main_thread().name
    assert run_long(where, np.zeros(LONG_ROWS)) == "numba-kernel"


def test_surface_interrupts_turns_a_numba_system_error_back_into_ctrl_c():
    from automata._interruptible import surface_interrupts

    def kernel_with_pending_interrupt():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as inner:
            raise SystemError("returned a result with an exception set") from inner

    with pytest.raises(KeyboardInterrupt):
        with surface_interrupts():
            kernel_with_pending_interrupt()
    with pytest.raises(SystemError):
        with surface_interrupts():
            raise SystemError("a real one")
