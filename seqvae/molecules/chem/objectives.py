"""Molecular objectives registered by name: what ``optimize --objective NAME`` scores.

The registry is a plain dictionary of :class:`Objective` (no function is ever
imported from a name read in a file). Every objective takes an RDKit molecule
and returns a float; :func:`score_smiles` gives None for an invalid SMILES.

==============  =========  ==============================================================
name            direction  value
==============  =========  ==============================================================
``qed``         maximise   ``rdkit.Chem.QED.qed`` (Bickerton et al. 2012), in [0, 1]
``logp``        maximise   Wildman–Crippen logP (``rdkit.Chem.Crippen.MolLogP``)
``sas``         minimise   Ertl–Schuffenhauer synthetic accessibility, 1 (easy) .. 10
                           (hard), RDKit Contrib ``SA_Score/sascorer``
``plogp``       maximise   penalised logP, unnormalised: logP − SAS − max(0, largest ring − 6)
``plogp_zinc``  maximise   the same three terms each standardised with the ZINC-250k
                           means and standard deviations of the JT-VAE code
==============  =========  ==============================================================

Which penalised logP a published figure uses matters: the top-3 figures quoted
for JT-VAE (5.30 / 4.93 / 4.49), SD-VAE, the Grammar VAE and the character VAE
come from the JT-VAE optimisation protocol, which scores with the
ZINC-normalised form (``plogp_zinc``); later papers that report GCPN-style
figures (e.g. 7.98) use the unnormalised form (``plogp``). The largest ring is
taken from RDKit's smallest set of smallest rings.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Sequence

from seqvae.molecules.chem.errors import ChemError, ChemistryUnavailableError
from seqvae.molecules.chem.rdkit_support import as_mol, require_rdkit

__all__ = ["Objective", "OBJECTIVES", "get_objective", "score_smiles", "score_many",
           "qed", "logp", "sa_score", "ring_penalty", "penalized_logp",
           "penalized_logp_zinc", "ZINC_PLOGP_STATS", "DEFAULT_SCORES", "molecule_scores"]


@dataclass(frozen=True)
class Objective:
    """A named molecular score ``function(mol) -> float``; ``maximize`` says which way is
    better."""

    name: str
    function: Callable[..., float]
    maximize: bool
    description: str

    def __call__(self, mol) -> float:
        return float(self.function(mol))


def _mol(smiles_or_mol):
    mol = as_mol(smiles_or_mol)
    if mol is None:
        raise ChemError(f"{smiles_or_mol!r} is not a valid molecule")
    return mol


def qed(smiles_or_mol) -> float:
    """Quantitative estimate of drug-likeness, exactly ``rdkit.Chem.QED.qed``.

    >>> round(qed("CC(=O)Oc1ccccc1C(=O)O"), 4)   # aspirin
    0.5501
    """
    require_rdkit()
    from rdkit.Chem import QED

    return float(QED.qed(_mol(smiles_or_mol)))


def logp(smiles_or_mol) -> float:
    """Wildman–Crippen logP (``rdkit.Chem.Crippen.MolLogP``).

    >>> round(logp("c1ccccc1"), 4)
    1.6866
    """
    require_rdkit()
    from rdkit.Chem import Crippen

    return float(Crippen.MolLogP(_mol(smiles_or_mol)))


@functools.lru_cache(maxsize=None)
def _sascorer():
    require_rdkit()
    try:
        from rdkit.Contrib.SA_Score import sascorer
    except ImportError as exc:
        raise ChemistryUnavailableError(
            f"the SA score needs RDKit's Contrib SA_Score module, which this RDKit lacks ({exc})"
        ) from None
    return sascorer


def sa_score(smiles_or_mol) -> float:
    """Ertl–Schuffenhauer synthetic accessibility (1 easy .. 10 hard), RDKit Contrib ``sascorer``.

    >>> round(sa_score("CC(=O)Oc1ccccc1C(=O)O"), 3)
    1.58
    """
    return float(_sascorer().calculateScore(_mol(smiles_or_mol)))


def ring_penalty(smiles_or_mol) -> int:
    """``max(0, size of the largest ring - 6)`` (rings of RDKit's SSSR).

    >>> ring_penalty("C1CCCCCCC1"), ring_penalty("c1ccccc1"), ring_penalty("CCO")
    (2, 0, 0)
    """
    mol = _mol(smiles_or_mol)  # held in a name: RingInfo dies with a temporary molecule
    rings = mol.GetRingInfo().AtomRings()
    largest = max((len(r) for r in rings), default=0)
    return max(0, largest - 6)


def penalized_logp(smiles_or_mol) -> float:
    """Penalised logP without normalisation: ``logP - SAS - ring_penalty``.

    >>> mol = "C1CCCCCCC1"
    >>> penalized_logp(mol) == logp(mol) - sa_score(mol) - 2
    True
    """
    mol = _mol(smiles_or_mol)
    return logp(mol) - sa_score(mol) - ring_penalty(mol)


#: Means and standard deviations of logP, -SAS and -ring_penalty over ZINC-250k, as in
#: the JT-VAE optimisation code (the normalisation behind its published top-3 figures).
ZINC_PLOGP_STATS = {
    "logp_mean": 2.4570953396190123, "logp_std": 1.434324401111988,
    "sa_mean": -3.0525811293166134, "sa_std": 0.8335207024513095,
    "cycle_mean": -0.0485696876403053, "cycle_std": 0.2860212110245455,
}


def penalized_logp_zinc(smiles_or_mol) -> float:
    """Penalised logP with each term standardised by the ZINC-250k statistics of JT-VAE:
    ``(logP - m1)/s1 + (-SAS - m2)/s2 + (-ring_penalty - m3)/s3``.

    >>> s = ZINC_PLOGP_STATS
    >>> x = penalized_logp_zinc("c1ccccc1")
    >>> y = ((logp("c1ccccc1") - s["logp_mean"]) / s["logp_std"]
    ...      + (-sa_score("c1ccccc1") - s["sa_mean"]) / s["sa_std"]
    ...      + (0 - s["cycle_mean"]) / s["cycle_std"])
    >>> abs(x - y) < 1e-12
    True
    """
    s = ZINC_PLOGP_STATS
    mol = _mol(smiles_or_mol)
    return ((logp(mol) - s["logp_mean"]) / s["logp_std"]
            + (-sa_score(mol) - s["sa_mean"]) / s["sa_std"]
            + (-ring_penalty(mol) - s["cycle_mean"]) / s["cycle_std"])


OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective("qed", qed, True, "drug-likeness, rdkit.Chem.QED.qed"),
    Objective("logp", logp, True, "Wildman-Crippen logP"),
    Objective("sas", sa_score, False, "synthetic accessibility (lower is easier)"),
    Objective("plogp", penalized_logp, True, "penalised logP = logP - SAS - large-ring penalty"),
    Objective("plogp_zinc", penalized_logp_zinc, True,
              "penalised logP, terms standardised on ZINC-250k as in JT-VAE"),
)}


def get_objective(name: str) -> Objective:
    """The registered objective called ``name``.

    >>> get_objective("qed").maximize
    True
    """
    try:
        return OBJECTIVES[name]
    except (KeyError, TypeError):
        raise ChemError(f"unknown objective {name!r}; choose from {sorted(OBJECTIVES)}") from None


def score_smiles(smiles: str, name: str) -> float | None:
    """Objective ``name`` of a SMILES string; None when it is not a valid molecule.

    >>> score_smiles("CCO", "logp") == logp("CCO"), score_smiles("C1CC", "qed")
    (True, None)
    """
    objective = get_objective(name)
    mol = as_mol(smiles)
    return None if mol is None else objective(mol)


def score_many(smiles: Sequence[str], name: str) -> list[float | None]:
    """:func:`score_smiles` for each string.

    >>> [round(v, 3) if v is not None else v for v in score_many(["CCO", "x"], "logp")]
    [-0.001, None]
    """
    objective = get_objective(name)
    out: list[float | None] = []
    for s in smiles:
        mol = as_mol(s)
        out.append(None if mol is None else objective(mol))
    return out


#: What :func:`molecule_scores` reports by default (the scores a molecule domain shows).
DEFAULT_SCORES = ("qed", "logp", "sas", "plogp")


def molecule_scores(smiles_or_mol, names: Sequence[str] = DEFAULT_SCORES) -> dict:
    """Several objectives of one valid molecule, as a JSON-safe ``{name: value}``.

    The molecule is parsed once for all of them.

    Raises
    ------
    ChemError
        An invalid molecule or an unknown objective name.

    Examples
    --------
    >>> scores = molecule_scores("CC(=O)Oc1ccccc1C(=O)O")
    >>> sorted(scores), round(scores["qed"], 4)
    (['logp', 'plogp', 'qed', 'sas'], 0.5501)
    """
    objectives = [get_objective(n) for n in names]
    mol = _mol(smiles_or_mol)
    return {o.name: o(mol) for o in objectives}
