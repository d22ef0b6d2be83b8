"""The molecules application: SMILES (and SELFIES) as items of the sequence VAE.

* :mod:`seqvae.molecules.domain` — :class:`MoleculeDomain`, registered as ``"smiles"``;
* :mod:`seqvae.molecules.grammar` — the SMILES grammar decode constraint;
* :mod:`seqvae.molecules.validity` — the ``"smiles"`` validator;
* :mod:`seqvae.molecules.properties` — property targets of the joint head;
* :mod:`seqvae.molecules.evaluation` — the MOSES metrics and FCD of a run;
* :mod:`seqvae.molecules.optimize` — latent-space property optimisation;
* :mod:`seqvae.molecules.presets` — training recipes (``train smiles --preset``);
* :mod:`seqvae.molecules.files` — molecule files read as string files;
* :mod:`seqvae.molecules.chem` — RDKit, selfies and fcd behind lazy imports.

Nothing here imports RDKit at import time.
"""
