"""The automaton tokenizer: one token per state image, behind a size header.

Token layout (``max_states`` = M, ``max_letters`` = L)::

    id 0 <pad>   1 <bos>   2 <eos>
    ids 3 .. 3+M-1            state tokens "0" .. "M-1"
    ids 3+M .. 3+2M-1         header tokens <n1> .. <nM>
    ids 3+2M .. 3+2M+L-1      header tokens <k1> .. <kL>

and an automaton with ``n`` states and ``k`` letters is the sequence
``<bos> <nN> <kK> δ(0,0) δ(0,1) .. δ(0,k-1) δ(1,0) .. δ(n-1,k-1) <eos>``
(state-major, length ``n*k + 4``). The automaton is encoded as given: pass a
canonical form (``automata.canon.canonical_form``) so that isomorphic automata
share one sequence. It follows the tokenizer protocol of :mod:`seqvae.tokenizers`
and is registered there under ``"automaton"``.
"""
from __future__ import annotations

import numpy as np

from automata.dfa import DFA
from seqvae.errors import DecodeError, EncodeError, TokenizerError
from seqvae.hunt.constraint import AutomatonConstraint
from seqvae.tokenizers import BOS, EOS, PAD, as_id_list, register_tokenizer, sequence_body

__all__ = ["AutomatonTokenizer", "MAX_TOKENIZER_STATES", "MAX_TOKENIZER_LETTERS"]

#: Largest automaton tokenizer (states, letters): a table of 1024 states on 16 letters
#: is already a sequence of 16,000 tokens, far beyond what the model is trained on.
MAX_TOKENIZER_STATES = 1024
MAX_TOKENIZER_LETTERS = 16


@register_tokenizer
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
        body, start = sequence_body(ids, self.vocab_size, self.bos_id, self.eos_id, self.pad_id)
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
                for i in as_id_list(ids)]

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


