"""Exact and fast algorithms on synchronizing automata."""
from .dfa import DFA, letter_name, word_to_string
from .errors import (AutomatonError, FormatError, MemoryBudgetExceeded, NotSynchronizingError,
                     ResourceLimitError, TimeLimitExceeded)

__all__ = [
    "DFA", "letter_name", "word_to_string",
    "AutomatonError", "FormatError", "NotSynchronizingError",
    "ResourceLimitError", "MemoryBudgetExceeded", "TimeLimitExceeded",
]
