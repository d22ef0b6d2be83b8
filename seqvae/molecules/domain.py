"""Molecules as a domain: SMILES or SELFIES sequences, RDKit validity, canonical SMILES keys.

:class:`MoleculeDomain` (registered as ``"smiles"``) is what ``seqvae train smiles``
trains on. Items are canonical SMILES strings, whatever the representation the
model reads and writes:

* ``representation="smiles"``: tokens are SMILES tokens (``Cl``, ``[nH]``, ``%10``...);
  a decode is valid when RDKit parses and sanitises it.
* ``representation="selfies"``: tokens are SELFIES symbols; every decode that
  derives an atom is a valid molecule by construction.

Two strings of one molecule have one canonical key (RDKit's canonical SMILES),
so uniqueness and novelty count molecules. :func:`molecule_dataset` turns a
molecule file into the data set ``seqvae data smiles`` writes (canonical,
de-duplicated, split, with its report).

RDKit and selfies come with the optional extra ``seqvae[chem]``; building a
domain without them raises :class:`~seqvae.molecules.chem.errors.ChemistryUnavailableError`,
which names the extra.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from seqvae import __version__
from seqvae.constraints import DecodeConstraint, StringConstraint
from seqvae.domains import Domain, Parsed, register_domain
from seqvae.errors import DataError, DomainError
from seqvae.tokenizers import DecodeError, tokenizer_from_dict

__all__ = ["MoleculeDomain", "molecule_dataset", "MOLECULE_SPLITS"]

#: The split names of a molecule data set, and the run split each one feeds.
MOLECULE_SPLITS = {"train": "train", "valid": "val", "test": "heldout"}
#: From this many items on, canonical keys are computed on two worker processes.
PARALLEL_KEYS_FROM = 100_000


def _chem():
    # The chemistry package is imported on first use so that `import seqvae.molecules.domain`
    # stays cheap; RDKit itself is imported (and checked) by require_rdkit.
    from seqvae.molecules import chem

    chem.require_rdkit()
    return chem


@register_domain
class MoleculeDomain(Domain):
    """Molecules, written as SMILES or SELFIES token sequences; items are canonical SMILES.

    Parameters
    ----------
    tokenizer
        A :class:`~seqvae.tokenizers.RegexTokenizer` (SMILES) or a
        :class:`~seqvae.molecules.chem.selfies_codec.SelfiesTokenizer` (SELFIES).
    representation : {"smiles", "selfies"}

    Examples
    --------
    >>> dom = MoleculeDomain.fit(["CCO", "c1ccccc1O"])
    >>> dom.parse(dom.encode("OCC")).item          # canonical SMILES
    'CCO'
    >>> dom.canonical_key("C(O)C") == dom.canonical_key("OCC")
    True
    >>> bad = dom.parse(dom.tokenizer.encode("c1cccc1"))
    >>> bad.ok, bad.item, bad.error
    (False, 'c1cccc1', 'kekulize')
    """

    name = "smiles"
    score_fields = ("qed", "logp", "sas", "plogp")
    molecular = True

    def __init__(self, tokenizer, representation: str = "smiles"):
        chem = _chem()
        if representation not in chem.REPRESENTATIONS:
            raise DomainError(f"unknown representation {representation!r}; choose from "
                              f"{list(chem.REPRESENTATIONS)}")
        expected = "selfies" if representation == "selfies" else "regex"
        if getattr(tokenizer, "type_name", None) != expected:
            raise DomainError(f"the {representation} representation needs a {expected} "
                              f"tokenizer, got {type(tokenizer).__name__}")
        self.tokenizer = tokenizer
        self.representation = representation

    @classmethod
    def fit(cls, smiles: Sequence[str], representation: str = "smiles") -> "MoleculeDomain":
        """A domain whose tokenizer is fitted on (canonical) ``smiles``."""
        chem = _chem()
        try:
            return cls(chem.fit_molecule_tokenizer(list(smiles), representation), representation)
        except chem.ChemError as exc:
            raise DomainError(str(exc)) from None

    # -- decoding --------------------------------------------------------------------
    def parse(self, ids) -> Parsed:
        """Decode; a valid molecule gives its canonical SMILES, an invalid SMILES string
        is kept in ``item`` with ``ok=False`` (so it can be shown, marked)."""
        chem = _chem()
        try:
            text = self.tokenizer.decode(ids)
        except DecodeError as exc:
            return Parsed(False, None, str(exc))
        canonical = chem.canonical_smiles(text)
        if canonical is None:
            # The specific reason (parentheses, ring_open, kekulize, valence...) is what
            # a user needs to see in `# invalid: REASON: TEXT`, not a generic phrase.
            from seqvae.molecules.chem.invalid import invalid_reason

            return Parsed(False, text, invalid_reason(text) or "other")
        return Parsed(True, canonical, None)

    def default_decoding(self) -> dict:
        """How the command line decodes this run's latent points when the user does not
        say: SMILES runs use beam search (8 beams) under the SMILES grammar, keeping the
        best beam RDKit accepts (valid-first); SELFIES runs decode greedily (every
        SELFIES decode is a molecule already).

        >>> MoleculeDomain.fit(["CCO", "CCN"]).default_decoding()["method"]
        'beam'
        """
        if self.representation == "selfies":
            return {"method": "greedy", "beam_width": 8, "grammar": False, "valid_first": False}
        return {"method": "beam", "beam_width": 8, "grammar": True, "valid_first": True}

    def constraint(self, max_len: int | None = None, **unused) -> DecodeConstraint | None:
        """None (free decoding) unless ``max_len`` is given: then every decode is a
        well-formed token sequence of at most ``max_len`` tokens."""
        return None if max_len is None else StringConstraint(self.tokenizer, max_len)

    # -- items -------------------------------------------------------------------------
    def canonicalize_many(self, items: Sequence) -> list[str]:
        """Canonical SMILES of ``items``.

        Raises
        ------
        DataError
            An item is not a valid molecule (the message names it).
        """
        chem = _chem()
        out = chem.canonical_smiles_many([str(i) for i in items])
        for item, canonical in zip(items, out):
            if canonical is None:
                raise DataError(f"not a valid molecule: {str(item)[:80]!r}")
        return out

    def canonical_key(self, item) -> str:
        """RDKit's canonical SMILES (the string itself when it is not a molecule)."""
        return _chem().canonical_smiles(str(item)) or str(item)

    def canonical_keys(self, items: Sequence) -> list[str]:
        """:meth:`canonical_key` of many items; a large set (MOSES's 1.3 M training
        molecules take minutes of RDKit on one core) is spread over the cores."""
        texts = [str(i) for i in items]
        jobs = min(2, os.cpu_count() or 1) if len(texts) >= PARALLEL_KEYS_FROM else 1
        keys = _chem().canonical_smiles_many(texts, n_jobs=jobs)
        return [key or text for key, text in zip(keys, texts)]

    def read_items(self, path: str | os.PathLike) -> list[str]:
        """Molecules of a data set (``.parquet``) or a molecule file (.smi, .csv, .sdf,
        .gz...); invalid and repeated molecules of a molecule file are dropped."""
        if Path(path).suffix == ".parquet":
            return super().read_items(path)
        smiles, _ = _chem().load_molecules(path)
        return smiles

    def draw_item(self, item, ax) -> None:
        """Draw a molecule on a matplotlib axis as an RDKit depiction (figures of paths)."""
        image = _chem().molecule_image(str(item), size=(240, 200))
        if image is None:
            ax.text(0.5, 0.5, f"invalid\n{str(item)[:40]}", ha="center", va="center",
                    fontsize=7, color="tab:red", transform=ax.transAxes)
        else:
            ax.imshow(image)
        ax.set_axis_off()

    # -- scores ----------------------------------------------------------------------
    def score(self, item) -> dict:
        """``qed``, ``logp``, ``sas`` and ``plogp`` of a valid molecule (RDKit)."""
        return _chem().objectives.molecule_scores(item, self.score_fields)

    def write_decodes(self, rows: Sequence[dict], path: str | os.PathLike) -> int:
        """``.csv``: every decode with QED, logP, SA score and weight of the valid ones;
        ``.sdf``: the valid molecules with those properties as SD tags
        (:mod:`seqvae.molecules.chem.sample_files`)."""
        _chem()   # RDKit present, or one line naming the extra
        from seqvae.molecules.chem import sample_files as files

        suffix = Path(path).suffix.lower()
        if suffix not in (".csv", ".sdf"):
            raise DomainError(f"molecule decodes are written as .csv or .sdf, not "
                              f"{suffix or 'a file without suffix'}")
        table = files.sample_table([r.get("item") for r in rows], [r["ok"] for r in rows],
                                   [r.get("error") for r in rows])
        if suffix == ".sdf":
            return files.write_sample_sdf(table, path)
        return files.write_sample_csv(table, path)

    def parse_property_names(self, names) -> list[str]:
        """Registered objectives as property names (:func:`seqvae.molecules.properties.parse_property_names`)."""
        from seqvae.molecules.properties import parse_property_names

        return parse_property_names(names)

    def property_values(self, items: Sequence, names: Sequence[str]) -> np.ndarray:
        """The named objectives of :data:`seqvae.molecules.chem.OBJECTIVES` (``qed``, ``logp``,
        ``sas``...) of each molecule, computed with RDKit: one row per molecule, NaN where
        RDKit cannot score it (:func:`seqvae.molecules.properties.property_matrix`).

        >>> dom = MoleculeDomain.fit(["CCO", "c1ccccc1"])
        >>> dom.property_values(["OCC", "C1CC"], ["logp"]).round(3).tolist()
        [[-0.001], [nan]]
        """
        from seqvae.molecules.properties import property_matrix

        return property_matrix([self.item_to_text(i) for i in items], names)

    def extra_metrics(self, run, items: Sequence, *, samples: int, seed: int,
                      fcd: bool = True) -> dict:
        """The MOSES metrics and FCD (:func:`seqvae.molecules.evaluation.run_moses_metrics`) of
        ``samples`` prior decodes, with ``items`` as the reference set."""
        from seqvae.molecules.evaluation import run_moses_metrics

        return run_moses_metrics(run, [str(i) for i in items], samples=samples, seed=seed,
                                 fcd=fcd)

    # -- building ----------------------------------------------------------------------
    @classmethod
    def training_set(cls, path: str | os.PathLike, *, representation: str = "smiles",
                     column: str | None = None, standardize: Sequence[str] = ()
                     ) -> tuple["MoleculeDomain", list, dict]:
        """Molecules of a data set from ``seqvae data smiles`` (its split is kept in
        ``info["splits"]``) or of a molecule file (cleaned here, after the
        ``standardize`` steps of :mod:`seqvae.molecules.chem.standardize`; a ``split``
        column is kept as the data set's split is), with a domain fitted on them all."""
        from seqvae.data import load_dataset

        path = Path(path)
        info: dict = {"source": str(path), "representation": representation}
        if path.suffix == ".parquet":
            if standardize:
                raise DataError(f"{path} is a data set, already cleaned: standardise when "
                                "making it (`seqvae data smiles --standardize`)")
            df, meta = load_dataset(path)
            if meta.get("domain") != cls.name or "split" not in df.columns:
                raise DataError(f"{path} is not a molecule data set (make one with "
                                "`seqvae data smiles`)")
            items = [str(s) for s in df["item"]]
            info["splits"] = {MOLECULE_SPLITS[name]: [int(i) for i in idx]
                              for name, idx in df.groupby("split").indices.items()
                              if name in MOLECULE_SPLITS}
            info["report"] = {k: meta.get("report", {}).get(k)
                              for k in ("lines_read", "invalid", "duplicates", "kept")}
        else:
            chem = _chem()
            from seqvae.molecules.chem.molfile import load_molecule_set
            from seqvae.molecules.chem.splits import kept_split

            try:
                cleaned, report = load_molecule_set(path, column=column, standardize=standardize)
                parts = kept_split(cleaned.splits) if cleaned.splits is not None else None
            except chem.ChemError as exc:
                raise DataError(str(exc)) from None
            items = cleaned.smiles
            info["report"] = {k: report[k] for k in ("lines_read", "invalid", "duplicates",
                                                     "kept")}
            if "standardized" in report:
                info["report"]["standardized"] = report["standardized"]
            if parts is not None:
                info["splits"] = {MOLECULE_SPLITS[name]: [int(i) for i in idx]
                                  for name, idx in parts.items()}
        if len(items) < 2:
            raise DataError(f"{path}: need at least two distinct molecules")
        if representation == "selfies":
            items, info = _representable(items, info)
        info["rows"] = len(items)
        return cls.fit(items, representation), items, info

    # -- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"name": self.name, "representation": self.representation,
                "tokenizer": self.tokenizer.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "MoleculeDomain":
        tok = d["tokenizer"]
        if tok.get("type") == "selfies":
            tokenizer = _chem().SelfiesTokenizer.from_dict(tok)
        else:
            tokenizer = tokenizer_from_dict(tok)
        return cls(tokenizer, d.get("representation", "smiles"))

    def __repr__(self) -> str:
        return f"MoleculeDomain({self.tokenizer!r}, representation={self.representation!r})"


