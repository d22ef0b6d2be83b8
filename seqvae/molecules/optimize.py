"""Property-guided search for molecules in a trained run's latent space (``seqvae optimize``).

The latent proposals every latent search shares (:mod:`seqvae.proposals`) pointed
at a molecular objective (:data:`seqvae.molecules.chem.OBJECTIVES`: qed, logp, sas, plogp):

1. encode a random sample of the training molecules and score them with RDKit;
   fit a :class:`~seqvae.proposals.PropertyHead` (an MLP z -> score) on them;
2. each round, propose latent points three ways — perturbed elites, samples of
   a Gaussian fitted to the elites (CEM), and gradient ascent on the head from
   the elites — decode them greedily, and score every new valid molecule
   exactly with RDKit;
3. refit the head on everything scored so far, and repeat until ``budget``
   latent points have been decoded.

When the run was trained with a joint property head (``train smiles
--properties``) that predicts the objective (or, for ``plogp`` / ``plogp_zinc``,
logP and SAS, whose difference is the penalised logP without the ring term),
that head is used instead of one fitted here (step 1 then only picks the
elites, and step 3 is skipped): it was trained on every training molecule with
the VAE, which is what the chemical VAE did.

Scores are RDKit's (``sas`` is minimised, the others maximised); the head only
chooses where to look. The leaderboard holds distinct molecules found by
decoding, best first, each with its exact score.
"""
from __future__ import annotations

import time

import numpy as np

from seqvae.errors import SearchError
from seqvae.proposals import PropertyHead, ascend_within, cem_samples, head_ascent, perturbed_elites
from seqvae.screening import screen_items

__all__ = ["optimize_molecules", "joint_head", "JointHead"]


def _signed(scores: np.ndarray, maximize: bool) -> np.ndarray:
    """Scores turned so that larger is always better."""
    return scores if maximize else -scores


def optimize_molecules(run, objective: str, budget: int, seed: int = 0, *,
                       batch: int = 64, elite: int = 32, start_items: int = 2000,
                       head_steps: int = 150, top: int = 20, sigma: float = 0.3,
                       head: str = "auto") -> dict:
    """Search ``run``'s latent space for molecules that score well on ``objective``.

    Parameters
    ----------
    run : seqvae.runs.Run
        A molecule run (its domain is ``smiles``).
    objective : str
        A registered objective name (:func:`seqvae.molecules.chem.get_objective`).
    budget : int
        Latent points decoded in all (the evaluation budget).
    seed : int
    batch, elite
        Points proposed per round; elites kept for the proposals.
    start_items
        Training molecules encoded and scored to fit the head at the start.
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

    Returns
    -------
    dict
        ``objective``, ``maximize``, ``budget``, ``seed``, ``head`` (``joint``: the
        run's jointly trained head; ``fitted``: one fitted here), ``start_best`` (the
        best score among the training molecules scored to start, outside the budget),
        ``decoded``,
        ``valid`` (share of valid decodes), ``distinct`` (molecules found),
        ``novel`` (of those, not in the training set), ``seconds`` and
        ``leaderboard``: a list of ``{"smiles", "score", "novel", "round"}``,
        best first.
    """
    from seqvae.molecules.chem import get_objective
    from seqvae.molecules.chem.rdkit_support import mol_from_smiles

    run.domain.require_molecular("optimize", SearchError)
    obj = get_objective(objective)
    if head not in ("auto", "joint", "fitted"):
        raise SearchError(f"head must be auto, joint or fitted, got {head!r}")
    for name, value, low in (("budget", budget, 1), ("batch", batch, 1), ("elite", elite, 1),
                             ("top", top, 1), ("start_items", start_items, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise SearchError(f"{name} must be an integer >= {low}, got {value!r}")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)

    def exact(smiles: str) -> float:
        # Score the canonical SMILES itself, so that a reader re-scoring the
        # leaderboard's strings with RDKit gets exactly these numbers.
        return float(obj(mol_from_smiles(smiles)))

    train = list(run.train_items)
    if len(train) < 2:
        raise SearchError("the run has fewer than two training molecules to start from")
    pick = rng.permutation(len(train))[:start_items]
    # Stored items are data: one the run can no longer encode (an edited file, a molecule
    # over the SMILES bounds) is left out of the start set, not fatal.
    start = screen_items(run.domain, [train[i] for i in pick],
                         max_tokens=run.model_config.max_len).items
    if len(start) < 2:
        raise SearchError("fewer than two of the run's stored training molecules can be encoded")
    z_seen, _ = run.encode(start)
    y_seen = np.array([exact(s) for s in start])
    start_signed = _signed(y_seen, obj.maximize)
    start_best = float(y_seen[int(np.argmax(start_signed))])  # the bar a search must clear
    predictor = joint_head(run, obj.name) if head != "fitted" else None
    if predictor is None and head == "joint":
        raise SearchError(f"the run has no joint property head that predicts {obj.name!r} "
                          f"(its properties: {run.property_names or 'none'})")
    joint = predictor is not None
    if not joint:
        predictor = PropertyHead(run.d_z, seed=seed)
        predictor.fit(z_seen, _signed(y_seen, obj.maximize), steps=head_steps, seed=seed)

    found: dict[str, tuple[float, int]] = {}
    train_keys = run.train_keys
    decoded = valid = 0
    rnd = 0
    while decoded < budget:
        rnd += 1
        n = min(batch, budget - decoded)
        signed = _signed(y_seen, obj.maximize)
        elites = z_seen[np.argsort(-signed)[:elite]]
        z = _proposals(elites, predictor, n, rng, sigma)
        parsed = run.decode_parsed(z, method="greedy")
        decoded += n
        new_z, new_y = [], []
        for point, p in zip(z, parsed):
            if not p.ok:
                continue
            valid += 1
            if p.item in found:
                continue
            score = exact(p.item)
            found[p.item] = (score, rnd)
            new_z.append(point)
            new_y.append(score)
        if new_z:
            z_seen = np.concatenate([z_seen, np.asarray(new_z, dtype=np.float32)])
            y_seen = np.concatenate([y_seen, np.asarray(new_y)])
            if not joint:
                predictor.fit(z_seen, _signed(y_seen, obj.maximize), steps=head_steps,
                              seed=seed + rnd)
    order = sorted(found.items(), key=lambda kv: -_signed(np.array(kv[1][0]), obj.maximize))
    board = [{"smiles": s, "score": score, "novel": s not in train_keys, "round": r}
             for s, (score, r) in order[:top]]
    return {"objective": obj.name, "maximize": obj.maximize, "budget": int(budget),
            "seed": int(seed), "head": "joint" if joint else "fitted",
            "start_best": start_best,
            "decoded": decoded, "valid": valid / decoded if decoded else None,
            "distinct": len(found), "novel": sum(s not in train_keys for s in found),
            "seconds": round(time.perf_counter() - t0, 2), "leaderboard": board}


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
