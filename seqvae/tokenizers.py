"""Tokenizers: turn items (automata, strings) into token id sequences and back.

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

Token layout of :class:`AutomatonTokenizer` (``max_states`` = M, ``max_letters`` = L)::

    id 0 <pad>   1 <bos>   2 <eos>
    ids 3 .. 3+M-1            state tokens "0" .. "M-1"
    ids 3+M .. 3+2M-1         header tokens <n1> .. <nM>
    ids 3+2M .. 3+2M+L-1      header tokens <k1> .. <kL>

and an automaton with ``n`` states and ``k`` letters is the sequence
``<bos> <nN> <kK> δ(0,0) δ(0,1) .. δ(0,k-1) δ(1,0) .. δ(n-1,k-1) <eos>``
(state-major, length ``n*k + 4``). The automaton is encoded as given: pass a
canonical form (``automata.canon.canonical_form``) so that isomorphic automata
share one sequence.

The decode constraints that keep a decoder on sequences these tokenizers can
decode live in :mod:`seqvae.constraints`.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from automata.dfa import DFA

from .constraints import AutomatonConstraint
from .errors import DecodeError, EncodeError, TokenizerError

__all__ = [
    "TokenizerError", "EncodeError", "DecodeError",
    "PAD", "BOS", "EOS", "UNK",
    "AutomatonTokenizer", "CharTokenizer", "RegexTokenizer", "tokenizer_from_dict",
    "SMILES_PATTERN", "PATTERNS", "register_pattern", "MAX_TOKENIZER_STATES",
    "MAX_TOKENIZER_LETTERS",
]

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"


def _as_id_list(ids) -> list[int]:
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


def _body(ids, vocab_size: int, bos_id: int, eos_id: int, pad_id: int) -> tuple[list[int], int]:
    """The ids between the optional leading BOS and the first EOS, checked for range,
    and the position of the first of them in ``ids`` (for error messages)."""
    seq = _as_id_list(ids)
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
# automata
# ---------------------------------------------------------------------------
#: Largest automaton tokenizer (states, letters): a table of 1024 states on 16 letters
#: is already a sequence of 16,000 tokens, far beyond what the model is trained on.
MAX_TOKENIZER_STATES = 1024
MAX_TOKENIZER_LETTERS = 16


class AutomatonTokenizer:
    """Tokens for automata with up to ``max_states`` states and ``max_letters`` letters.

    Parameters
    ----------
    max_states, max_letters : int
        Largest automaton the vocabulary can express. Automata of any smaller
        size share the vocabulary, so one data set may mix sizes.

    Examples
    --------
    >>> tok = AutomatonTokenizer(max_states=4, max_letters=2)
    >>> A = DFA([[1, 2, 0], [0, 1, 0]])
    >>> ids = tok.encode(A)
    >>> tok.tokens(ids)
    ['<bos>', '<n3>', '<k2>', '1', '0', '2', '1', '0', '0', '<eos>']
    >>> tok.decode(ids) == A
    True
    """

    type_name = "automaton"
    pad_id, bos_id, eos_id = 0, 1, 2
    _n_special = 3

    def __init__(self, max_states: int, max_letters: int):
        if int(max_states) < 1 or int(max_letters) < 1:
            raise TokenizerError("max_states and max_letters must be at least 1")
        if int(max_states) > MAX_TOKENIZER_STATES or int(max_letters) > MAX_TOKENIZER_LETTERS:
            # A size read from a run's JSON must not make decoding allocate gigabytes.
            raise TokenizerError(f"an automaton tokenizer covers at most "
                                 f"{MAX_TOKENIZER_STATES} states and {MAX_TOKENIZER_LETTERS} "
                                 f"letters, got {max_states} and {max_letters}")
        self.max_states = int(max_states)
        self.max_letters = int(max_letters)
        self.state_offset = self._n_special
        self.n_offset = self.state_offset + self.max_states
        self.k_offset = self.n_offset + self.max_states
        self.vocab_size = self.k_offset + self.max_letters
        self._names = ([PAD, BOS, EOS] + [str(q) for q in range(self.max_states)]
                       + [f"<n{n}>" for n in range(1, self.max_states + 1)]
                       + [f"<k{k}>" for k in range(1, self.max_letters + 1)])

    # ids of individual tokens -------------------------------------------------
    def state_id(self, q: int) -> int:
        """Token id of state ``q``."""
        return self.state_offset + int(q)

    def n_id(self, n_states: int) -> int:
        """Token id of the header ``<n{n_states}>``."""
        return self.n_offset + int(n_states) - 1

    def k_id(self, n_letters: int) -> int:
        """Token id of the header ``<k{n_letters}>``."""
        return self.k_offset + int(n_letters) - 1

    @property
    def vocab(self) -> list[str]:
        """Token names, indexed by id."""
        return list(self._names)

    def seq_len(self, n_states: int, n_letters: int) -> int:
        """Length of the encoding of an ``n_states`` x ``n_letters`` automaton, BOS and EOS
        included."""
        return int(n_states) * int(n_letters) + 4

    @property
    def max_seq_len(self) -> int:
        """Length of the longest possible encoding."""
        return self.seq_len(self.max_states, self.max_letters)

    # protocol -------------------------------------------------------------------
    def encode(self, item: DFA) -> list[int]:
        """``BOS <nN> <kK> δ(0,0) .. δ(n-1,k-1) EOS`` for the automaton as given."""
        if not isinstance(item, DFA):
            try:
                item = DFA(item)
            except Exception as exc:  # noqa: BLE001
                raise EncodeError(f"not an automaton: {exc}") from None
        n, k = item.n_states, item.n_letters
        if n > self.max_states or k > self.max_letters:
            raise EncodeError(f"automaton with {n} states and {k} letters exceeds the tokenizer's "
                              f"limits ({self.max_states} states, {self.max_letters} letters)")
        body = (np.asarray(item.delta).T.reshape(-1) + self.state_offset).tolist()
        return [self.bos_id, self.n_id(n), self.k_id(k), *body, self.eos_id]

    def decode(self, ids) -> DFA:
        """The automaton a sequence encodes; :class:`DecodeError` says what is wrong otherwise."""
        body, start = _body(ids, self.vocab_size, self.bos_id, self.eos_id, self.pad_id)
        if not body:
            raise DecodeError("empty sequence: missing the <n> header")
        first = body[0]
        if not self.n_offset <= first < self.k_offset:
            raise DecodeError(f"expected an <n> header at the start, got {self._names[first]!r}")
        n = first - self.n_offset + 1
        if len(body) < 2:
            raise DecodeError("missing the <k> header")
        second = body[1]
        if not self.k_offset <= second < self.vocab_size:
            raise DecodeError(f"expected a <k> header after <n{n}>, got {self._names[second]!r}")
        k = second - self.k_offset + 1
        states = body[2:]
        for pos, tok in enumerate(states, start=start + 2):
            if not self.state_offset <= tok < self.n_offset:
                raise DecodeError(f"token {self._names[tok]!r} in the wrong place "
                                  f"(position {pos}): "
                                  "expected a state")
        if len(states) != n * k:
            raise DecodeError(f"wrong number of transitions: {len(states)} for n={n}, k={k} "
                              f"(expected {n * k})")
        values = np.asarray(states, dtype=np.int64) - self.state_offset
        if values.size and values.max() >= n:
            pos = int(np.argmax(values >= n))
            raise DecodeError(f"state {int(values[pos])} out of range for n={n} "
                              f"(transition {pos}: state {pos // k}, letter {pos % k})")
        return DFA(values.reshape(n, k).T)

    def tokens(self, ids) -> list[str]:
        """Names of the ids (``<invalid:ID>`` for ids outside the vocabulary)."""
        return [self._names[i] if 0 <= i < self.vocab_size else f"<invalid:{i}>"
                for i in _as_id_list(ids)]

    def to_dict(self) -> dict:
        return {"type": self.type_name, "max_states": self.max_states,
                "max_letters": self.max_letters}

    @classmethod
    def from_dict(cls, d: dict) -> "AutomatonTokenizer":
        sizes = d["max_states"], d["max_letters"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
            raise TokenizerError(f"max_states and max_letters must be integers, got "
                                 f"{str(sizes)[:80]}")
        return cls(*sizes)

    def constraint(self, n_states=None, n_letters=None) -> AutomatonConstraint:
        """A :class:`~seqvae.constraints.AutomatonConstraint` for this vocabulary."""
        return AutomatonConstraint(self, n_states=n_states, n_letters=n_letters)

    def __eq__(self, other) -> bool:
        return isinstance(other, AutomatonTokenizer) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.max_states, self.max_letters))

    def __repr__(self) -> str:
        return (f"AutomatonTokenizer(max_states={self.max_states}, max_letters={self.max_letters}, "
                f"vocab_size={self.vocab_size})")


# ---------------------------------------------------------------------------
# strings
# ---------------------------------------------------------------------------
class _StringTokenizer:
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
                raise TypeError(f"fit expects strings, got {type(s).__name__}")
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
        body, start = _body(ids, self.vocab_size, self.bos_id, self.eos_id, self.pad_id)
        for pos, tok in enumerate(body, start=start):
            if tok == self.unk_id:
                raise DecodeError(f"<unk> at position {pos} cannot be turned back into text")
        return "".join(self._names[t] for t in body)

    def tokens(self, ids) -> list[str]:
        return [self._names[i] if 0 <= i < self.vocab_size else f"<invalid:{i}>"
                for i in _as_id_list(ids)]

    def _base_dict(self) -> dict:
        return {"type": self.type_name, "vocab": self._names[len(self._specials):],
                "unk": self.unk}

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self._names))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size}, unk={self.unk})"


class CharTokenizer(_StringTokenizer):
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


class RegexTokenizer(_StringTokenizer):
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


_TOKENIZERS = {cls.type_name: cls for cls in (AutomatonTokenizer, CharTokenizer, RegexTokenizer)}


def tokenizer_from_dict(d: dict):
    """Rebuild any tokenizer from its ``to_dict()``.

    >>> tok = AutomatonTokenizer(7, 2)
    >>> tokenizer_from_dict(tok.to_dict()) == tok
    True
    """
    try:
        cls = _TOKENIZERS[d["type"]]
    except (KeyError, TypeError):
        raise TokenizerError(f"unknown tokenizer description: {d!r}") from None
    return cls.from_dict(d)
