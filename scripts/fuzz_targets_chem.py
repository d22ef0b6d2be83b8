"""Fuzz targets of the molecules application: molecule files (.smi, .csv, .tsv, gzipped,
SD files), SELFIES strings and token sequences, and SMILES strings as RDKit sees them.

RDKit and selfies are C and Python libraries that a pathological string could crash or
stall; the harness runs every input in a worker process, so a crash is counted (and the
worker replaced), never fatal to the run. The typed errors are the package's
(``SeqVAEError``: ``ChemError``, ``MoleculeFileError``, ``DecodeError``).

Each target is recorded with :func:`_add` as the arguments of ``fuzz.Parser``.
"""
from __future__ import annotations

import gzip
import random
from pathlib import Path

#: ``(args, kwargs)`` of each target's ``Parser``, in registration order.
SPECS: list[tuple[tuple, dict]] = []

_ROOT = Path(__file__).resolve().parent.parent
_SMILES_ALPHABET = b"CNOSPFIBrcnos1234567890()[]=#+-@/\\%H.lx \n"


def _add(*args, **kwargs) -> None:
    SPECS.append((args, kwargs))


def _typed():
    from seqvae.errors import SeqVAEError

    return (SeqVAEError,)


def _drugs() -> list[tuple[str, str]]:
    """``(smiles, name)`` of the example file's molecules (a few invalid on purpose)."""
    rows = []
    for line in (_ROOT / "data" / "examples" / "drugs.smi").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            smiles, _, name = line.partition(" ")
            rows.append((smiles, name.strip() or "x"))
    return rows


# --- molecule files ------------------------------------------------------------------
def _smi_seeds(rng: random.Random) -> list[bytes]:
    rows = _drugs()
    out = []
    for _ in range(20):
        picked = rng.sample(rows, rng.randint(1, 12))
        head = "smiles name\n" if rng.random() < 0.3 else ("# comment\n" if rng.random() < 0.3
                                                            else "")
        out.append((head + "".join(f"{s} {n}\n" for s, n in picked)).encode())
    return out


def _table_seeds(delimiter: str):
    def seeds(rng: random.Random) -> list[bytes]:
        rows = _drugs()
        out = []
        for _ in range(20):
            picked = rng.sample(rows, rng.randint(1, 12))
            header = rng.choice([["id", "SMILES", "logp"], ["smiles"], ["name", "canonical_smiles"]])
            lines = [delimiter.join(header)]
            for i, (smiles, name) in enumerate(picked):
                values = {"id": str(i), "SMILES": smiles, "logp": f"{rng.gauss(0, 2):.2f}",
                          "smiles": smiles, "name": name, "canonical_smiles": smiles}
                lines.append(delimiter.join(values[h] for h in header))
            out.append(("\n".join(lines) + "\n").encode())
        return out
    return seeds


def _gz_seeds(rng: random.Random) -> list[bytes]:
    return [gzip.compress(s) for s in _smi_seeds(rng)]


def _read_molecule_file(data: bytes, path: Path) -> object:
    from seqvae.molecules.chem.molfile import read_molecule_file

    records = read_molecule_file(path)
    # SD records RDKit cannot read are counted apart (they are invalid molecules).
    unusable = len(getattr(records, "invalid_records", ()))
    if records.lines_read != len(records.smiles) + records.bad_lines + unusable:
        raise AssertionError("lines read do not add up")
    return len(records.smiles)


_add("molfile-smi", _smi_seeds, _read_molecule_file, _typed, alphabet=_SMILES_ALPHABET,
     suffix=".smi")
_add("molfile-csv", _table_seeds(","), _read_molecule_file, _typed,
     alphabet=_SMILES_ALPHABET + b',"idlogpSMILES', suffix=".csv")
_add("molfile-tsv", _table_seeds("\t"), _read_molecule_file, _typed,
     alphabet=_SMILES_ALPHABET + b'\t"idlogpSMILES', suffix=".tsv")
_add("molfile-gz", _gz_seeds, _read_molecule_file, _typed, alphabet=bytes(range(256)),
     suffix=".smi.gz", container="gzip")



