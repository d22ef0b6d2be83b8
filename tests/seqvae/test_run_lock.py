"""One training per run directory: a second writer is refused in one line, a dead holder's lock
is taken over, and a finished run is never trained over without --resume."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from automata.dirlock import DirectoryLockedError
from seqvae.cli import app
from seqvae.errors import TrainingError
from seqvae.hunt.domain import AutomataDomain
from seqvae.runs import train
from tests.lock_helpers import held_lock

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ["a:10 b:00", "a:01 b:10", "a:00 b:01", "a:10 b:11", "a:11 b:00", "a:01 b:11"] * 3
TINY = dict(d_z=2, enc_hidden=8, dec_hidden=8, dec_z_dim=4, embed_dim=4, conv_channels=[4],
            conv_kernels=[3])
STEPS = dict(epochs=1, batch_size=4, val_fraction=0.0, test_fraction=0.0)


def _train(out, **kw):
    return train(ITEMS, AutomataDomain.fit(ITEMS), out_dir=out, model_config=TINY,
                 train_config=STEPS, **kw)


def test_a_second_training_into_a_busy_run_is_refused(tmp_path):
    out = tmp_path / "run"
    with held_lock(out, "train") as pid:
        with pytest.raises(DirectoryLockedError, match=rf"in use by process {pid} \(train\)"):
            _train(out)
        assert not (out / "config.json").exists()
        result = CliRunner().invoke(app, ["train", "automata", "--data", "x.parquet", "--out", str(out)])
        assert result.exit_code != 0
    assert _train(out).d_z == 2  # the killed holder's lock is taken over


def test_a_finished_run_is_not_trained_over(tmp_path):
    out = tmp_path / "run"
    _train(out)
    with pytest.raises(TrainingError, match="already holds a run"):
        _train(out)
    resumed = train(None, AutomataDomain.fit(ITEMS), out_dir=out, resume=True,
                    train_config={"epochs": 2})
    assert resumed.d_z == 2
