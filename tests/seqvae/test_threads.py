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