def _sdf_seeds(rng: random.Random) -> list[bytes]:
    """SD files of 1-6 example molecules with 2-D coordinates, titles and a data field."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    from seqvae.molecules.chem.rdkit_support import quiet_rdkit

    blocks = []
    with quiet_rdkit():
        for smiles, name in _drugs():
            mol = Chem.MolFromSmiles(smiles)
            if mol is None:
                continue
            AllChem.Compute2DCoords(mol)
            mol.SetProp("_Name", name)
            blocks.append(Chem.MolToMolBlock(mol) + f"> <split>\n{rng.choice(['train', 'test'])}"
                          "\n\n$$$$\n")
    return ["".join(rng.sample(blocks, rng.randint(1, 6))).encode() for _ in range(20)]


_add("molfile-sdf", _sdf_seeds, _read_molecule_file, _typed,
     alphabet=b"0123456789. -+CNOSHVMEND$><\nsplit", suffix=".sdf")

# --- SELFIES --------------------------------------------------------------------------
def _selfies_seeds(rng: random.Random) -> list[bytes]:
    from seqvae.molecules.chem.limits import smiles_limit_reason
    from seqvae.molecules.chem.rdkit_support import is_valid_smiles
    from seqvae.molecules.chem.selfies_codec import smiles_to_selfies

    out = []
    for smiles, _ in _drugs():
        if smiles_limit_reason(smiles) is None and is_valid_smiles(smiles):
            out.append(smiles_to_selfies(smiles).encode())
    return out


def _selfies_to_smiles(data: bytes, path: Path) -> object:
    from seqvae.molecules.chem.selfies_codec import selfies_to_smiles

    smiles = selfies_to_smiles(data.decode("utf-8", errors="replace"))
    if not isinstance(smiles, str):
        raise AssertionError(f"selfies_to_smiles returned {type(smiles).__name__}")
    return smiles


_SELFIES_ALPHABET = b"[]CNOSFPBrcl=#@+-/\\123456789RingBranchH.epsilon"
_add("selfies-string", _selfies_seeds, _selfies_to_smiles, _typed, alphabet=_SELFIES_ALPHABET,
     suffix=".txt")


def _tokenizer():
    from seqvae.molecules.chem.limits import smiles_limit_reason
    from seqvae.molecules.chem.rdkit_support import is_valid_smiles
    from seqvae.molecules.chem.selfies_codec import SelfiesTokenizer

    smiles = [s for s, _ in _drugs() if smiles_limit_reason(s) is None and is_valid_smiles(s)]
    return SelfiesTokenizer.fit(smiles)


_TOKENIZERS: list = []  # one per worker process, built at the first input


def _selfies_token_seeds(rng: random.Random) -> list[bytes]:
    tok = _tokenizer()
    out = []
    for smiles, _ in _drugs():
        try:
            ids = tok.encode(smiles)
        except Exception:  # noqa: BLE001 - invalid examples are in the file on purpose
            continue
        if max(ids) < 256:
            out.append(bytes(ids))
    return out


def _decode_selfies_tokens(data: bytes, path: Path) -> object:
    """The input's bytes are token ids (a byte of 255 is read as -1)."""
    if not _TOKENIZERS:
        _TOKENIZERS.append(_tokenizer())
    ids = [b if b != 255 else -1 for b in data]
    return _TOKENIZERS[0].decode(ids)


_add("selfies-tokens", _selfies_token_seeds, _decode_selfies_tokens, _typed,
     alphabet=bytes(range(48)), suffix=".bin")


# --- SMILES as RDKit sees them -----------------------------------------------------------
def _smiles_seeds(rng: random.Random) -> list[bytes]:
    return [s.encode() for s, _ in _drugs()]


def _smiles(data: bytes, path: Path) -> object:
    from seqvae.molecules.chem.invalid import INVALID_REASONS, invalid_reason
    from seqvae.molecules.chem.rdkit_support import mol_from_smiles

    text = data.decode("utf-8", errors="replace")
    mol = mol_from_smiles(text)
    reason = invalid_reason(text)
    if reason is not None and reason not in INVALID_REASONS:
        raise AssertionError(f"unknown invalid reason {reason!r}")
    if (mol is None) != (reason is not None):
        raise AssertionError(f"mol_from_smiles gives {mol is not None}, invalid_reason {reason!r}")
    return reason


_add("smiles-rdkit", _smiles_seeds, _smiles, _typed, alphabet=_SMILES_ALPHABET, suffix=".txt")