def _representable(items: list[str], info: dict) -> tuple[list[str], dict]:
    """Drop the molecules SELFIES cannot write, re-indexing a stored split."""
    chem = _chem()
    keep = []
    for i, s in enumerate(items):
        try:
            chem.smiles_to_selfies(s)
        except chem.ChemError:
            continue
        keep.append(i)
    if len(keep) == len(items):
        return items, info
    new_index = {old: new for new, old in enumerate(keep)}
    info = dict(info, unrepresentable=len(items) - len(keep))
    if "splits" in info:
        info["splits"] = {name: [new_index[i] for i in idx if i in new_index]
                          for name, idx in info["splits"].items()}
    return [items[i] for i in keep], info


def molecule_dataset(path: str | os.PathLike, *, column: str | None = None,
                     split: str = "auto", seed: int = 0,
                     fractions: Sequence[float] | None = None, n_jobs: int = 1,
                     progress=None, standardize: Sequence[str] = ()
                     ) -> tuple[pd.DataFrame, dict]:
    """The data set ``seqvae data smiles`` writes: ``(df, meta)`` for
    :func:`seqvae.data.save_dataset`.

    ``df`` has columns ``item`` (canonical SMILES, each molecule once), ``split``
    (train / valid / test) and ``length`` (characters); ``meta["report"]`` counts
    lines read, invalid molecules, duplicates and molecules kept, and describes the
    split and the length/vocabulary statistics. ``split`` is ``auto`` (the file's
    ``split`` column when it has one, else random), ``random``, ``scaffold`` or
    ``keep``; ``standardize`` names the clean-up steps
    (:mod:`seqvae.molecules.chem.standardize`). ``n_jobs`` processes canonicalise;
    ``progress(done, total)`` follows them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.smi"
    >>> _ = path.write_text("CCO\\nOCC\\nC1CC\\nc1ccccc1\\nCCN\\nCCC\\n")
    >>> df, meta = molecule_dataset(path, fractions=(0.5, 0.25, 0.25))
    >>> len(df), meta["report"]["invalid"], meta["report"]["duplicates"]
    (4, 1, 1)
    """
    chem = _chem()
    try:
        ds = chem.prepare_molecule_dataset(path, column=column, split=split, seed=seed,
                                           fractions=fractions, n_jobs=n_jobs, progress=progress,
                                           standardize=standardize)
    except chem.MoleculeFileError as exc:
        raise DataError(str(exc)) from None
    rows = [(s, name) for name in ("train", "valid", "test") for s in ds.splits[name]]
    df = pd.DataFrame({"item": [s for s, _ in rows], "split": [n for _, n in rows],
                       "length": [len(s) for s, _ in rows]})
    meta = {"domain": MoleculeDomain.name, "generator": "seqvae.molecules.chem.prepare_molecule_dataset",
            "parameters": {"source": str(path), "column": column, "split": split,
                           "seed": int(seed), "fractions": ds.report["split"].get("fractions"),
                           "standardize": list(standardize)},
            "report": ds.report, "seqvae_version": __version__}
    return df, meta
