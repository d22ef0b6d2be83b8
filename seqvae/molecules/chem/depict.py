"""Molecule pictures for figures: RDKit 2-D depictions instead of SMILES text.

* :func:`molecule_image` gives one depiction as an RGBA array, for placing on a
  matplotlib axis (``ax.imshow``) in the interpolation figures.
* :func:`draw_molecule_grid` writes a PNG grid of depictions with a caption under
  each, atomically.

An invalid SMILES gets an empty cell whose caption says so, so a row of decodes
keeps its positions.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from automata.atomic import atomic_write_bytes
from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.rdkit_support import mol_from_smiles, require_rdkit

__all__ = ["molecule_image", "draw_molecule_grid"]

#: Bond length in pixels in grid cells.
_BOND_PIXELS = 25


def _check_size(size) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ChemError(f"size must be (width, height) in pixels, got {size!r}") from None
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise ChemError(f"size must lie between 16 and 4096 pixels a side, got {size!r}")
    return w, h


def molecule_image(smiles: str, size: tuple[int, int] = (300, 240)) -> np.ndarray | None:
    """RGBA depiction of a molecule as a ``(height, width, 4)`` uint8 array; None if invalid.

    >>> img = molecule_image("c1ccccc1O", size=(120, 100))
    >>> img.shape, img.dtype.name
    ((100, 120, 4), 'uint8')
    >>> molecule_image("C1CC") is None
    True
    """
    w, h = _check_size(size)
    mol = mol_from_smiles(smiles)
    if mol is None:
        return None
    require_rdkit()
    from rdkit.Chem import Draw

    picture = Draw.MolToImage(mol, size=(w, h))
    return np.asarray(picture.convert("RGBA"), dtype=np.uint8)


def _molecule_cell(mol, caption: str, w: int, h: int):
    from PIL import Image
    from rdkit.Chem.Draw import rdMolDraw2D

    drawer = rdMolDraw2D.MolDraw2DCairo(w, h)
    # One bond length for every cell, so that a small molecule is not blown up to the
    # cell's size next to a large one (a large one is still shrunk to fit).
    drawer.drawOptions().fixedBondLength = _BOND_PIXELS
    drawer.DrawMolecule(mol, legend=caption)
    drawer.FinishDrawing()
    return Image.open(io.BytesIO(drawer.GetDrawingText())).convert("RGB")


def _invalid_cell(caption: str, w: int, h: int):
    # RDKit draws no caption for an empty molecule, so the cell is drawn here.
    from PIL import Image, ImageDraw, ImageFont

    cell = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(cell)
    font = ImageFont.load_default(size=max(9, h // 14))
    text = caption
    while len(text) > 1 and draw.textlength(text, font=font) > w - 8:
        text = text[:-2] + "…"
    draw.text((w / 2, h / 2), "no molecule", fill=(150, 150, 150), anchor="mm", font=font)
    draw.text((w / 2, h - h / 12), text, fill=(0, 0, 0), anchor="ms", font=font)
    return cell


def draw_molecule_grid(smiles: Sequence[str], path: str | os.PathLike, *,
                       captions: Sequence[str] | None = None, per_row: int = 5,
                       cell: tuple[int, int] = (250, 200)) -> Path:
    """Write a PNG grid of molecule depictions with captions; returns the path.

    Parameters
    ----------
    smiles
        Molecules in reading order; an invalid one leaves a cell that says
        "no molecule", captioned ``invalid: <smiles>``.
    path
        Target PNG file (written atomically).
    captions
        One caption per molecule (default: the SMILES).
    per_row
        Cells per row.
    cell
        ``(width, height)`` of one cell in pixels.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
    >>> _ = draw_molecule_grid(["CCO", "c1ccccc1", "C1CC"], out, per_row=2, cell=(100, 80))
    >>> out.read_bytes()[:4] == b"\\x89PNG"
    True
    """
    if isinstance(smiles, str):
        raise ChemError("draw_molecule_grid expects a sequence of SMILES, not one string")
    smiles = list(smiles)
    if not smiles:
        raise ChemError("no molecules to draw")
    if captions is not None and len(captions) != len(smiles):
        raise ChemError(f"{len(captions)} captions for {len(smiles)} molecules")
    if isinstance(per_row, bool) or not isinstance(per_row, int) or per_row < 1:
        raise ChemError(f"per_row must be a positive integer, got {per_row!r}")
    w, h = _check_size(cell)
    require_rdkit()
    from PIL import Image

    labels = [str(c) for c in captions] if captions is not None else list(smiles)
    cols = min(per_row, len(smiles))
    rows = -(-len(smiles) // cols)
    grid = Image.new("RGB", (cols * w, rows * h), "white")
    for k, (text, label) in enumerate(zip(smiles, labels, strict=True)):
        mol = mol_from_smiles(text)
        image = (_molecule_cell(mol, label, w, h) if mol is not None
                 else _invalid_cell(f"invalid: {text}", w, h))
        grid.paste(image, ((k % cols) * w, (k // cols) * h))
    buffer = io.BytesIO()
    grid.save(buffer, format="PNG")
    target = Path(path)
    atomic_write_bytes(target, buffer.getvalue())
    return target
