"""Tokenizers: turn items into token id sequences and back.

Every tokenizer follows one protocol:

* attributes ``vocab_size``, ``pad_id``, ``bos_id``, ``eos_id``;
* ``encode(item) -> list[int]`` gives ``BOS ... EOS``;
* ``decode(ids) -> item`` raises :class:`DecodeError` (with the reason) on a
  malformed sequence and never any other exception;
* ``tokens(ids) -> list[str]`` names the ids, for people;
* ``to_dict()`` / ``from_dict(d)`` give and take JSON-safe dictionaries, and
  :func:`tokenizer_from_dict` dispatches on ``d["type"]``.

Decoding rules shared by all tokenizers: a leading BOS is optional (decoders
usually start from BOS without emitting it), the sequence ends at the first
EOS and everything after it is ignored (a batched decoder keeps writing after
a row has finished), and a sequence without EOS is an error.

The engine's tokenizers are for strings (:class:`CharTokenizer`,
:class:`RegexTokenizer`, both on :class:`StringTokenizer`); an application adds
its own with :func:`register_tokenizer` (the automata application's
:class:`seqvae.hunt.tokenizer.AutomatonTokenizer`, the molecules application's
SELFIES tokenizer).

The decode constraints that keep a decoder on sequences these tokenizers can
decode live in :mod:`seqvae.constraints`.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from seqvae.applications import load_builtin
from seqvae.errors import DecodeError, EncodeError, TokenizerError, TokenizerTypeError

__all__ = [
    "TokenizerError", "EncodeError", "DecodeError",
    "PAD", "BOS", "EOS", "UNK",
    "StringTokenizer", "CharTokenizer", "RegexTokenizer", "tokenizer_from_dict", "register_tokenizer",
    "as_id_list", "sequence_body",
    "SMILES_PATTERN", "PATTERNS", "register_pattern",
]

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"


def as_id_list(ids) -> list[int]:
    """Accept lists, tuples, numpy arrays and 1-D torch tensors of integers."""
    try:
        if hasattr(ids, "detach"):  # torch tensor, without importing torch here
            ids = ids.detach().cpu().numpy()
        arr = np.asarray(ids)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a malformed input
        raise DecodeError(f"cannot read token ids: {exc}") from None
    if arr.ndim != 1:
        raise DecodeError(f"token ids must be a 1-D sequence, got shape {arr.shape}")
    if arr.size == 0:
        return []
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise DecodeError(f"token ids must be integers, got dtype {arr.dtype}")
    return [int(x) for x in arr]


def sequence_body(ids, vocab_size: int, bos_id: int, eos_id: int, pad_id: int) -> tuple[list[int], int]:
    """The ids between the optional leading BOS and the first EOS, checked for range,
    and the position of the first of them in ``ids`` (for error messages)."""
    seq = as_id_list(ids)
    for pos, tok in enumerate(seq):
        if not 0 <= tok < vocab_size:
            raise DecodeError(f"token id {tok} at position {pos} is outside the vocabulary "
                              f"(size {vocab_size})")
    start = 1 if seq and seq[0] == bos_id else 0
    try:
        end = seq.index(eos_id, start)
    except ValueError:
        raise DecodeError("missing EOS") from None
    body = seq[start:end]
    for pos, tok in enumerate(body, start=start):
        if tok == bos_id:
            raise DecodeError(f"BOS in the wrong place (position {pos})")
        if tok == pad_id:
            raise DecodeError(f"PAD before EOS (position {pos})")
    return body, start


# ---------------------------------------------------------------------------
# strings
# ---------------------------------------------------------------------------
class StringTokenizer:
    """Shared machinery of the string tokenizers: a vocabulary of token strings.

    Ids 0..3 are ``<pad> <bos> <eos> <unk>``; the corpus tokens follow in sorted order.
    With ``unk=False`` (the default) encoding a token outside the vocabulary raises
    :class:`EncodeError`; with ``unk=True`` it becomes ``<unk>``, and decoding a
    sequence that contains ``<unk>`` raises :class:`DecodeError` (the original
    text is lost).
    """

    type_name = ""
    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3
    _specials = (PAD, BOS, EOS, UNK)

    def __init__(self, vocab: Sequence[str], *, unk: bool = False):
        vocab = list(vocab)
        for tok in vocab:
            if not isinstance(tok, str) or not tok:
                raise TokenizerError(f"vocabulary entries must be non-empty strings, got {tok!r}")
            if tok in self._specials:
                raise TokenizerError(f"token {tok!r} collides with a special token")
        if len(set(vocab)) != len(vocab):
            raise TokenizerError("vocabulary has duplicate tokens")
        self.unk = bool(unk)
        self._names = list(self._specials) + vocab
        self._index = {tok: i for i, tok in enumerate(self._names)}
        self.vocab_size = len(self._names)

    @property
    def vocab(self) -> list[str]:
        """Token names, indexed by id."""
        return list(self._names)

    def split(self, text: str) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def _fit_vocab(cls, strings: Iterable[str], splitter) -> list[str]:
        seen: set[str] = set()
        for s in strings:
            if not isinstance(s, str):
                raise TokenizerTypeError(f"fit expects strings, got {type(s).__name__}")
            seen.update(splitter(s))
        clash = seen & set(cls._specials)
        if clash:
            raise TokenizerError(f"corpus tokens collide with special tokens: {sorted(clash)}")
        return sorted(seen)

    def encode(self, item: str) -> list[int]:
        if not isinstance(item, str):
            raise EncodeError(f"expected a string, got {type(item).__name__}")
        ids = [self.bos_id]
        for pos, tok in enumerate(self.split(item)):
            idx = self._index.get(tok)
            if idx is None or idx < len(self._specials):
                if not self.unk:
                    raise EncodeError(f"token {tok!r} (token {pos} of {item!r}) is not in the "
                                      "vocabulary")
                idx = self.unk_id
            ids.append(idx)
        ids.append(self.eos_id)
        return ids

    def decode(self, ids) -> str:
        body, start = sequence_body(ids, self.vocab_size, self.bos_id, self.eos_id, self.pad_id)
        for pos, tok in enumerate(body, start=start):
            if tok == self.unk_id:
                raise DecodeError(f"<unk> at position {pos} cannot be turned back into text")
        return "".join(self._names[t] for t in body)

    def tokens(self, ids) -> list[str]:
        return [self._names[i] if 0 <= i < self.vocab_size else f"<invalid:{i}>"
                for i in as_id_list(ids)]

    def _base_dict(self) -> dict:
        return {"type": self.type_name, "vocab": self._names[len(self._specials):],
                "unk": self.unk}

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self._names))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size}, unk={self.unk})"


class CharTokenizer(StringTokenizer):
    """One token per character.

    Examples
    --------
    >>> tok = CharTokenizer.fit(["abc", "cab"])
    >>> tok.decode(tok.encode("bac"))
    'bac'
    >>> tok.tokens(tok.encode("ab"))
    ['<bos>', 'a', 'b', '<eos>']
    """

    type_name = "char"

    def split(self, text: str) -> list[str]:
        return list(text)

    @classmethod
    def fit(cls, strings: Iterable[str], *, unk: bool = False) -> "CharTokenizer":
        """Build the vocabulary from every character seen in ``strings``."""
        return cls(cls._fit_vocab(strings, list), unk=unk)

    def to_dict(self) -> dict:
        return self._base_dict()

    @classmethod
    def from_dict(cls, d: dict) -> "CharTokenizer":
        return cls(d["vocab"], unk=bool(d.get("unk", False)))


#: Multi-character SMILES tokens first (bracket atoms, two-digit ring closures,
#: two-letter organic-subset elements), then any single character, so that the
#: tokens of every string concatenate back to the string.
SMILES_PATTERN = r"\[[^\[\]]*\]|%\d\d|Cl|Br|."


#: Tokenizer patterns a file may name: a run's JSON holds a pattern's name (or its
#: text, which must be one of these), never a regular expression of its own, since a
#: crafted pattern can backtrack for hours on one line.
PATTERNS: dict[str, str] = {"smiles": SMILES_PATTERN, "char": "."}


def register_pattern(name: str, pattern: str) -> None:
    """Make ``pattern`` loadable from run files under ``name`` (checked: it compiles).

    >>> register_pattern("words", r"[a-z]+| ")
    >>> RegexTokenizer.from_dict({"type": "regex", "vocab": ["a"], "pattern_name": "words"}).pattern
    '[a-z]+| '
    """
    if not isinstance(name, str) or not name or not isinstance(pattern, str):
        raise TokenizerError("a pattern is registered as a non-empty name and a string")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise TokenizerError(f"pattern {name!r} does not compile: {exc}") from None
    PATTERNS[name] = pattern


def _pattern_from_file(d: dict) -> str:
    """The pattern a tokenizer description names, looked up in :data:`PATTERNS`."""
    name = d.get("pattern_name")
    if name is not None:
        if not isinstance(name, str) or name not in PATTERNS:
            raise TokenizerError(f"unknown tokenizer pattern {str(name)[:80]!r}; register it "
                                 "with seqvae.tokenizers.register_pattern")
        return PATTERNS[name]
    pattern = d.get("pattern", SMILES_PATTERN)
    if pattern not in PATTERNS.values():
        raise TokenizerError(f"tokenizer pattern {str(pattern)[:80]!r} is not a registered "
                             "pattern; register it with seqvae.tokenizers.register_pattern "
                             "before loading")
    return pattern


class RegexTokenizer(StringTokenizer):
    """Tokens are the successive matches of a regular expression.

    The default pattern :data:`SMILES_PATTERN` keeps SMILES atoms such as ``Cl``,
    ``Br``, bracket atoms ``[nH]``, ``[C@@H]`` and ring closures ``%10`` whole.
    A pattern must match the whole string as a sequence of non-empty tokens;
    text that it skips is an :class:`EncodeError`, never silently dropped.

    Examples
    --------
    >>> tok = RegexTokenizer.fit(["c1cc[nH]c1Cl", "C%10CCBr"])
    >>> tok.split("c1cc[nH]c1Cl")
    ['c', '1', 'c', 'c', '[nH]', 'c', '1', 'Cl']
    >>> tok.decode(tok.encode("ClC%10"))
    'ClC%10'
    """

    type_name = "regex"

    def __init__(self, vocab: Sequence[str], *, pattern: str = SMILES_PATTERN, unk: bool = False):
        super().__init__(vocab, unk=unk)
        self.pattern = pattern
        self._regex = re.compile(pattern, re.DOTALL)

    def split(self, text: str) -> list[str]:
        return self._split(self._regex, text)

    @staticmethod
    def _split(regex: re.Pattern, text: str) -> list[str]:
        out, pos = [], 0
        for match in regex.finditer(text):
            if match.start() != pos:
                raise EncodeError(f"pattern skips {text[pos:match.start()]!r} at offset {pos} "
                                  f"of {text!r}")
            if match.end() == match.start():
                continue
            out.append(match.group(0))
            pos = match.end()
        if pos != len(text):
            raise EncodeError(f"pattern skips {text[pos:]!r} at offset {pos} of {text!r}")
        return out

    @classmethod
    def fit(cls, strings: Iterable[str], *, pattern: str = SMILES_PATTERN,
            unk: bool = False) -> "RegexTokenizer":
        """Build the vocabulary from every token the pattern finds in ``strings``."""
        regex = re.compile(pattern, re.DOTALL)
        vocab = cls._fit_vocab(strings, lambda s: cls._split(regex, s))
        return cls(vocab, pattern=pattern, unk=unk)

    def to_dict(self) -> dict:
        d = self._base_dict()
        d["pattern"] = self.pattern
        name = next((n for n, p in PATTERNS.items() if p == self.pattern), None)
        if name is not None:
            d["pattern_name"] = name
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RegexTokenizer":
        """Rebuild from :meth:`to_dict`; the pattern must be registered (:data:`PATTERNS`)."""
        return cls(d["vocab"], pattern=_pattern_from_file(d), unk=bool(d.get("unk", False)))


#: Tokenizer classes by ``type_name``; applications add theirs with :func:`register_tokenizer`.
_TOKENIZERS: dict[str, type] = {cls.type_name: cls for cls in (CharTokenizer, RegexTokenizer)}


def register_tokenizer(cls: type) -> type:
    """Class decorator: make ``cls`` known to :func:`tokenizer_from_dict` under
    ``cls.type_name`` (the automata application registers its ``"automaton"``)."""
    name = getattr(cls, "type_name", None)
    if not isinstance(name, str) or not name:
        raise TokenizerError(f"{cls.__name__} needs a non-empty type_name to be registered")
    if _TOKENIZERS.get(name, cls) is not cls:
        raise TokenizerError(f"a tokenizer named {name!r} is already registered")
    _TOKENIZERS[name] = cls
    return cls


def tokenizer_from_dict(d: dict):
    """Rebuild any tokenizer from its ``to_dict()``.

    >>> tok = CharTokenizer.fit(["ab", "ba"])
    >>> tokenizer_from_dict(tok.to_dict()) == tok
    True
    """
    if isinstance(d, dict) and isinstance(d.get("type"), str) and d["type"] not in _TOKENIZERS:
        load_builtin("tokenizer", d["type"])
    try:
        cls = _TOKENIZERS[d["type"]]
    except (KeyError, TypeError):
        raise TokenizerError(f"unknown tokenizer description: {d!r}") from None
    return cls.from_dict(d)
