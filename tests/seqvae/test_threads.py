"""Default torch threads degrade on a busy machine; an explicit --threads is always obeyed."""
import os

import torch

from seqvae.cli import _common


def test_default_threads_drop_to_one_on_a_busy_machine(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
        monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
        assert _common.machine_busy()
        assert _common.set_threads(None) == 1 and torch.get_num_threads() == 1
        assert _common.set_threads(2) == 2 and torch.get_num_threads() == 2
        monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.5, 0.5))
        assert not _common.machine_busy()
        assert _common.set_threads(None) == 2
    finally:
        torch.set_num_threads(before)


def test_numba_launching_its_threads_later_keeps_the_torch_count():
    # numba's OpenMP layer shares torch's libgomp: launched after set_threads, it used to
    # put torch back on NUMBA_NUM_THREADS threads mid-command. A fresh process, since this
    # one may have launched numba's threads already.
    import subprocess
    import sys

    code = ("import torch, numba\n"
            "from seqvae.cli._common import set_threads\n"
            "set_threads(1)\n"
            "torch.get_num_threads()\n"  # torch in use (a command's first network step)
            "numba.get_num_threads()\n"  # then a parallel numba kernel's first call
            "print(torch.get_num_threads())\n")
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "1"
