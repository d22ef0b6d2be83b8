"""A run directory and a data-set sidecar are data: the validator they name is looked up in
the registry, never imported or called by a dotted path."""
import json
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from seqvae.cli import app
from seqvae.domains import domain_for_dataset
from seqvae.errors import DomainError
from seqvae.runs import load_run, train
from seqvae.strings import StringDomain
from seqvae.tokenizers import CharTokenizer
from seqvae.validators import (
    UnknownValidatorError,
    get_validator,
    name_of,
    register_validator,
    validator_names,
)

runner = CliRunner()
TINY_MODEL = dict(d_z=2, embed_dim=8, conv_channels=(8,), conv_kernels=(3,), enc_hidden=16,
                  dec_z_dim=8, dec_hidden=16, dec_layers=1)
TINY_TRAIN = dict(epochs=1, batch_size=32, val_fraction=0.1, test_fraction=0.1, seed=0)

EVIL_MODULE = """
import pathlib
pathlib.Path({marker!r}).write_text("imported")

def touch(text):
    pathlib.Path({marker!r}).write_text("called " + str(text))
    return True
"""


@pytest.fixture()
def evil(tmp_path, monkeypatch):
    """A module on sys.path that leaves a marker file when imported or called."""
    marker = tmp_path / "MARKER"
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "seqvae_evil_mod.py").write_text(EVIL_MODULE.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(mod_dir))
    yield marker
    sys.modules.pop("seqvae_evil_mod", None)


@pytest.fixture(scope="module")
def words():
    rng = np.random.default_rng(0)
    return sorted({"".join(rng.choice(list("abcd"), size=rng.integers(2, 6))) for _ in range(120)})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, words):
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("val") / "run"
    train(words, StringDomain(CharTokenizer.fit(words), validity="nonblank"), out_dir=out,
          model_config=TINY_MODEL, train_config=TINY_TRAIN)
    return out


def _name_in_config(run_dir, tmp_path, name):
    """A copy of the run whose config.json names ``name`` as its validity function."""
    import shutil

    copy = tmp_path / "tampered"
    shutil.copytree(run_dir, copy)
    cfg = json.loads((copy / "config.json").read_text())
    cfg["domain"]["validity"] = name
    (copy / "config.json").write_text(json.dumps(cfg))
    return copy


def test_registry_api():
    register_validator("t_even", lambda s: len(s) % 2 == 0, lambda s: s.upper(), replace=True)
    entry = get_validator("t_even")
    assert entry.validity("ab") and not entry.validity("a") and entry.canonical("ab") == "AB"
    assert name_of(entry.validity) == "t_even" and name_of(entry.canonical, "canonical") == "t_even"
    assert "t_even" in validator_names() and "smiles" in validator_names()
    with pytest.raises(DomainError, match="already registered"):
        register_validator("t_even", len)
    for bad in ("os:system", "a b", "", 3, "x" * 100):
        with pytest.raises(DomainError):
            register_validator(bad, len)
    with pytest.raises(DomainError, match="callables"):
        register_validator("t_bad", "os:system")


def test_registered_function_round_trips_by_name(words):
    register_validator("t_short", lambda s: len(s) < 4, replace=True)
    dom = StringDomain(CharTokenizer.fit(words), validity="t_short")
    assert dom.to_dict()["validity"] == "t_short"
    own = StringDomain(CharTokenizer.fit(words), validity=lambda s: True)
    assert own.to_dict()["validity"] is None  # an unregistered function is not stored


def test_smiles_validator_needs_rdkit_or_names_the_extra():
    from seqvae.molecules.chem.errors import ChemistryUnavailableError
    from seqvae.molecules.chem.rdkit_support import rdkit_available

    if rdkit_available():
        entry = get_validator("smiles")
        assert entry.validity("CCO") and not entry.validity("C1CC")
        assert entry.canonical("OCC") == "CCO"
    else:
        with pytest.raises(ChemistryUnavailableError, match="chem"):
            get_validator("smiles")


@pytest.mark.parametrize("name", ["os:system", "seqvae_evil_mod:touch", "seqvae_evil_mod"])
def test_run_config_naming_a_function_cannot_import_or_call_it(run_dir, tmp_path, evil, name):
    tampered = _name_in_config(run_dir, tmp_path, name)
    with pytest.raises(UnknownValidatorError, match="no validator named"):
        load_run(tampered)
    run = load_run(tampered, validity=None)
    assert run.domain.validity is None
    run.sample(4, seed=0)
    result = runner.invoke(app, ["sample", str(tampered), "--count", "3"])
    assert result.exit_code == 2 and "no validator named" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(app, ["sample", str(tampered), "--count", "3", "--no-validity"])
    assert result.exit_code == 0, result.output
    assert not evil.exists() and "seqvae_evil_mod" not in sys.modules


def test_load_run_with_a_function_given_at_load_time(run_dir, tmp_path):
    tampered = _name_in_config(run_dir, tmp_path, "not-registered-anywhere")
    run = load_run(tampered, validity=lambda s: s.startswith("a"))
    parsed = run.sample(20, seed=0)
    assert all(p.ok == p.item.startswith("a") for p in parsed if p.item is not None)


def test_sidecar_naming_a_function_cannot_import_or_call_it(tmp_path, evil, words):
    df = pd.DataFrame({"item": words})
    spec = StringDomain(CharTokenizer.fit(words)).to_dict()
    spec["validity"] = "seqvae_evil_mod:touch"
    with pytest.raises(DomainError, match="no validator named"):
        domain_for_dataset(df, {"domain": "strings", "domain_spec": spec})
    with pytest.raises(ValueError, match="no validator named"):
        domain_for_dataset(df, {"domain": "strings", "validity": "os:system"})
    assert not evil.exists() and "seqvae_evil_mod" not in sys.modules


def test_data_strings_validity_refuses_a_dotted_path(tmp_path, evil):
    src = tmp_path / "in.txt"
    src.write_text("abc\nABC\n")
    result = runner.invoke(app, ["data", "strings", str(src), "--validity",
                                 "seqvae_evil_mod:touch", "-o", str(tmp_path / "s.parquet")])
    assert result.exit_code == 2 and "no validator named" in result.output
    assert not evil.exists() and "seqvae_evil_mod" not in sys.modules
