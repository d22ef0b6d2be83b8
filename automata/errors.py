"""Typed errors raised by the public functions of :mod:`automata`.

Every public function validates its input and raises one of these; the
numba kernels underneath never check anything.
"""
from __future__ import annotations

__all__ = [
    "AutomatonError", "AutomatonTypeError", "FormatError", "NotSynchronizingError",
    "ResourceLimitError",
    "MemoryBudgetExceeded", "TimeLimitExceeded", "caused_by_interrupt",
]


class AutomatonError(ValueError):
    """An automaton (or its description) is malformed, or an argument is out of range."""


class AutomatonTypeError(AutomatonError, TypeError):
    """An argument is of the wrong kind (an unknown keyword, say).

    Also a :class:`TypeError`, which is what Python itself raises for such calls,
    so callers that catch either keep working.
    """


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


def caused_by_interrupt(exc: BaseException) -> bool:
    """True when ``exc`` is, or was raised because of, a KeyboardInterrupt.

    >>> try:
    ...     try:
    ...         raise KeyboardInterrupt
    ...     except KeyboardInterrupt as inner:
    ...         raise SystemError("returned a result with an exception set") from inner
    ... except SystemError as outer:
    ...     caused_by_interrupt(outer)
    True
    >>> caused_by_interrupt(SystemError("a real one"))
    False
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
