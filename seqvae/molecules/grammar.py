"""A decode constraint that keeps SMILES strings syntactically whole.

:class:`SmilesGrammarConstraint` follows, per row of a batched decode, the part
of the SMILES grammar that a left-to-right decoder most often breaks: branch
depth and the branch points of open branches, which ring-closure labels are open and
which atom opened each, the current atom and its chain neighbour, and the class of
the previous token. Under it a decoder cannot emit

* ``)`` at depth 0, right after ``(`` or after a bond; ``(`` at the start, right
  after ``(`` or after a bond;
* a bond that is not followed by an atom (or, right after an atom, a ring label);
* a ring label after ``)``, ``(``, ``.`` or at the start, or one that closes on
  the atom that opened it (``C11``), on that atom's chain neighbour (``C1C1``: the
  two are bonded already), or on an atom that a ring of the same opener closed on
  already (``C12CC12``: a second bond between one pair of atoms);
* EOS while a branch or ring label is open, or right after a bond, ``(`` or ``.``;
* a token after which the structure can no longer be closed within ``max_len``
  tokens: when the remaining steps are just enough, only the tokens of a
  shortest completion are left (counted exactly, so a real SMILES of exactly
  ``max_len`` tokens still passes).

It is a syntax check only: valences, aromaticity (kekulization) and chirality
remain RDKit's business. It is meant never to forbid a SMILES string RDKit
writes: the tests teacher-force canonical, Kekulé and random spellings of real
molecules through it.

It is registered as the grammar of the ``"smiles"`` tokenizer pattern
(:func:`seqvae.constraints.register_grammar`); the engine's
:func:`seqvae.constraints.grammar_constraint` picks it for a SMILES regex tokenizer.
"""
from __future__ import annotations

import numpy as np

from seqvae.constraints import ConstraintState, DecodeConstraint, register_grammar
from seqvae.errors import TokenizerError

__all__ = ["SmilesGrammarConstraint", "token_kinds"]

#: Atoms of the SMILES organic subset (written without brackets), aromatic forms included.
ORGANIC_ATOMS = frozenset({"B", "C", "N", "O", "P", "S", "F", "Cl", "Br", "I",
                           "b", "c", "n", "o", "p", "s", "*"})
BONDS = frozenset({"-", "=", "#", "$", ":", "/", "\\"})

# Token kinds.
OTHER, ATOM, RING, BOND, OPEN, CLOSE, DOT = range(7)

# Classes of the previous token (the state column PREV). A bond right after an atom
# or ring label may be followed by a ring label ("C=1"); a bond right after "(" or
# ")" may not (ring bonds come before branches in the grammar).
P_START, P_ATOM, P_RING, P_BOND_RING, P_BOND_ATOM, P_OPEN, P_CLOSE, P_DOT = range(8)
# State columns: branch depth, previous class, the current atom's index, the index of
# the atom it is bonded to along the chain, the atoms so far; then per ring label the
# atom that opened it (closed: _NONE), per ring label the opener of the ring it closed
# on the current atom (_NONE: none), then the branch points of open branches.
_DEPTH, _PREV, _CUR, _PRED, _ATOMS = range(5)
_FIXED = 5
_NONE = -1  # no atom
_NEW = -2   # an atom not yet written (no ring names it)


def token_kinds(vocab) -> tuple[np.ndarray, list[int]]:
    """The kind of every token name (OTHER, ATOM, RING, BOND, OPEN, CLOSE, DOT), and the
    ids of the ring-closure labels (digits and ``%nn``) in vocabulary order.

    >>> kinds, rings = token_kinds(["<pad>", "C", "1", "(", ")", "=", "[nH]", "%10", "X"])
    >>> kinds.tolist(), rings
    ([0, 1, 2, 4, 5, 3, 1, 2, 0], [2, 7])
    """
    kinds = np.full(len(vocab), OTHER, dtype=np.int64)
    rings = []
    for i, tok in enumerate(vocab):
        if tok in ORGANIC_ATOMS or (len(tok) > 2 and tok[0] == "[" and tok[-1] == "]"):
            kinds[i] = ATOM
        elif (len(tok) == 1 and tok.isdigit()) or (len(tok) == 3 and tok[0] == "%"
                                                   and tok[1:].isdigit()):
            kinds[i] = RING
            rings.append(i)
        elif tok in BONDS:
            kinds[i] = BOND
        elif tok == "(":
            kinds[i] = OPEN
        elif tok == ")":
            kinds[i] = CLOSE
        elif tok == ".":
            kinds[i] = DOT
    return kinds, rings


