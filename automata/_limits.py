"""The time and memory limits of one exact computation, checked between chunks.

Numba kernels cannot look at the clock or notice Ctrl-C, so every long pass
(the pair graph, the beam, each search step) is cut into chunks driven from
Python; between chunks the caller asks :class:`Limits` whether to go on. A
pending Ctrl-C is raised by the interpreter as soon as a chunk returns.
"""
from __future__ import annotations

import time

from automata.errors import MemoryBudgetExceeded, TimeLimitExceeded

__all__ = ["GIB", "Limits"]

GIB = 1 << 30


class Limits:
    """A memory budget in bytes and an optional wall-clock deadline.

    Parameters
    ----------
    memory_gib : float
        Budget of the computation's large arrays, in GiB.
    time_limit : float or None
        Seconds from now, or None for no deadline.

    Examples
    --------
    >>> limits = Limits(1.0, None)
    >>> limits.budget == 1 << 30, limits.expired()
    (True, False)
    >>> limits.check_memory(2 << 30, "the pair graph")
    Traceback (most recent call last):
    ...
    automata.errors.MemoryBudgetExceeded: the pair graph needs ~2.00 GiB, more than memory_gib=1 GiB; raise memory_gib
    """

    def __init__(self, memory_gib: float, time_limit: float | None):
        self.memory_gib = memory_gib
        self.budget = memory_gib * GIB
        self.time_limit = time_limit
        self.started = time.monotonic()
        self.deadline = None if time_limit is None else self.started + time_limit

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.deadline is not None and time.monotonic() > self.deadline

    def remaining(self) -> float:
        """Seconds left before the deadline (infinite without one)."""
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def check_time(self, what: str) -> None:
        """Raise :class:`TimeLimitExceeded` naming ``what`` once the deadline has passed."""
        if self.expired():
            raise TimeLimitExceeded(
                f"{what} ran past the time limit of {self.time_limit:g} s")

    def check_memory(self, need_bytes: float, what: str) -> None:
        """Raise :class:`MemoryBudgetExceeded` if ``need_bytes`` is over the budget."""
        if need_bytes > self.budget:
            raise MemoryBudgetExceeded(
                f"{what} needs ~{need_bytes / GIB:.2f} GiB, more than "
                f"memory_gib={self.memory_gib:g} GiB; raise memory_gib")
