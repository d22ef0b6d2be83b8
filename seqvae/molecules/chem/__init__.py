"""Chemistry for seqvae: molecules as SMILES or SELFIES (optional extra ``seqvae[chem]``).

Importing this package never imports RDKit or selfies; the functions that need
them import them on first use and raise
:class:`~seqvae.molecules.chem.errors.ChemistryUnavailableError`, naming the extra, when
they are missing.

Modules, one concern each:

* :mod:`.rdkit_support` — lazy RDKit/selfies import, validity, canonical SMILES (the key
  for uniqueness and novelty).
* :mod:`.molfile` — reading .smi/.txt/.csv/.tsv(.gz) files; cleaning with counts.
* :mod:`.splits`, :mod:`.stats` — random and scaffold splits; length/vocabulary statistics.
* :mod:`.dataset` — file → cleaned, split data set with its report; tokenizer per
  representation.
* :mod:`.selfies_codec` — SMILES <-> SELFIES and the SELFIES tokenizer.
* :mod:`.metrics`, :mod:`.filters` — the MOSES metrics and filters; :mod:`.fingerprints`
  (Morgan, Tanimoto), :mod:`.reference` (test-set statistics for Frag/Scaf/SNN) and
  :mod:`.chemnet` (FCD) beneath them.
* :mod:`.objectives` — QED, logP, SA score, penalised logP, registered by name.
* :mod:`.goals` — what ``optimize`` maximises: weighted sums, similarity to a target,
  substructure constraints, a user's callable; :mod:`.leaderboard` — its CSV and grid;
  :mod:`.sample_files` — decoded molecules as CSV (with properties) or SDF.
* :mod:`.depict` — molecule pictures for figures.
* :mod:`.moses_data` — fetching the MOSES data the way a user would.
"""
from seqvae.molecules.chem.chemnet import fcd_available, frechet_chemnet_distance
from seqvae.molecules.chem.dataset import (
    REPRESENTATIONS,
    SPLIT_METHODS,
    MoleculeDataset,
    fit_molecule_tokenizer,
    prepare_molecule_dataset,
)
from seqvae.molecules.chem.depict import draw_molecule_grid, molecule_image
from seqvae.molecules.chem.errors import (
    CHEM_EXTRA_HINT,
    ChemError,
    ChemistryUnavailableError,
    MoleculeFileError,
)
from seqvae.molecules.chem.filters import MosesFilters, load_moses_filters
from seqvae.molecules.chem.limits import SmilesLimits, set_default_limits, smiles_limit_reason
from seqvae.molecules.chem.metrics import moses_metrics
from seqvae.molecules.chem.molfile import clean_molecules, load_molecules, read_molecule_file
from seqvae.molecules.chem.moses_data import fetch_moses, moses_cache_dir, moses_file
from seqvae.molecules.chem.objectives import OBJECTIVES, Objective, get_objective, score_many, score_smiles
from seqvae.molecules.chem.rdkit_support import (
    as_mol,
    canonical_smiles,
    canonical_smiles_many,
    is_valid_smiles,
    mol_from_smiles,
    rdkit_available,
    require_rdkit,
    require_selfies,
)
from seqvae.molecules.chem.reference import ReferenceSet
from seqvae.molecules.chem.selfies_codec import SelfiesTokenizer, selfies_to_smiles, smiles_to_selfies
from seqvae.molecules.chem.splits import murcko_scaffold, random_split, scaffold_split
from seqvae.molecules.chem.stats import molecule_statistics

__all__ = [
    "CHEM_EXTRA_HINT", "ChemError", "ChemistryUnavailableError", "MoleculeFileError",
    "as_mol", "canonical_smiles", "canonical_smiles_many", "is_valid_smiles", "mol_from_smiles",
    "rdkit_available", "require_rdkit", "require_selfies",
    "SmilesLimits", "set_default_limits", "smiles_limit_reason",
    "read_molecule_file", "clean_molecules", "load_molecules",
    "murcko_scaffold", "random_split", "scaffold_split", "molecule_statistics",
    "REPRESENTATIONS", "SPLIT_METHODS", "MoleculeDataset", "prepare_molecule_dataset",
    "fit_molecule_tokenizer",
    "SelfiesTokenizer", "smiles_to_selfies", "selfies_to_smiles",
    "MosesFilters", "load_moses_filters", "ReferenceSet", "moses_metrics", "fcd_available",
    "frechet_chemnet_distance",
    "OBJECTIVES", "Objective", "get_objective", "score_smiles", "score_many",
    "draw_molecule_grid", "molecule_image",
    "fetch_moses", "moses_cache_dir", "moses_file",
]
