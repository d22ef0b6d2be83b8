"""Decode constraints: which tokens a decoder may emit, step by step, for a whole batch.

A :class:`DecodeConstraint` keeps every row of a batched decode on sequences its
tokenizer can decode: :class:`AutomatonConstraint` (header, then exactly n*k
states < n, then EOS) and :class:`StringConstraint` (no special tokens before
EOS, between ``min_len`` and ``max_len`` tokens). The decoders of
:mod:`seqvae.decode` mask their logits with :meth:`DecodeConstraint.allowed`.
Constraints read a tokenizer's ids and sizes; they never import a tokenizer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import TokenizerError

__all__ = ["ConstraintState", "DecodeConstraint", "AutomatonConstraint", "StringConstraint"]


@dataclass
class ConstraintState:
    """Per-row decoding state of a batch: numpy arrays of shape (B,).

    ``pos`` counts the tokens emitted after BOS; ``n_states`` / ``n_letters`` are
    0 until the header fixes them; ``finished`` is True once EOS was emitted.
    ``extra`` is an int64 array (B, m) of whatever else a constraint tracks per row
    (m = 0 for the automaton and plain string constraints; the SMILES grammar keeps
    its branch depth and open ring labels there); :meth:`index` moves it with the rows.
    """

    pos: np.ndarray
    n_states: np.ndarray
    n_letters: np.ndarray
    finished: np.ndarray
    extra: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.extra is None:
            self.extra = np.zeros((self.pos.shape[0], 0), dtype=np.int64)

    def __len__(self) -> int:
        return int(self.pos.shape[0])

    def index(self, idx) -> "ConstraintState":
        """Rows ``idx`` (beam search reorders and repeats rows)."""
        idx = np.asarray(idx)
        return ConstraintState(self.pos[idx].copy(), self.n_states[idx].copy(),
                               self.n_letters[idx].copy(), self.finished[idx].copy(),
                               self.extra[idx].copy())


class DecodeConstraint:
    """Which tokens a decoder may emit next, for a whole batch at once.

    The decoder feeds BOS itself; the constraint covers the tokens generated
    after it. Usage::

        state = c.start(batch_size)
        while not c.done(state).all():
            logits[~c.allowed(state)] = -inf
            tokens = pick(logits)
            state = c.advance(state, tokens)

    Once a row has emitted EOS only PAD is allowed for it, so finished rows can
    keep stepping with the rest of the batch.
    """

    vocab_size: int

    def start(self, batch_size: int) -> ConstraintState:
        """The state before the first generated token: every row at step 0, unfinished."""
        b = int(batch_size)
        z = np.zeros(b, dtype=np.int64)
        return ConstraintState(z.copy(), z.copy(), z.copy(), np.zeros(b, dtype=bool))

    def allowed(self, state: ConstraintState) -> np.ndarray:
        raise NotImplementedError

    def advance(self, state: ConstraintState, tokens) -> ConstraintState:
        raise NotImplementedError

    def _allowed_tokens(self, state: ConstraintState, tokens) -> np.ndarray:
        """``tokens`` as an int64 array (B,), checked against :meth:`allowed`."""
        tokens = np.asarray(tokens, dtype=np.int64).reshape(-1)
        if tokens.shape[0] != len(state):
            raise TokenizerError(f"got {tokens.shape[0]} tokens for a batch of {len(state)}")
        ok = (tokens >= 0) & (tokens < self.vocab_size)
        rows = np.arange(len(state))
        ok[ok] = self.allowed(state)[rows[ok], tokens[ok]]
        if not ok.all():
            bad = int(np.flatnonzero(~ok)[0])
            raise TokenizerError(f"token {int(tokens[bad])} is not allowed in row {bad} "
                                 f"at step {int(state.pos[bad])}")
        return tokens

    def done(self, state: ConstraintState) -> np.ndarray:
        return state.finished.copy()

    def max_steps(self) -> int:
        """Upper bound on the number of tokens (after BOS, EOS included) of any row."""
        raise NotImplementedError


def _size_set(spec, limit: int, what: str) -> np.ndarray:
    """Allowed sizes 1..limit as a boolean mask indexed by size (index 0 unused)."""
    mask = np.zeros(limit + 1, dtype=bool)
    if spec is None:
        mask[1:] = True
        return mask
    values = [spec] if np.isscalar(spec) else list(spec)
    if not values:
        raise TokenizerError(f"empty set of allowed {what}")
    for v in values:
        v = int(v)
        if not 1 <= v <= limit:
            raise TokenizerError(f"{what}={v} is outside 1..{limit} for this tokenizer")
        mask[v] = True
    return mask


class AutomatonConstraint(DecodeConstraint):
    """Forces well-formed automaton encodings.

    Parameters
    ----------
    tokenizer : AutomatonTokenizer
    n_states, n_letters : int, iterable of int, or None
        A number forces that header; a collection allows any of its members;
        None lets the decoder choose any size the tokenizer knows. After the
        header only state tokens ``< n`` are allowed for exactly ``n*k`` steps,
        then EOS, then PAD.

    Examples
    --------
    >>> from seqvae.tokenizers import AutomatonTokenizer
    >>> tok = AutomatonTokenizer(5, 2)
    >>> c = tok.constraint(n_states=3, n_letters=2)
    >>> s = c.start(1)
    >>> tok.tokens(np.flatnonzero(c.allowed(s)[0]))
    ['<n3>']
    >>> s = c.advance(c.advance(s, [tok.n_id(3)]), [tok.k_id(2)])
    >>> tok.tokens(np.flatnonzero(c.allowed(s)[0]))
    ['0', '1', '2']
    """

    def __init__(self, tokenizer: "AutomatonTokenizer", n_states=None, n_letters=None):
        self.tokenizer = tokenizer
        self.vocab_size = tokenizer.vocab_size
        self.n_mask = _size_set(n_states, tokenizer.max_states, "n_states")
        self.k_mask = _size_set(n_letters, tokenizer.max_letters, "n_letters")
        t = tokenizer
        v = self.vocab_size
        self._n_row = np.zeros(v, dtype=bool)
        self._n_row[t.n_offset:t.n_offset + t.max_states] = self.n_mask[1:]
        self._k_row = np.zeros(v, dtype=bool)
        self._k_row[t.k_offset:t.k_offset + t.max_letters] = self.k_mask[1:]
        # _state_rows[n] allows the state tokens 0..n-1
        self._state_rows = np.zeros((t.max_states + 1, v), dtype=bool)
        for n in range(1, t.max_states + 1):
            self._state_rows[n, t.state_offset:t.state_offset + n] = True
        self._eos_row = np.zeros(v, dtype=bool)
        self._eos_row[t.eos_id] = True
        self._pad_row = np.zeros(v, dtype=bool)
        self._pad_row[t.pad_id] = True

    def allowed(self, state: ConstraintState) -> np.ndarray:
        pos, n, k, fin = state.pos, state.n_states, state.n_letters, state.finished
        out = np.empty((len(pos), self.vocab_size), dtype=bool)
        phase_n = pos == 0
        phase_k = pos == 1
        body_len = n * k
        phase_state = (pos >= 2) & (pos < 2 + body_len)
        phase_eos = (pos >= 2) & (pos == 2 + body_len) & ~fin
        out[phase_n] = self._n_row
        out[phase_k] = self._k_row
        out[phase_state] = self._state_rows[n[phase_state]]
        out[phase_eos] = self._eos_row
        out[fin] = self._pad_row
        return out

    def advance(self, state: ConstraintState, tokens) -> ConstraintState:
        tokens = self._allowed_tokens(state, tokens)
        t = self.tokenizer
        new = state.index(np.arange(len(state)))
        live = ~state.finished
        set_n = live & (state.pos == 0)
        new.n_states[set_n] = tokens[set_n] - t.n_offset + 1
        set_k = live & (state.pos == 1)
        new.n_letters[set_k] = tokens[set_k] - t.k_offset + 1
        new.finished |= live & (tokens == t.eos_id)
        new.pos[live] += 1
        return new

    def max_steps(self) -> int:
        n = int(np.flatnonzero(self.n_mask).max())
        k = int(np.flatnonzero(self.k_mask).max())
        return n * k + 3

    def to_spec(self) -> dict:
        """The sizes this constraint allows (JSON-safe)."""
        return {"n_states": np.flatnonzero(self.n_mask).tolist(),
                "n_letters": np.flatnonzero(self.k_mask).tolist()}


class StringConstraint(DecodeConstraint):
    """Keeps string decodes well-formed: no PAD, BOS or ``<unk>`` before EOS, no EOS
    before ``min_len`` tokens, and EOS forced after ``max_len`` tokens (then PAD).

    Every walk through it decodes; whether the string is *valid* is the domain's
    business.

    >>> from seqvae.tokenizers import CharTokenizer
    >>> tok = CharTokenizer.fit(["ab"])
    >>> c = StringConstraint(tok, max_len=1)
    >>> s = c.advance(c.start(1), [tok.encode("a")[1]])
    >>> tok.tokens(np.flatnonzero(c.allowed(s)[0]))
    ['<eos>']
    """

    def __init__(self, tokenizer, max_len: int, min_len: int = 0):
        if int(max_len) < 0:
            raise TokenizerError("max_len must be non-negative")
        if not 0 <= int(min_len) <= int(max_len):
            raise TokenizerError("min_len must lie between 0 and max_len")
        self.tokenizer = tokenizer
        self.max_len = int(max_len)
        self.min_len = int(min_len)
        self.vocab_size = tokenizer.vocab_size
        v = self.vocab_size
        self._free = np.ones(v, dtype=bool)
        # EOS is added back per row once min_len tokens stand.
        self._free[[tokenizer.pad_id, tokenizer.bos_id, tokenizer.unk_id, tokenizer.eos_id]] = False
        self._eos_row = np.zeros(v, dtype=bool)
        self._eos_row[tokenizer.eos_id] = True
        self._pad_row = np.zeros(v, dtype=bool)
        self._pad_row[tokenizer.pad_id] = True

    def allowed(self, state: ConstraintState) -> np.ndarray:
        out = np.empty((len(state), self.vocab_size), dtype=bool)
        out[:] = self._free
        out[state.pos >= self.min_len, self.tokenizer.eos_id] = True
        out[state.pos >= self.max_len] = self._eos_row
        out[state.finished] = self._pad_row
        return out

    def advance(self, state: ConstraintState, tokens) -> ConstraintState:
        tokens = self._allowed_tokens(state, tokens)
        new = state.index(np.arange(len(state)))
        live = ~state.finished
        new.finished |= live & (tokens == self.tokenizer.eos_id)
        new.pos[live] += 1
        return new

    def max_steps(self) -> int:
        return self.max_len + 1
