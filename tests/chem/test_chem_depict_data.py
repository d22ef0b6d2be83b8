import stat
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")

from PIL import Image

from seqvae.molecules.chem.depict import draw_molecule_grid, molecule_image
from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.moses_data import MOSES_FILES, fetch_moses, moses_cache_dir, moses_file


def test_molecule_image_shape_and_content():
    img = molecule_image("c1ccccc1O", size=(160, 120))
    assert img.shape == (120, 160, 4) and img.dtype == np.uint8
    assert (img[..., :3] < 128).any()          # some bonds are drawn
    assert molecule_image("C1CC") is None
    with pytest.raises(ChemError):
        molecule_image("CCO", size=(3, 3))


def test_grid_layout(tmp_path):
    out = draw_molecule_grid(["CCO", "c1ccccc1", "C1CC", "CC(=O)O", "CN"], tmp_path / "g.png",
                             captions=["a", "b", "c", "d", "e"], per_row=2, cell=(120, 90))
    with Image.open(out) as im:
        assert im.size == (2 * 120, 3 * 90)      # 5 cells in rows of 2
        pixels = np.asarray(im.convert("L"))
    assert (pixels[:90, :120] < 100).any()      # first cell holds a drawing
    assert (pixels[270 - 90:, 120:] == 255).all()  # the sixth cell is empty
    assert not list(tmp_path.glob(".*.tmp"))     # atomic: no leftovers


def test_invalid_cell_keeps_its_caption(tmp_path):
    out = draw_molecule_grid(["C1CC"], tmp_path / "g.png", cell=(200, 160))
    with Image.open(out) as im:
        pixels = np.asarray(im.convert("L"))
    assert (pixels[120:, :] < 60).any()          # the caption "invalid: C1CC" at the bottom
    assert ((pixels[60:100, :] > 100) & (pixels[60:100, :] < 200)).any()  # grey "no molecule"


@pytest.mark.parametrize("kwargs, match", [
    ({"smiles": []}, "no molecules"),
    ({"smiles": "CCO"}, "not one string"),
    ({"smiles": ["CCO"], "captions": ["a", "b"]}, "captions"),
    ({"smiles": ["CCO"], "per_row": 0}, "per_row"),
    ({"smiles": ["CCO"], "cell": (10, 5000)}, "pixels"),
])
def test_grid_input_errors(tmp_path, kwargs, match):
    smiles = kwargs.pop("smiles")
    with pytest.raises(ChemError, match=match):
        draw_molecule_grid(smiles, tmp_path / "x.png", **kwargs)


# ------------------------------------------------------------------ MOSES fetch (no network)
def _fake_python(tmp_path, body: str):
    script = tmp_path / "fake-python"
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def _stand_in_wheel(tmp_path) -> tuple[Path, str]:
    import hashlib
    import zipfile

    wheel = tmp_path / "prebuilt.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, inside in MOSES_FILES.items():
            z.writestr(inside, f"content of {name}")
    return wheel, hashlib.sha256(wheel.read_bytes()).hexdigest()


def _pip_copying(tmp_path, wheel: Path) -> str:
    # A stand-in for `python -m pip download -d DIR molsets==0.3.1` that copies a small wheel.
    return _fake_python(tmp_path, f"""
import shutil, sys, os
folder = sys.argv[sys.argv.index('-d') + 1]
assert sys.argv[-1] == 'molsets==0.3.1' and '--no-deps' in sys.argv
shutil.copy({str(wheel)!r}, os.path.join(folder, 'molsets-0.3.1-py3-none-any.whl'))
""")


def test_fetch_unpacks_the_wheel_into_the_cache(tmp_path):
    wheel, digest = _stand_in_wheel(tmp_path)
    cache = tmp_path / "cache"
    files = fetch_moses(cache, python=_pip_copying(tmp_path, wheel), sha256=digest)
    assert set(files) == set(MOSES_FILES)
    assert (cache / "mcf.csv").read_text() == "content of mcf.csv"
    assert moses_file("train.csv.gz", cache) == cache / "train.csv.gz"
    # A second call finds everything cached and does not run pip at all.
    assert fetch_moses(cache, python="/nonexistent/python") == files


def test_a_wheel_other_than_the_pinned_one_is_refused(tmp_path):
    wheel, digest = _stand_in_wheel(tmp_path)
    cache = tmp_path / "cache"
    with pytest.raises(ChemError, match=f"SHA-256 {digest}, not the pinned"):
        fetch_moses(cache, python=_pip_copying(tmp_path, wheel))   # the real pin
    assert moses_file("mcf.csv", cache) is None   # nothing of it was unpacked


def test_fetch_offline_gives_one_clear_error(tmp_path):
    python = _fake_python(tmp_path, "import sys\nprint('ERROR: Could not find a version that "
                                    "satisfies the requirement molsets==0.3.1', file=sys.stderr)\n"
                                    "sys.exit(1)\n")
    with pytest.raises(ChemError, match="offline.*Could not find a version"):
        fetch_moses(tmp_path / "cache", python=python)
    with pytest.raises(ChemError, match="could not run pip"):
        fetch_moses(tmp_path / "cache", python=str(tmp_path / "no-such-python"))
    assert moses_file("mcf.csv", tmp_path / "cache") is None


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQVAE_CACHE", str(tmp_path))
    assert moses_cache_dir() == tmp_path / "moses"
    with pytest.raises(ChemError, match="unknown MOSES file"):
        moses_file("zinc.csv")


def _fetch_script():
    from tests.script_helpers import load_script

    return load_script("fetch_moses")


def test_fetch_script_lists_cached_files(tmp_path, capsys):
    for name in MOSES_FILES:
        (tmp_path / name).write_text("x")
    assert _fetch_script().main(["--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in MOSES_FILES)


def test_fetch_script_offline_exits_1_with_one_line(tmp_path, capsys, monkeypatch):
    script = _fetch_script()

    def offline(cache_dir):
        raise ChemError("could not download molsets==0.3.1 with pip (offline, ...)")

    monkeypatch.setattr(script, "fetch_moses", offline)
    assert script.main(["--cache-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: could not download") and "Traceback" not in "".join(err)


def test_moses_splits_and_cached_reference_sets(tmp_path):
    import gzip

    from seqvae.molecules.chem.moses_data import moses_reference_set, moses_smiles
    from seqvae.molecules.chem.reference import ReferenceSet

    smiles = ["c1ccccc1CCc1ccncc1", "CCOC(=O)c1ccccc1", "CC(=O)Nc1ccc(O)cc1"]
    (tmp_path / "test.csv.gz").write_bytes(gzip.compress(("SMILES\n" + "\n".join(smiles)).encode()))
    assert moses_smiles("test", tmp_path) == smiles
    first = moses_reference_set("test", tmp_path)
    assert (tmp_path / "test_reference.npz").is_file()
    assert first == ReferenceSet.from_smiles(smiles)
    assert moses_reference_set("test", tmp_path) == first          # read back from the cache
    with pytest.raises(ChemError, match="fetch_moses"):
        moses_smiles("train", tmp_path)
    with pytest.raises(ChemError, match="unknown MOSES split"):
        moses_smiles("valid", tmp_path)
