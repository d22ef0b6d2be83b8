"""Property-guided search for molecules in a trained run's latent space (``seqvae optimize``).

The latent proposals every latent search shares (:mod:`seqvae.proposals`) pointed
at a molecular objective (:data:`seqvae.molecules.chem.OBJECTIVES`: qed, logp, sas, plogp):

1. encode a random sample of the training molecules and score them with RDKit;
   fit a :class:`~seqvae.proposals.PropertyHead` (an MLP z -> score) on them;
2. each round, propose latent points three ways — perturbed elites, samples of
   a Gaussian fitted to the elites (CEM), and gradient ascent on the head from
   the elites — decode them with the run's point decoder
   (:meth:`~seqvae.runs.Run.use_decoding`; ``seqvae optimize`` sets valid-first
   beam search under the SMILES grammar by default), and score every new valid
   molecule exactly with RDKit;
3. refit the head on everything scored so far, and repeat until ``budget``
   latent points have been decoded.

When the run was trained with a joint property head (``train smiles
--properties``) that predicts the objective (or, for ``plogp`` / ``plogp_zinc``,
logP and SAS, whose difference is the penalised logP without the ring term),
that head is used instead of one fitted here (step 1 then only picks the
elites, and step 3 is skipped): it was trained on every training molecule with
the VAE, which is what the chemical VAE did.

Scores are RDKit's (``sas`` is minimised, the others maximised); the head only
chooses where to look. The exception is a property the user measured
(``extra_terms``, :mod:`seqvae.molecules.user_property`): no oracle exists for a
new molecule, so its value is a head's prediction, and the result's
``predicted_terms`` says how well that head did on held-out measured molecules. The leaderboard holds distinct molecules found by
decoding, best first, each with its exact score.
"""
from __future__ import annotations

import time
from typing import Callable, Mapping, Sequence

import numpy as np

from seqvae.errors import SearchError
from seqvae.proposals import PropertyHead, ascend_within, cem_samples, head_ascent, perturbed_elites
from seqvae.screening import screen_items

__all__ = ["optimize_molecules", "joint_head", "JointHead"]


def _signed(scores: np.ndarray, maximize: bool) -> np.ndarray:
    """Scores turned so that larger is always better."""
    return scores if maximize else -scores


