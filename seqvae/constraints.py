"""Decode constraints: which tokens a decoder may emit, step by step, for a whole batch.

A :class:`DecodeConstraint` keeps every row of a batched decode on sequences its
tokenizer can decode: :class:`StringConstraint` here (no special tokens before
EOS, between ``min_len`` and ``max_len`` tokens), an application's own
(:class:`seqvae.hunt.constraint.AutomatonConstraint`: a size header, then exactly
n*k states < n, then EOS), or a grammar looked up by the tokenizer's pattern
(:func:`grammar_constraint`; the molecules application registers SMILES's). The decoders of
:mod:`seqvae.decode` mask their logits with :meth:`DecodeConstraint.allowed`.
Constraints read a tokenizer's ids and sizes; they never import a tokenizer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seqvae.applications import load_builtin
from seqvae.errors import DecodingError, TokenizerError

__all__ = ["ConstraintState", "DecodeConstraint", "StringConstraint", "GRAMMARS",
           "register_grammar", "grammar_constraint"]


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


#: Grammar constraint classes by the name of the tokenizer pattern they read
#: (:data:`seqvae.tokenizers.PATTERNS`), filled by :func:`register_grammar`.
GRAMMARS: dict[str, type] = {}


def register_grammar(pattern_name: str, cls: type) -> None:
    """Make ``cls(tokenizer, max_len)`` the grammar of regex tokenizers whose pattern is
    registered under ``pattern_name`` (the molecules application registers ``"smiles"``)."""
    GRAMMARS[pattern_name] = cls


def grammar_constraint(tokenizer, max_len: int) -> DecodeConstraint:
    """The registered grammar constraint of ``tokenizer`` (for a SMILES regex tokenizer,
    :class:`seqvae.molecules.grammar.SmilesGrammarConstraint`).

    Raises
    ------
    DecodingError
        The tokenizer has no registered grammar (SELFIES need none: every SELFIES
        string decodes to a molecule).

    >>> from seqvae.tokenizers import RegexTokenizer
    >>> type(grammar_constraint(RegexTokenizer.fit(["CCO"]), 20)).__name__
    'SmilesGrammarConstraint'
    """
    describe = getattr(tokenizer, "to_dict", None)
    name = describe().get("pattern_name") if describe is not None else None
    if getattr(tokenizer, "type_name", None) == "regex" and isinstance(name, str) \
            and name not in GRAMMARS:
        load_builtin("grammar", name)
    if getattr(tokenizer, "type_name", None) != "regex" or name not in GRAMMARS:
        raise DecodingError(f"no decoding grammar for the {type(tokenizer).__name__} of this "
                            f"run (grammars exist for: {', '.join(sorted(GRAMMARS)) or 'smiles'} "
                            "tokenizers)")
    return GRAMMARS[name](tokenizer, max_len)
