"""Shared pieces of the search tests: an evaluator that records what it is
asked, and a search stopped by Ctrl-C part-way (to test resuming)."""
import pytest

from automata import DFA
from automata.canon import canonical_key
from automata.sync import reset_lengths
from seqvae.hunt.search import search_extreme

__all__ = ["CountingEvaluator", "interrupt_search", "interrupted_then_resumed"]


class CountingEvaluator:
    """The exact evaluator, recording every table it is asked about."""

    def __init__(self):
        self.seen = []

    def __call__(self, tables):
        self.seen.extend(canonical_key(DFA(t)) for t in tables)
        return reset_lengths(tables)


def interrupt_search(n, method, *, stop_after, **kwargs):
    """Run ``search_extreme(n, 2, method, **kwargs)`` and press Ctrl-C (a
    KeyboardInterrupt from the progress callback) once more than
    ``stop_after`` evaluations are done; the test then resumes it."""
    done = [0]

    def interrupt(count):
        done[0] += count
        if done[0] > stop_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search_extreme(n, 2, method, progress=interrupt, **kwargs)


def interrupted_then_resumed(n, method, *, stop_after, **kwargs):
    """:func:`interrupt_search`, then the same search resumed from its
    ``out_dir``; returns the resumed result."""
    interrupt_search(n, method, stop_after=stop_after, **kwargs)
    return search_extreme(n, 2, method, resume=True, **kwargs)