def optimize_molecules(run, objective, budget: int, seed: int = 0, *,
                       batch: int = 64, elite: int = 32, start_items: int = 2000,
                       head_steps: int = 150, top: int = 20, sigma: float = 0.3,
                       head: str = "auto", target: str | None = None,
                       keep: Sequence[str] = (), avoid: Sequence[str] = (),
                       start: Sequence[str] | None = None,
                       extra_terms: Mapping[str, Callable] | None = None) -> dict:
    """Search ``run``'s latent space for molecules that score well on ``objective``.

    Parameters
    ----------
    run : seqvae.runs.Run
        A molecule run (its domain is ``smiles``).
    objective : str, Goal or callable
        A specification (:func:`seqvae.molecules.chem.goals.parse_goal`: ``qed``,
        ``qed:0.7,sas:-0.3``, ``similarity`` with ``target``...), a
        :class:`~seqvae.molecules.chem.goals.Goal`, or any callable ``f(list[Mol]) ->
        scores`` (larger is better), given in code.
    budget : int
        Latent points decoded in all (the evaluation budget).
    seed : int
    batch, elite
        Points proposed per round; elites kept for the proposals.
    start_items
        Training molecules encoded and scored to fit the head at the start (a random
        sample of them), unless ``start`` is given.
    head_steps
        Adam steps of each head fit.
    top
        Leaderboard length.
    sigma
        Standard deviation of the elite perturbations (in prior units).
    head
        ``auto``: the run's joint property head when it predicts the objective,
        else one fitted on z here; ``joint``: the joint head (an error when there is
        none for the objective); ``fitted``: always fit one (for comparisons).
    target
        The similarity objective's target molecule (SMILES).
    keep, avoid
        SMARTS patterns a molecule must all match / must none match; one that fails
        is excluded (never on the leaderboard) and counted.
    start
        Start molecules (SMILES) instead of random training molecules: they are
        encoded and scored to start the search.
    extra_terms
        Further objective names for a specification string, each a callable
        ``f(list[Mol]) -> values`` given in code, such as the
        :class:`~seqvae.molecules.user_property.UserProperty` of a measured column
        (``fit_user_property``).

    Returns
    -------
    dict
        ``objective``, ``maximize``, ``budget``, ``seed``, ``head`` (``joint``: the
        run's jointly trained head; ``fitted``: one fitted here), ``decoding`` (the
        run's point decoder that decoded every proposal), ``terms`` (weight of each
        term), ``target``, ``keep``, ``avoid``, ``start`` (``training`` or
        ``given``), ``start_molecules``, ``start_best`` (the best score among the
        start molecules that meet the constraints, outside the budget; None when
        none does), ``decoded``, ``valid`` (share of valid decodes), ``distinct``
        (molecules found), ``excluded`` (of those, how many a constraint excluded),
        ``novel`` (of the rest, not in the training set), ``predicted_terms`` (for
        each measured property: its file, column, labelled molecules and the held-out
        Spearman and R² of its head), ``seconds`` and ``leaderboard``: a list of
        ``{"smiles", "score", "terms", "novel", "round"}``, best first.
    """
    from seqvae.molecules.chem.goals import make_goal
    from seqvae.molecules.user_property import UserProperty

    run.domain.require_molecular("optimize", SearchError)
    goal = make_goal(objective, target=target, keep=keep, avoid=avoid, extra=extra_terms)
    if head not in ("auto", "joint", "fitted"):
        raise SearchError(f"head must be auto, joint or fitted, got {head!r}")
    for name, value, low in (("budget", budget, 1), ("batch", batch, 1), ("elite", elite, 1),
                             ("top", top, 1), ("start_items", start_items, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise SearchError(f"{name} must be an integer >= {low}, got {value!r}")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    starts = _start_molecules(run, start, start_items, rng)
    z_seen, _ = run.encode(starts)
    # Score the canonical SMILES itself, so that a reader re-scoring the leaderboard's
    # strings with RDKit gets exactly these numbers. NaN: excluded by a constraint.
    y_seen, _, _ = goal.evaluate(starts)
    feasible = np.isfinite(y_seen)
    start_best = (float(y_seen[feasible][int(np.argmax(_signed(y_seen[feasible], goal.maximize)))])
                  if feasible.any() else None)  # the bar a search must clear
    predictor = _joint_for(run, goal) if head != "fitted" else None
    if predictor is None and head == "joint":
        raise SearchError(f"the run has no joint property head that predicts {goal.name!r} "
                          f"(its properties: {run.property_names or 'none'})")
    joint = predictor is not None
    if not joint:
        predictor = PropertyHead(run.d_z, seed=seed)
        predictor.fit(z_seen, _head_targets(y_seen, goal.maximize), steps=head_steps, seed=seed)

    found: dict[str, tuple[float, int, dict]] = {}
    excluded: set[str] = set()
    train_keys = run.train_keys
    decoded = valid = 0
    rnd = 0
    while decoded < budget:
        rnd += 1
        n = min(batch, budget - decoded)
        elites = z_seen[np.argsort(-_head_targets(y_seen, goal.maximize), kind="stable")[:elite]]
        z = _proposals(elites, predictor, n, rng, sigma)
        parsed = run.decode_parsed(z)  # the run's point decoder (Run.use_decoding)
        decoded += n
        new_z, new_items = [], []
        for point, p in zip(z, parsed):
            if not p.ok:
                continue
            valid += 1
            if p.item in found or p.item in excluded or p.item in new_items:
                continue
            new_z.append(point)
            new_items.append(p.item)
        if not new_items:
            continue
        scores, terms, out = goal.evaluate(new_items)
        for i, item in enumerate(new_items):
            if out[i]:
                excluded.add(item)
            else:
                found[item] = (float(scores[i]), rnd,
                               {k: float(v[i]) for k, v in terms.items()})
        z_seen = np.concatenate([z_seen, np.asarray(new_z, dtype=np.float32)])
        y_seen = np.concatenate([y_seen, scores])
        if not joint:
            predictor.fit(z_seen, _head_targets(y_seen, goal.maximize), steps=head_steps,
                          seed=seed + rnd)
    order = sorted(found.items(), key=lambda kv: -_signed(np.array(kv[1][0]), goal.maximize))
    board = [{"smiles": s, "score": score, "terms": terms, "novel": s not in train_keys,
              "round": r} for s, (score, r, terms) in order[:top]]
    return {"objective": goal.name, "maximize": goal.maximize, "budget": int(budget),
            "seed": int(seed), "head": "joint" if joint else "fitted",
            "decoding": run.decoding.to_dict(), "terms": goal.weights(),
            "target": goal.target, "keep": list(goal.keep), "avoid": list(goal.avoid),
            "start": "training" if start is None else "given", "start_molecules": len(starts),
            "start_best": start_best,
            "decoded": decoded, "valid": valid / decoded if decoded else None,
            "distinct": len(found) + len(excluded), "excluded": len(excluded),
            "novel": sum(s not in train_keys for s in found),
            "predicted_terms": {t.name: dict(t.function.report) for t in goal.terms
                                if isinstance(t.function, UserProperty)},
            "seconds": round(time.perf_counter() - t0, 2), "leaderboard": board}


def _head_targets(y: np.ndarray, maximize: bool) -> np.ndarray:
    """What the head learns and elites are chosen by: signed scores, larger better, with
    an excluded molecule (NaN) one spread below the worst allowed one."""
    signed = _signed(np.asarray(y, dtype=np.float64), maximize)
    ok = np.isfinite(signed)
    if ok.all():
        return signed
    if not ok.any():
        return np.zeros_like(signed)
    spread = float(signed[ok].std()) or 1.0
    return np.where(ok, signed, float(signed[ok].min()) - spread)


def _start_molecules(run, start, start_items: int, rng: np.random.Generator) -> list[str]:
    """The molecules the search starts from: the given ones (all must be encodable) or a
    random sample of the run's training molecules (those it cannot encode left out)."""
    if start is not None:
        if isinstance(start, str):
            start = [start]
        given = screen_items(run.domain, list(start), max_tokens=run.model_config.max_len)
        if given.n_skipped:
            raise SearchError(f"start molecules the run cannot encode: {given.summary()}")
        if not given.items:
            raise SearchError("no start molecules given")
        return list(dict.fromkeys(given.items))
    train = list(run.train_items)
    if len(train) < 2:
        raise SearchError("the run has fewer than two training molecules to start from")
    pick = rng.permutation(len(train))[:start_items]
    # Stored items are data: one the run can no longer encode (an edited file, a molecule
    # over the SMILES bounds) is left out of the start set, not fatal.
    items = screen_items(run.domain, [train[i] for i in pick],
                         max_tokens=run.model_config.max_len).items
    if len(items) < 2:
        raise SearchError("fewer than two of the run's stored training molecules can be encoded")
    return items


def _joint_for(run, goal):
    """The run's joint head as a predictor of ``goal`` (None when it does not predict it):
    a lone objective as :func:`joint_head` reads it, a weighted sum of the head's
    properties as that sum."""
    terms = goal.terms
    if len(terms) == 1 and goal.name == terms[0].name:
        return joint_head(run, terms[0].name)
    if terms and all(t.name in run.property_names for t in terms):
        return JointHead(run, goal.weights())
    return None


class JointHead:
    """The objective as the run's joint property head predicts it, larger always better.

    ``weights`` combine the head's standardised outputs linearly (the objective
    is a signed sum of properties); the search only needs :meth:`predict` and
    :meth:`ascend`, as of :class:`~seqvae.proposals.PropertyHead`.
    """

    def __init__(self, run, weights: dict[str, float], offset: float = 0.0):
        import torch

        names = run.property_names
        spec = run.config["properties"]
        # prediction in units = std * out + mean, so each term's weight on the raw
        # output is weight * std, and its mean goes into the constant
        self._w = torch.tensor([weights.get(n, 0.0) * spec["std"][i] for i, n in
                                enumerate(names)], dtype=torch.float32)
        self._b = offset + sum(weights.get(n, 0.0) * spec["mean"][i]
                               for i, n in enumerate(names))
        self._head = run.model.property_head
        self._device = run.device

    def _value(self, z):
        return self._head(z).float() @ self._w.to(z.device) + self._b

    def predict(self, z: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            zt = torch.as_tensor(np.asarray(z, dtype=np.float32), device=self._device)
            return self._value(zt).cpu().numpy()

    def ascend(self, z: np.ndarray, steps: int, lr: float, radius: float) -> np.ndarray:
        """Normalised gradient steps on the prediction, each point kept within ``radius``
        of its start (the search's other head does the same)."""
        return ascend_within(self._value, z, steps, lr, radius, device=self._device)


def joint_head(run, objective: str) -> JointHead | None:
    """The run's joint head as a predictor of ``objective`` (signed: larger is better),
    or None when the run has no head or its properties do not give the objective.

    ``plogp`` is read as logP − SAS and ``plogp_zinc`` as the two ZINC-standardised
    terms: the large-ring penalty is not predicted (it is zero for most drug-like
    molecules); the exact score always comes from RDKit.
    """
    from seqvae.molecules.chem.objectives import OBJECTIVES, ZINC_PLOGP_STATS

    names = set(run.property_names)
    if objective in names:
        return JointHead(run, {objective: 1.0 if OBJECTIVES[objective].maximize else -1.0})
    if objective == "plogp" and {"logp", "sas"} <= names:
        return JointHead(run, {"logp": 1.0, "sas": -1.0})
    if objective == "plogp_zinc" and {"logp", "sas"} <= names:
        s = ZINC_PLOGP_STATS
        return JointHead(run, {"logp": 1.0 / s["logp_std"], "sas": -1.0 / s["sa_std"]},
                         offset=-s["logp_mean"] / s["logp_std"] - s["sa_mean"] / s["sa_std"])
    return None


def _proposals(elites: np.ndarray, head, n: int, rng: np.random.Generator,
               sigma: float) -> np.ndarray:
    """``n`` latent points from the shared proposals (:mod:`seqvae.proposals`): a third
    perturbed elites, a third CEM samples, a third head ascent from elites (the first kind
    takes the remainder)."""
    n_cem = n // 3
    n_grad = n // 3
    out = [perturbed_elites(elites, n - n_cem - n_grad, sigma, rng),
           cem_samples(elites, n_cem, rng, 0.05)]
    if n_grad:
        out.append(head_ascent(head, elites, n_grad, rng, steps=10, lr=0.1, radius=1.0,
                               jitter=0.05))
    return np.concatenate(out).astype(np.float32)
