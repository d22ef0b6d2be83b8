"""The decode constraint of automata: a size header, then exactly n*k state images < n, then EOS."""
from __future__ import annotations

import numpy as np

from seqvae.constraints import ConstraintState, DecodeConstraint
from seqvae.errors import TokenizerError

__all__ = ["AutomatonConstraint"]


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
    >>> from seqvae.hunt.tokenizer import AutomatonTokenizer
    >>> tok = AutomatonTokenizer(5, 2)
    >>> c = tok.constraint(n_states=3, n_letters=2)
    >>> s = c.start(1)
    >>> tok.tokens(np.flatnonzero(c.allowed(s)[0]))
    ['<n3>']
    >>> s = c.advance(c.advance(s, [tok.n_id(3)]), [tok.k_id(2)])
    >>> tok.tokens(np.flatnonzero(c.allowed(s)[0]))
    ['0', '1', '2']
    """

    def __init__(self, tokenizer, n_states=None, n_letters=None):
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
