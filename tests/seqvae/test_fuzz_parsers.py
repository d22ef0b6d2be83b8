"""The seqvae parsers (strings files, data-set sidecars, run JSON, search checkpoints,
latent files) raise only the package's typed errors: a CI-sized hypothesis run here, and a
short run of each registered parser of scripts/fuzz.py (the long run is the script itself)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqvae.data import load_dataset, load_strings_report
from seqvae.errors import SeqVAEError
from seqvae.runs import load_run
from tests.script_helpers import load_script

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fuzz():
    return load_script("fuzz", "fuzz_script_seqvae", register=True)


@pytest.fixture(scope="module")
def run_copy(fuzz, tmp_path_factory):
    work = tmp_path_factory.mktemp("fuzzrun")
    fuzz._run_setup(work)
    return work


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".txt", ".smi", ".csv", ".tsv",
                                                             ".csv.gz", ".dat"]))
def test_strings_files_give_strings_or_typed_errors(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"s{suffix}"
        path.write_bytes(data)
        try:
            strings, report = load_strings_report(path)
        except SeqVAEError:
            return
        assert all(isinstance(s, str) and s and len(s) <= 1000 for s in strings)
        assert set(report) == {"bad_lines", "too_long"}


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                     | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@SETTINGS
@given(value=_JSON)
def test_sidecars_load_or_raise_typed_errors(value, tmp_path):
    import pandas as pd

    path = tmp_path / "d.parquet"
    if not path.exists():
        pd.DataFrame({"item": ["a", "b"]}).to_parquet(path)
    (tmp_path / "d.parquet.json").write_text(json.dumps(value))
    try:
        _, meta = load_dataset(path)
    except SeqVAEError:
        return
    assert isinstance(meta, dict)


@SETTINGS
@given(domain=_JSON, extra=_JSON)
def test_run_json_with_any_domain_loads_or_raises_typed_errors(domain, extra, run_copy):
    config_path = run_copy / "run" / "config.json"
    original = config_path.read_text()
    config = json.loads(original)
    config["domain"] = domain if not isinstance(domain, dict) else {**config["domain"], **domain}
    config["extra"] = extra
    config_path.write_text(json.dumps(config))
    try:
        load_run(run_copy / "run")
    except SeqVAEError:
        pass
    finally:
        config_path.write_text(original)


@pytest.mark.parametrize("name", ["seqvae-strings-text", "seqvae-strings-csv",
                                  "seqvae-dataset-sidecar", "seqvae-search-checkpoint",
                                  "seqvae-search-checkpoint-doc", "seqvae-run-config",
                                  "seqvae-latents-npy"])
def test_registered_seqvae_parsers_raise_only_typed_errors(fuzz, name):
    count = 20 if name.startswith("seqvae-latents") else 80
    result = fuzz.fuzz_parser(name, count, seed=2, timeout=10.0, memory_mb=1024,
                              progress=False)
    assert result.counts[fuzz.OTHER] == 0 and result.counts[fuzz.HANG] == 0, result.findings
    assert result.counts[fuzz.PARSED] + result.counts[fuzz.TYPED] == count
