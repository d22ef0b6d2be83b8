"""Typed errors raised by the public functions of :mod:`automata`.

Every public function validates its input and raises one of these; the
numba kernels underneath never check anything.
"""
from __future__ import annotations

__all__ = [
    "AutomatonError", "FormatError", "NotSynchronizingError", "ResourceLimitError",
    "MemoryBudgetExceeded", "TimeLimitExceeded",
]


class AutomatonError(ValueError):
    """An automaton (or its description) is malformed."""


class FormatError(AutomatonError):
    """Text could not be parsed as an automaton; names the line and the token."""

    def __init__(self, message: str, *, line: int | None = None, token: str | None = None):
        self.line = line
        self.token = token
        where = []
        if line is not None:
            where.append(f"line {line}")
        if token is not None:
            where.append(f"token {token!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class NotSynchronizingError(AutomatonError):
    """The automaton has no reset word."""


class ResourceLimitError(RuntimeError):
    """A computation stopped because it went over a limit the caller set."""


class MemoryBudgetExceeded(ResourceLimitError):
    """The search would need more memory than its budget allows."""


class TimeLimitExceeded(ResourceLimitError):
    """The search ran past its time limit."""
