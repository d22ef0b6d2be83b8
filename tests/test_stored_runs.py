"""Run directories written before the engine/applications layout keep loading.

``tests/data/runs_v0_1`` holds three tiny runs (automata, strings, molecules)
written by seqvae 0.1, whose files name their domain, tokenizer and validator
by registry name (``"automata"``, ``"automaton"``, ``"smiles"``...), and the token
sequences that version decoded from six fixed latent points. Loaded by today's
code, each run must rebuild the same domain and decode the same sequences.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from seqvae.runs import load_run

DATA = Path(__file__).parent / "data" / "runs_v0_1"
EXPECTED = json.loads((DATA / "expected.json").read_text())


@pytest.mark.parametrize("name", ["automata", "strings", "smiles"])
def test_a_stored_run_loads_and_decodes_as_it_did(name, tmp_path):
    if name == "smiles":
        pytest.importorskip("rdkit")
    run_dir = shutil.copytree(DATA / name, tmp_path / name)  # loading must not need to write
    run = load_run(run_dir)
    want = EXPECTED["runs"][name]
    assert type(run.domain).__name__ == want["domain"]
    z = np.asarray(EXPECTED["z"], dtype=np.float32)
    ids = run.decode(z)
    assert [list(map(int, s)) for s in ids] == want["decodes"]
    assert [p.ok for p in run.domain.parse_many(ids)] == want["ok"]


def test_the_stored_runs_name_their_pieces_by_registry_name():
    config = json.loads((DATA / "automata" / "config.json").read_text())
    text = json.dumps(config)
    assert '"automata"' in text and '"automaton"' in text
    assert "seqvae." not in text  # no module path is stored: names only


@pytest.mark.parametrize("name", ["automata", "strings"])
def test_a_fresh_process_loads_a_stored_run_through_the_registries(name, tmp_path):
    """Nothing imported beforehand: the domain, tokenizer and validator come from the names."""
    import subprocess
    import sys

    run_dir = shutil.copytree(DATA / name, tmp_path / name)
    code = ("import sys; from seqvae.runs import load_run; run = load_run(sys.argv[1]); "
            "print(type(run.domain).__name__, type(run.tokenizer).__name__)")
    out = subprocess.run([sys.executable, "-c", code, str(run_dir)], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [EXPECTED["runs"][name]["domain"],
                                  {"automata": "AutomatonTokenizer", "strings": "CharTokenizer"}[name]]


def test_a_run_whose_digest_was_deleted_is_refused_unless_allowed(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from seqvae.cli import app
    from seqvae.errors import RunError
    from seqvae.rundir import ALLOW_UNVERIFIED_ENV

    monkeypatch.delenv(ALLOW_UNVERIFIED_ENV, raising=False)
    run_dir = shutil.copytree(DATA / "automata", tmp_path / "run")
    config = json.loads((run_dir / "config.json").read_text())
    del config["checkpoint_sha256"], config["checkpoint_sha256_previous"]
    (run_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunError, match="records no SHA-256"):
        load_run(run_dir)
    assert load_run(run_dir, allow_unverified=True).d_z == 4
    refused = CliRunner().invoke(app, ["sample", str(run_dir), "--count", "2"])
    assert refused.exit_code == 2 and "records no SHA-256" in refused.stderr
    allowed = CliRunner().invoke(app, ["--allow-unverified-runs", "sample", str(run_dir),
                                       "--count", "2"])
    assert allowed.exit_code == 0, allowed.output
    monkeypatch.delenv(ALLOW_UNVERIFIED_ENV, raising=False)  # the CLI set it in this process
