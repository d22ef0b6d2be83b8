"""Long numba kernels that Ctrl-C can stop.

A compiled kernel holds the interpreter until it returns: Python handles a
signal only between bytecodes, so Ctrl-C during one census chunk of n = 10
(up to minutes) waited for the chunk to end. A kernel compiled with
``nogil=True`` can instead run in a worker thread while the main thread waits
in short slices, and a KeyboardInterrupt raised in the main thread then acts at
once. The abandoned kernel runs on in its daemon thread until it returns (its
result is dropped) and never holds the process at exit.

A signal can also land while a compiled kernel calls back into Python (numba
unpickles constants that way). The KeyboardInterrupt is then raised inside that
call and the kernel returns with it pending, which Python reports as a chain of
``SystemError: ... returned a result with an exception set`` whose root is the
KeyboardInterrupt. :func:`surface_interrupts` turns such a chain back into the
plain KeyboardInterrupt the user asked for.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator

import numpy as np

from automata.errors import caused_by_interrupt

__all__ = ["run_interruptibly", "run_long", "surface_interrupts"]

#: How long the main thread waits at a time: Ctrl-C acts within this many seconds.
POLL_SECONDS = 0.2
#: Calls on fewer rows than this run directly. A worker thread costs about 0.1 ms,
#: which a search of 89,401 tiny levels (the Černý automaton of n = 300) must not
#: pay at every level; calls this large take tens of milliseconds and more.
LONG_ROWS = 65_536


def run_interruptibly(kernel: Callable[..., Any], *args) -> Any:
    """``kernel(*args)``, run so that a KeyboardInterrupt in the main thread stops the wait.

    ``kernel`` must release the GIL (``nogil=True``) and only write to arrays it was
    given. Off the main thread (a Dask or joblib thread), where no signal arrives, it
    runs directly.

    >>> run_interruptibly(lambda a, b: a + b, 2, 3)
    5
    """
    if threading.current_thread() is not threading.main_thread():
        return kernel(*args)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = kernel(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread as it is
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="numba-kernel", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(POLL_SECONDS)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def run_long(kernel: Callable[..., Any], *args, rows: int | None = None) -> Any:
    """``kernel(*args)``; through :func:`run_interruptibly` when the call is large.

    ``rows`` stands for the work: by default the rows of the first argument (the
    level, family or keys every exact-search kernel walks once or more); a
    caller whose kernel walks two families passes the smaller one. Only the
    work counts, never a large array merely consulted (the stored keys beside
    a one-row level of the Černý automaton). ``kernel`` must release the GIL.

    >>> import numpy as np
    >>> int(run_long(np.sum, np.ones(LONG_ROWS + 1)))
    65537
    """
    if rows is None:
        first = args[0] if args else None
        rows = first.shape[0] if isinstance(first, np.ndarray) and first.ndim else 0
    if rows < LONG_ROWS:
        return kernel(*args)
    return run_interruptibly(kernel, *args)


@contextlib.contextmanager
def surface_interrupts() -> Iterator[None]:
    """Re-raise a Ctrl-C that reached a compiled kernel as a plain KeyboardInterrupt."""
    try:
        yield
    except SystemError as exc:
        if caused_by_interrupt(exc):
            raise KeyboardInterrupt from None
        raise