class SmilesGrammarConstraint(DecodeConstraint):
    """Keeps every decode a syntactically complete SMILES string of at most ``max_len``
    tokens (see the module docstring for the rules).

    Parameters
    ----------
    tokenizer : RegexTokenizer
        A SMILES tokenizer (ids 0..3 are ``<pad> <bos> <eos> <unk>``).
    max_len : int
        Tokens before EOS at most.

    Examples
    --------
    >>> from seqvae.tokenizers import RegexTokenizer
    >>> tok = RegexTokenizer.fit(["C1CC(=O)C1", "CN"])
    >>> c = SmilesGrammarConstraint(tok, max_len=10)
    >>> s = c.start(1)
    >>> for t in tok.encode("C1CC(")[1:-1]:
    ...     s = c.advance(s, [t])
    >>> tok.tokens(np.flatnonzero(c.allowed(s)[0]))   # an atom or a bond after "("
    ['=', 'C', 'N', 'O']
    """

    def __init__(self, tokenizer, max_len: int):
        if int(max_len) < 1:
            raise TokenizerError("the SMILES grammar needs max_len >= 1")
        self.tokenizer = tokenizer
        self.max_len = int(max_len)
        self.vocab_size = tokenizer.vocab_size
        kinds, rings = token_kinds(tokenizer.vocab)
        for special in (tokenizer.pad_id, tokenizer.bos_id, tokenizer.eos_id, tokenizer.unk_id):
            kinds[special] = OTHER
        if not (kinds == ATOM).any():
            raise TokenizerError("the SMILES grammar needs at least one atom token")
        self._kinds = kinds
        self._ring_ids = np.asarray(rings, dtype=np.int64)
        # A "(" that can never be closed would trap a row: without ")" no "(" either.
        self._has_close = bool((kinds == CLOSE).any())
        self._eos = tokenizer.eos_id
        self._pad = tokenizer.pad_id
        self._last_allowed = None

    @property
    def n_labels(self) -> int:
        """Ring-closure labels of the vocabulary (at most this many rings open at once)."""
        return int(self._ring_ids.size)

    def start(self, batch_size: int) -> ConstraintState:
        state = super().start(batch_size)
        L = self.n_labels
        # A branch opens at most every other token, so max_len bounds the depth.
        state.extra = np.full((len(state), _FIXED + 2 * L + self.max_len), _NONE,
                              dtype=np.int64)
        state.extra[:, _DEPTH] = 0
        state.extra[:, _PREV] = P_START
        state.extra[:, _ATOMS] = 0
        return state

    def _columns(self, x: np.ndarray):
        L = self.n_labels
        return (x[:, _FIXED:_FIXED + L], x[:, _FIXED + L:_FIXED + 2 * L],
                _FIXED + 2 * L)

    @staticmethod
    def _closing(depth, openers, mult, bonded, cur, pred, *, y0, anchors, base):
        """Tokens of the shortest completion (EOS not counted) of rows in this situation.

        ``openers`` (B, L): the atom that opened each ring label (closed: negative);
        ``mult``: how many open rings that label's opener has; ``bonded``: whether a ring
        of that opener closed on the current atom already; ``anchors`` (B, A): the atoms
        the first new atom may bond to (the current atom, or a branch point reached by
        closing branches first; ``_NONE``: none, after "."); ``base`` (B,): atoms that
        must come anyway.

        Every open ring needs its label once more and every branch its ")". Atoms: a
        ring may close on the current atom (``y0``: a ring label may come next) unless
        that atom or its chain neighbour opened it, or a ring of the same opener closed
        there already (two ring bonds between one pair of atoms); on the first new atom
        unless its anchor opened it (they are bonded); on any later one. Rings of one
        opener close on distinct atoms. So with a chain of new atoms the count is the
        most, over the openers, of their open rings less what the current atom takes,
        plus one for the anchor's own, with the best anchor.
        """
        is_open = openers >= 0
        avail0 = (y0[:, None] & is_open & (openers != cur[:, None])
                  & (openers != pred[:, None]) & ~bonded)
        need = np.where(is_open, mult - avail0, -1)          # new atoms each ring's opener needs
        most = np.maximum(base, need.max(1, initial=0))
        own = is_open[:, :, None] & (openers[:, :, None] == anchors[:, None, :])
        anchor_need = np.where(own, need[:, :, None], -1).max(1, initial=-1) + 1  # (B, A)
        atoms = np.maximum(most[:, None], anchor_need).min(1)
        return depth + is_open.sum(1) + atoms

    def allowed(self, state: ConstraintState) -> np.ndarray:
        cached = self._last_allowed
        if cached is not None and cached[0] is state:
            return cached[1].copy()
        x = state.extra
        n = len(state)
        depth, prev, cur, pred = x[:, _DEPTH], x[:, _PREV], x[:, _CUR], x[:, _PRED]
        openers, partners, stack0 = self._columns(x)
        is_open = openers >= 0
        r = is_open.sum(1)
        same = (openers[:, :, None] == openers[:, None, :]) & is_open[:, None, :]
        mult = same.sum(2)
        bonded = (openers[:, :, None] == partners[:, None, :]).any(2)
        unbonded = np.zeros_like(bonded)
        after_atom = (prev == P_ATOM) | (prev == P_RING)
        chain_end = after_atom | (prev == P_CLOSE)  # an atom's bonds may be complete here
        yes, no = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        zero, one = np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)
        none = np.full(n, _NONE, dtype=np.int64)
        # The branch points of open branches: after a ring label (or with ")" next) the
        # chain may go on from any of them once the branches above it are closed.
        levels = max(int(depth.max(initial=0)), 1)
        points = x[:, stack0:stack0 + levels]
        inside = np.arange(levels)[None, :] < depth[:, None]
        free = np.concatenate([cur[:, None], np.where(inside, points, cur[:, None])], 1)
        top = x[np.arange(n), stack0 + np.maximum(depth - 1, 0)]
        # after ")": the branch point it returns to, and the ones below it
        below = np.arange(levels)[None, :] < (depth - 1)[:, None]
        free_after_close = np.concatenate([top[:, None], np.where(below, points, top[:, None])],
                                          1)
        # After the next token the row must still close within the steps left.
        budget = self.max_len - state.pos - 1

        def fits(d, op, m, bo, c, p, **how):
            return self._closing(d, op, m, bo, c, p, **how) <= budget

        # A new atom: the chain goes on from it (it opened no ring, so it is the best anchor).
        atom_ok = fits(depth, openers, mult, unbonded, _NEW + zero,
                       np.where((prev == P_START) | (prev == P_DOT), _NONE, cur), y0=yes,
                       anchors=(_NEW + zero)[:, None], base=zero)
        # A bond after an atom may carry a ring closure (then no atom must follow it, as
        # long as some open ring may close here); one after "(" or ")" needs an atom.
        closable = (is_open & (openers != cur[:, None]) & (openers != pred[:, None])
                    & ~bonded)
        ring_next = closable.any(1)
        bond_ring_ok = fits(depth, openers, mult, bonded, cur, pred, y0=yes,
                            anchors=np.where(ring_next[:, None], free, cur[:, None]),
                            base=(~ring_next).astype(np.int64))
        bond_atom_ok = fits(depth, openers, mult, unbonded, cur, none, y0=no,
                            anchors=cur[:, None], base=one)
        ok = {
            ATOM: atom_ok,
            BOND: (after_atom & bond_ring_ok)
            | (((prev == P_OPEN) | (prev == P_CLOSE)) & bond_atom_ok),
            OPEN: chain_end & self._has_close
            & fits(depth + 1, openers, mult, unbonded, cur, none, y0=no,
                   anchors=cur[:, None], base=one),
            CLOSE: chain_end & (depth > 0)
            & fits(depth - 1, openers, mult, unbonded, top, none, y0=no,
                   anchors=free_after_close, base=(r > 0).astype(np.int64)),
            DOT: chain_end
            & fits(depth, openers, mult, unbonded, cur, none, y0=no,
                   anchors=none[:, None], base=one),
        }
        out = np.zeros((n, self.vocab_size), dtype=bool)
        for kind, rows in ok.items():
            out[:, self._kinds == kind] = rows[:, None]
        if self.n_labels:
            ring_prev = after_atom | (prev == P_BOND_RING)
            # Opening: any closed label gives the same situation, one more ring of `cur`.
            at_cur = is_open & (openers == cur[:, None])
            h = at_cur.sum(1)
            opened = fits(depth, np.concatenate([openers, cur[:, None]], 1),
                          np.concatenate([mult + at_cur, (h + 1)[:, None]], 1),
                          np.concatenate([bonded, no[:, None]], 1), cur, pred,
                          y0=yes, anchors=free, base=zero)
            rings = np.where(is_open, False, (ring_prev & opened)[:, None])
            for j in np.flatnonzero(closable.any(0)):
                # Closing j: its opener has one ring fewer and is bonded here from now on.
                op = openers.copy()
                op[:, j] = _NONE
                same_j = openers == openers[:, j:j + 1]
                fit = fits(depth, op, mult - same_j, bonded | same_j, cur, pred,
                           y0=yes, anchors=free, base=zero)
                rings[:, j] |= closable[:, j] & ring_prev & fit
            out[:, self._ring_ids] = rings
        out[:, self._eos] = chain_end & (depth == 0) & (r == 0)
        fin = state.finished
        out[fin] = False
        out[fin, self._pad] = True
        # advance() checks its tokens against allowed() of the same state: keep the answer.
        self._last_allowed = (state, out)
        return out.copy()

    def advance(self, state: ConstraintState, tokens) -> ConstraintState:
        tokens = self._allowed_tokens(state, tokens)
        new = state.index(np.arange(len(state)))
        live = ~state.finished
        kind = np.where(live, self._kinds[tokens], OTHER)
        x = new.extra
        prev = state.extra[:, _PREV]
        after_atom = (prev == P_ATOM) | (prev == P_RING)
        L = self.n_labels
        op0, pa0, stack0 = _FIXED, _FIXED + L, _FIXED + 2 * L

        atom = np.flatnonzero(kind == ATOM)
        anchored = ~((prev[atom] == P_START) | (prev[atom] == P_DOT))
        x[atom, _PRED] = np.where(anchored, x[atom, _CUR], _NONE)
        x[atom, _CUR] = x[atom, _ATOMS]
        x[atom, _ATOMS] += 1
        x[atom, _PREV] = P_ATOM
        x[atom, pa0:pa0 + L] = _NONE
        bond = kind == BOND
        x[bond, _PREV] = np.where(after_atom[bond], P_BOND_RING, P_BOND_ATOM)
        opening = np.flatnonzero(kind == OPEN)
        x[opening, stack0 + x[opening, _DEPTH]] = x[opening, _CUR]
        x[opening, _DEPTH] += 1
        x[opening, _PREV] = P_OPEN
        closing = np.flatnonzero(kind == CLOSE)
        x[closing, _DEPTH] -= 1
        # The chain goes on from the branch point; its own neighbour and ring partners
        # no longer matter (no ring label may follow ")").
        x[closing, _CUR] = x[closing, stack0 + x[closing, _DEPTH]]
        x[closing, _PRED] = _NONE
        x[closing, pa0:pa0 + L] = _NONE
        x[closing, _PREV] = P_CLOSE
        dot = kind == DOT
        x[dot, _PREV] = P_DOT
        ring = np.flatnonzero(kind == RING)
        if ring.size:
            label = np.searchsorted(self._ring_ids, tokens[ring])
            was_open = x[ring, op0 + label] >= 0
            x[ring, pa0 + label] = np.where(was_open, x[ring, op0 + label], x[ring, pa0 + label])
            x[ring, op0 + label] = np.where(was_open, _NONE, x[ring, _CUR])
            x[ring, _PREV] = P_RING
        new.finished |= live & (tokens == self._eos)
        new.pos[live] += 1
        return new

    def max_steps(self) -> int:
        return self.max_len + 1


register_grammar("smiles", SmilesGrammarConstraint)
