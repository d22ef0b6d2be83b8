"""SELFIES: a second spelling of the same molecules, in which every token string decodes.

* :func:`smiles_to_selfies` / :func:`selfies_to_smiles` convert one molecule
  (the ``selfies`` package does the work; errors become
  :class:`~seqvae.molecules.chem.errors.ChemError`).
* :class:`SelfiesTokenizer` follows the project's tokenizer protocol
  (:mod:`seqvae.tokenizers`) with SMILES as its items: ``encode`` takes a
  SMILES string and emits SELFIES symbols, ``decode`` turns symbols back into a
  SMILES string. Any body of symbols between BOS and EOS decodes to a molecule,
  so a decoder trained on it cannot write an invalid one; only an empty body
  (nothing but EOS, or symbols that derive no atom) is a
  :class:`~seqvae.tokenizers.DecodeError`.

The tokenizer serialises to plain JSON data (its symbol list), like the others.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from seqvae.errors import TokenizerError
from seqvae.molecules.chem.errors import ChemError, ChemistryUnavailableError
from seqvae.molecules.chem.limits import smiles_limit_reason
from seqvae.molecules.chem.rdkit_support import require_selfies
from seqvae.tokenizers import DecodeError, EncodeError, StringTokenizer, sequence_body

__all__ = ["smiles_to_selfies", "selfies_to_smiles", "split_selfies", "SelfiesTokenizer",
           "MAX_SELFIES_SYMBOLS", "MAX_SELFIES_CHARS"]

#: Longest SELFIES decoded, in symbols and in characters: the decoder's time grows with the
#: square of the length (4,000 symbols: 0.3 s; 16,000: 2 to 5 s), and a SMILES within the
#: default limits (1,000 characters) never needs more.
MAX_SELFIES_SYMBOLS = 4000
MAX_SELFIES_CHARS = 64_000

_SYMBOL = re.compile(r"\[[^\[\]]+\]")


def smiles_to_selfies(smiles: str) -> str:
    """The SELFIES string of a SMILES string.

    Raises
    ------
    ChemError
        ``smiles`` is not a string, or the selfies encoder rejects it (for
        example an atom above the valences SELFIES allows).

    Examples
    --------
    >>> smiles_to_selfies("C1=CC=CC=C1O")
    '[C][=C][C][=C][C][=C][Ring1][=Branch1][O]'
    """
    if not isinstance(smiles, str) or not smiles:
        raise ChemError(f"expected a non-empty SMILES string, got {smiles!r}")
    over = smiles_limit_reason(smiles)
    if over is not None:  # the encoder recurses on branches, as RDKit does
        raise ChemError(f"cannot write a SMILES of {len(smiles)} characters as SELFIES: {over}")
    sf = require_selfies()
    try:
        return sf.encoder(smiles, strict=True)
    except sf.EncoderError as exc:
        raise ChemError(f"cannot write {smiles!r} as SELFIES: {str(exc).splitlines()[0]}") from None


def selfies_to_smiles(selfies: str) -> str:
    """The SMILES string a SELFIES string derives (not canonical; see
    :func:`~seqvae.molecules.chem.rdkit_support.canonical_smiles`).

    The empty SELFIES string derives the empty SMILES string.

    Raises
    ------
    ChemError
        An unknown symbol, a malformed string (an unclosed bracket), or a string over
        :data:`MAX_SELFIES_SYMBOLS` symbols or :data:`MAX_SELFIES_CHARS` characters.

    Examples
    --------
    >>> selfies_to_smiles("[C][=C][C][=C][C][=C][Ring1][=Branch1][O]")
    'C1=CC=CC=C1O'
    >>> selfies_to_smiles("[C][Branch1][C][F][O]")   # branch: CH(F)-O
    'C(F)O'
    """
    if not isinstance(selfies, str):
        raise ChemError(f"expected a SELFIES string, got {type(selfies).__name__}")
    sf = require_selfies()
    symbols = selfies.count("[")
    if symbols > MAX_SELFIES_SYMBOLS or len(selfies) > MAX_SELFIES_CHARS:
        raise ChemError(f"a SELFIES of {symbols} symbols and {len(selfies)} characters is over "
                        f"the limit ({MAX_SELFIES_SYMBOLS} symbols, {MAX_SELFIES_CHARS} characters)")
    try:
        return sf.decoder(selfies)
    except sf.DecoderError as exc:
        raise ChemError(f"cannot read SELFIES {selfies[:80]!r}: "
                        f"{(str(exc).splitlines() or [''])[0][:160]}") from None
    except (ValueError, KeyError, IndexError, TypeError, RecursionError) as exc:
        # selfies parses a symbol's charge or ring size with int(): a symbol of 5,000
        # digits is a ValueError, not a DecoderError
        raise ChemError(f"cannot read SELFIES {selfies[:80]!r}: {type(exc).__name__}: "
                        f"{' '.join(str(exc).split())[:160]}") from None


def split_selfies(selfies: str) -> list[str]:
    """The symbols of a SELFIES string.

    >>> split_selfies("[C][=O][NH3+1]")
    ['[C]', '[=O]', '[NH3+1]']
    """
    sf = require_selfies()
    try:
        symbols = list(sf.split_selfies(selfies))
    except ValueError as exc:
        raise ChemError(f"cannot split SELFIES {selfies!r}: {exc}") from None
    if "".join(symbols) != selfies:
        raise ChemError(f"{selfies!r} is not a sequence of [symbols]")
    return symbols


def _symbols_of_smiles(smiles: str) -> list[str]:
    try:
        return split_selfies(smiles_to_selfies(smiles))
    except ChemistryUnavailableError:
        raise  # a missing package is not a fault of the item
    except ChemError as exc:
        raise EncodeError(str(exc)) from None


class SelfiesTokenizer(StringTokenizer):
    """SMILES in, SELFIES symbols as tokens, SMILES out.

    Ids 0..3 are ``<pad> <bos> <eos> <unk>``, then the SELFIES symbols of the
    corpus in sorted order (as for the other string tokenizers, so
    :class:`~seqvae.tokenizers.StringConstraint` applies unchanged).

    Examples
    --------
    >>> tok = SelfiesTokenizer.fit(["CCO", "c1ccccc1"])
    >>> tok.tokens(tok.encode("OCC"))
    ['<bos>', '[O]', '[C]', '[C]', '<eos>']
    >>> tok.decode(tok.encode("c1ccccc1"))
    'C1=CC=CC=C1'
    >>> tok.decode([tok.bos_id, tok.vocab.index("[Ring1]"), tok.vocab.index("[C]"), tok.eos_id])
    'C'
    """

    type_name = "selfies"

    def __init__(self, vocab: Sequence[str], *, unk: bool = False):
        vocab = list(vocab)
        for symbol in vocab:
            # Only bracketed symbols: anything else would change meaning when joined.
            if not (isinstance(symbol, str) and _SYMBOL.fullmatch(symbol)):
                raise TokenizerError(f"not a SELFIES symbol: {symbol!r}")
        super().__init__(vocab, unk=unk)

    def split(self, text: str) -> list[str]:
        """SELFIES symbols of a SMILES string."""
        return _symbols_of_smiles(text)

    @classmethod
    def fit(cls, smiles: Iterable[str], *, unk: bool = False) -> "SelfiesTokenizer":
        """Build the vocabulary from the SELFIES symbols of every molecule in ``smiles``.

        Raises :class:`~seqvae.tokenizers.EncodeError` for a SMILES string that
        SELFIES cannot write; drop such molecules first.
        """
        return cls(cls._fit_vocab(smiles, _symbols_of_smiles), unk=unk)

    def decode_selfies(self, ids) -> str:
        """The SELFIES string between BOS and EOS (not yet turned into SMILES)."""
        body, start = sequence_body(ids, self.vocab_size, self.bos_id, self.eos_id, self.pad_id)
        for pos, tok in enumerate(body, start=start):
            if tok == self.unk_id:
                raise DecodeError(f"<unk> at position {pos} cannot be turned back into a symbol")
        return "".join(self._names[t] for t in body)

    def decode(self, ids) -> str:
        """The SMILES string a token sequence derives; :class:`DecodeError` when it derives
        no atom."""
        selfies = self.decode_selfies(ids)
        try:
            smiles = selfies_to_smiles(selfies)
        except ChemistryUnavailableError:
            raise  # a missing package is not a fault of the sequence
        except ChemError as exc:
            raise DecodeError(str(exc)) from None
        if not smiles:
            raise DecodeError("the SELFIES symbols derive no atom" if selfies else
                              "empty sequence")
        return smiles

    def to_dict(self) -> dict:
        return self._base_dict()

    @classmethod
    def from_dict(cls, d: dict) -> "SelfiesTokenizer":
        vocab: Sequence[str] = d["vocab"]
        return cls(vocab, unk=bool(d.get("unk", False)))
