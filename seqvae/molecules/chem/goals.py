"""What ``seqvae optimize`` maximises: objectives, weighted sums, similarity, constraints.

A :class:`Goal` scores a batch of RDKit molecules. It is built from

* a specification string (:func:`parse_goal`): ``NAME`` or a weighted sum
  ``NAME:WEIGHT,NAME:WEIGHT,...`` of the registered objectives
  (:data:`seqvae.molecules.chem.OBJECTIVES`: ``qed``, ``logp``, ``sas``, ``plogp``,
  ``plogp_zinc``) and ``similarity`` (Tanimoto similarity to a target molecule on
  Morgan fingerprints of radius 2 and 2048 bits);
* or, in Python, any callable ``f(list[Mol]) -> scores`` (larger is better), given in
  code — never a name read from a file;
* further named terms given in code (``extra``): the measured properties of
  ``optimize --properties FILE`` (:mod:`seqvae.molecules.user_property`), whose
  names are the file's columns and whose values a head predicts;

plus substructure constraints: every ``keep`` SMARTS must match, no ``avoid`` SMARTS may.
A molecule that fails a constraint is *excluded*: it gets no score and is counted. So is one
that a term cannot score (a NaN value: a measured property's head cannot encode it).

A single objective named alone keeps its own direction (``sas`` is minimised); a
weighted sum is always maximised, the weights' signs saying which way each term
pulls (``qed:1,sas:-0.2``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from seqvae.molecules.chem.errors import ChemError

__all__ = ["Goal", "Term", "parse_goal", "make_goal", "similarity_term"]

@dataclass(frozen=True)
class Term:
    """One term of a goal: ``weight * function(mols)``; ``function`` maps a list of RDKit
    molecules to their values."""

    name: str
    weight: float
    function: Callable[[list], Sequence[float]]


@dataclass(frozen=True)
class Goal:
    """A score of molecules (sum of weighted terms) and the constraints a molecule must meet.

    Attributes
    ----------
    name : str
        How the goal is written (``qed``, ``qed:0.7,sas:-0.3``, the callable's name).
    terms : tuple of Term
    maximize : bool
        False only for a lone minimised objective (``sas``).
    keep, avoid : tuple of str
        SMARTS that must all match / must none match.
    target : str or None
        The canonical SMILES of the similarity target.

    Examples
    --------
    >>> goal = parse_goal("qed:1,sas:-0.5", avoid=["[N+](=O)[O-]"])
    >>> scores, terms, excluded = goal.evaluate(["CCO", "C[N+](=O)[O-]"])
    >>> round(float(scores[0]), 3), bool(np.isnan(scores[1])), excluded.tolist()
    (-0.583, True, [False, True])
    >>> sorted(terms)
    ['qed', 'sas']
    """

    name: str
    terms: tuple
    maximize: bool = True
    keep: tuple = ()
    avoid: tuple = ()
    target: str | None = None
    _patterns: tuple = field(default=(), repr=False, compare=False)

    @property
    def term_names(self) -> list[str]:
        return [t.name for t in self.terms]

    def weights(self) -> dict[str, float]:
        """``{term name: weight}``."""
        return {t.name: t.weight for t in self.terms}

    def allowed(self, mols: list) -> np.ndarray:
        """Which molecules meet every constraint (bool array)."""
        keep, avoid = self._patterns or ((), ())
        return np.array([all(m.HasSubstructMatch(p) for p in keep)
                         and not any(m.HasSubstructMatch(p) for p in avoid) for m in mols],
                        dtype=bool)

    def evaluate(self, molecules: Sequence) -> tuple[np.ndarray, dict, np.ndarray]:
        """``(scores, term values, excluded)`` of valid molecules (SMILES or RDKit
        molecules): NaN scores and term values where a constraint excludes a molecule.

        Raises
        ------
        ChemError
            An invalid molecule, or a callable that returns the wrong number of scores
            or non-numbers.
        """
        from seqvae.molecules.chem.rdkit_support import as_mol

        mols = []
        for item in molecules:
            mol = as_mol(item)
            if mol is None:
                raise ChemError(f"{item!r} is not a valid molecule")
            mols.append(mol)
        ok = self.allowed(mols)
        total = np.full(len(mols), np.nan)
        values = {t.name: np.full(len(mols), np.nan) for t in self.terms}
        chosen = [m for m, good in zip(mols, ok) if good]
        if chosen:
            total[ok] = 0.0
            for t in self.terms:
                got = _as_scores(t.function(chosen), len(chosen), t.name)
                values[t.name][ok] = got
                total[ok] += t.weight * got
        unscored = ok & ~np.isfinite(total)
        for name in values:
            values[name][unscored] = np.nan
        return total, values, ~ok | unscored


def _as_scores(raw, n: int, name: str) -> np.ndarray:
    try:
        out = np.asarray(raw, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ChemError(f"objective {name!r} must return numbers, one per molecule") from None
    if out.shape != (n,):
        raise ChemError(f"objective {name!r} returned {out.size} scores for {n} molecules")
    return out


def _registered(name: str) -> Callable[[list], list]:
    from seqvae.molecules.chem.objectives import get_objective

    objective = get_objective(name)
    return lambda mols: [objective(m) for m in mols]


def similarity_term(target: str, weight: float = 1.0) -> Term:
    """The Tanimoto similarity to ``target`` (Morgan, radius 2, 2048 bits) as a term.

    >>> t = similarity_term("c1ccccc1O")
    >>> from rdkit import Chem
    >>> t.function([Chem.MolFromSmiles("Oc1ccccc1"), Chem.MolFromSmiles("CCO")]).round(3).tolist()
    [1.0, 0.062]
    """
    from seqvae.molecules.chem.fingerprints import similarity_to

    mol = _target_mol(target)
    return Term("similarity", float(weight), lambda mols: similarity_to(mol, mols))


def _target_mol(target):
    from seqvae.molecules.chem.rdkit_support import as_mol

    if target is None:
        raise ChemError("the similarity objective needs a target molecule (--target SMILES)")
    mol = as_mol(target)
    if mol is None:
        raise ChemError(f"--target {target!r} is not a valid molecule")
    return mol


def _patterns(smarts: Sequence[str], flag: str) -> tuple:
    from seqvae.molecules.chem.rdkit_support import quiet_rdkit, require_rdkit

    Chem = require_rdkit()
    if isinstance(smarts, str):
        smarts = [smarts]
    out = []
    for s in smarts:
        with quiet_rdkit():
            patt = Chem.MolFromSmarts(s) if isinstance(s, str) and s.strip() else None
        if patt is None:
            raise ChemError(f"{flag} {s!r} is not a valid SMARTS pattern")
        out.append(patt)
    return tuple(out)


def parse_goal(spec: str, *, target: str | None = None, keep: Sequence[str] = (),
               avoid: Sequence[str] = (),
               extra: Mapping[str, Callable[[list], Sequence[float]]] | None = None) -> Goal:
    """The goal a specification string names (see the module docstring).

    ``extra`` adds named terms given in code (a lone one is maximised); a name there
    may not shadow a registered objective.

    Raises
    ------
    ChemError
        An unknown name, a bad weight, a repeated term, ``similarity`` without a valid
        target, a target without ``similarity``, an ``extra`` name that shadows a
        registered one, or a bad SMARTS.

    Examples
    --------
    >>> parse_goal("sas").maximize, parse_goal("sas:-1").maximize
    (False, True)
    >>> parse_goal("similarity:2,qed", target="CCO").weights()
    {'similarity': 2.0, 'qed': 1.0}
    """
    from seqvae.molecules.chem.objectives import OBJECTIVES

    if not isinstance(spec, str) or not spec.strip():
        raise ChemError("the objective is empty; name one, e.g. qed or qed:0.7,sas:-0.3")
    extra = dict(extra or {})
    shadowed = sorted(set(extra) & {*OBJECTIVES, "similarity"})
    if shadowed:
        raise ChemError(f"the measured property {shadowed[0]!r} has the name of a built-in "
                        "objective; rename its column")
    parts = [p.strip() for p in spec.split(",")]
    terms: list[Term] = []
    weighted = False
    for part in parts:
        name, sep, weight_text = part.partition(":")
        name = name.strip()
        weight = 1.0
        if sep:
            weighted = True
            try:
                weight = float(weight_text)
            except ValueError:
                raise ChemError(f"objective term {part!r}: the weight must be a number") from None
            if not math.isfinite(weight):
                raise ChemError(f"objective term {part!r}: the weight must be finite")
        if name in (t.name for t in terms):
            raise ChemError(f"objective {name!r} is named twice in {spec!r}")
        if name == "similarity":
            terms.append(similarity_term(target, weight))
        elif name in OBJECTIVES:
            terms.append(Term(name, weight, _registered(name)))
        elif name in extra:
            terms.append(Term(name, weight, extra[name]))
        else:
            raise ChemError(f"unknown objective {name!r}; choose from "
                            f"{sorted([*OBJECTIVES, 'similarity', *extra])}, or a column "
                            "of a --properties FILE")
    if target is not None and "similarity" not in (t.name for t in terms):
        raise ChemError("--target is the similarity objective's target: add similarity to "
                        "the objective (e.g. --objective similarity)")
    alone = len(terms) == 1 and not weighted
    maximize = OBJECTIVES[terms[0].name].maximize if alone and terms[0].name in OBJECTIVES \
        else True
    return _with_constraints(Goal(spec.replace(" ", ""), tuple(terms), maximize,
                                  target=_canonical_target(target)), keep, avoid)


def _canonical_target(target):
    if target is None:
        return None
    from seqvae.molecules.chem.rdkit_support import canonical_smiles

    return canonical_smiles(target)


def _with_constraints(goal: Goal, keep, avoid) -> Goal:
    keep = [keep] if isinstance(keep, str) else list(keep or ())
    avoid = [avoid] if isinstance(avoid, str) else list(avoid or ())
    patterns = (_patterns(keep, "--keep"), _patterns(avoid, "--avoid"))
    return Goal(goal.name, goal.terms, goal.maximize, tuple(keep), tuple(avoid), goal.target,
                patterns)


def make_goal(objective, *, target: str | None = None, keep: Sequence[str] = (),
              avoid: Sequence[str] = (),
              extra: Mapping[str, Callable[[list], Sequence[float]]] | None = None) -> Goal:
    """A :class:`Goal` from a specification string, a Goal (constraints added), or a
    callable ``f(list[Mol]) -> scores`` (maximised; named after the callable).

    >>> def heavy(mols):
    ...     return [m.GetNumHeavyAtoms() for m in mols]
    >>> goal = make_goal(heavy, keep=["c1ccccc1"])
    >>> goal.name, goal.evaluate(["c1ccccc1C", "CCCCCCCC"])[0].tolist()
    ('heavy', [7.0, nan])
    """
    if isinstance(objective, Goal):
        return _with_constraints(objective, [*objective.keep, *list(keep or ())],
                                 [*objective.avoid, *list(avoid or ())])
    if isinstance(objective, str):
        return parse_goal(objective, target=target, keep=keep, avoid=avoid, extra=extra)
    if callable(objective):
        if target is not None:
            raise ChemError("a target belongs to the similarity objective, not to a callable")
        name = getattr(objective, "__name__", None) or type(objective).__name__
        return _with_constraints(Goal(str(name), (Term(str(name), 1.0, objective),)),
                                 keep, avoid)
    raise ChemError(f"an objective is a name, a Goal or a callable, "
                    f"not {type(objective).__name__}")
