"""Long numba kernels that Ctrl-C can stop.

A compiled kernel holds the interpreter until it returns: Python handles a
signal only between bytecodes, so Ctrl-C during one census chunk of n = 10
(up to minutes) waited for the chunk to end. A kernel compiled with
``nogil=True`` can instead run in a worker thread while the main thread waits
in short slices, and a KeyboardInterrupt raised in the main thread then acts at
once. The abandoned kernel runs on in its daemon thread until it returns (its
result is dropped) and never holds the process at exit.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

__all__ = ["run_interruptibly"]

#: How long the main thread waits at a time: Ctrl-C acts within this many seconds.
POLL_SECONDS = 0.2


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
