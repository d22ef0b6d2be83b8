"""scripts/bench_reset.py, the exact solver's benchmark, on one small instance: both
thread counts agree on the reset length and the speed-up summary is printed."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_reset_two_thread_columns():
    proc = subprocess.run(
        [sys.executable, "scripts/bench_reset.py", "--quick", "--only", "rand2_100_s0", "--threads2",
         "--time-limit", "120"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = next(line for line in proc.stdout.splitlines() if line.startswith("rand2_100_s0"))
    fields = row.split()
    assert fields[1] == "28" and fields[7] == "ok"   # rt of random binary n = 100, seed 0
    assert float(fields[-1]) > 0                      # the speed-up column
    summary = proc.stdout.split("speed-up of 2 threads over 1")[-1]
    assert "rand2_100" in summary
