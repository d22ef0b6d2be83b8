"""The automata application: hunting automata with long shortest reset words.

* :mod:`seqvae.hunt.domain` — :class:`AutomataDomain` (items: canonical automata,
  scored exactly by the ``automata`` package), its tokenizer
  (:mod:`seqvae.hunt.tokenizer`) and decode constraint (:mod:`seqvae.hunt.constraint`);
* :mod:`seqvae.hunt.datasets` — data sets of random synchronizing automata;
* :mod:`seqvae.hunt.search` — ``search-extreme``: evolve, boost with surrogate-ranked
  lifts, the latent (VAE) search, and the resumable runner.

Imported only when something names it (:mod:`seqvae.applications`).
"""
