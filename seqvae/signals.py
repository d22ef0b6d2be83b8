"""Stopping long work cleanly: Ctrl-C (SIGINT) and SIGTERM hold off until a safe point.

``docker stop``, Slurm and systemd stop a process with SIGTERM, whose default
action kills it at once, losing everything since the last checkpoint. Inside
:func:`deferred_stop` both signals only set a flag; the loop that asked checks
it between steps, writes its checkpoint and raises :class:`KeyboardInterrupt`,
so that the caller's Ctrl-C path (checkpoint, message, exit code 130) serves
both. A second signal means the user will not wait: :class:`ImmediateInterrupt`
is raised at once.

>>> with deferred_stop() as stopped:
...     stopped()
False
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator

__all__ = ["ImmediateInterrupt", "STOP_SIGNALS", "deferred_stop", "sigterm_as_interrupt"]

#: The signals that ask for a clean stop.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ImmediateInterrupt(KeyboardInterrupt):
    """A second stop signal, raised mid-step: the state is not saved (the last checkpoint
    stands)."""


@contextlib.contextmanager
def deferred_stop(signals=STOP_SIGNALS) -> Iterator[Callable[[], bool]]:
    """Hold the stop signals back until the caller asks: yields ``stopped() -> bool``.

    Outside the main thread nothing changes (Python delivers signals to the
    main thread only); a signal the process ignores (``SIG_IGN``, as a shell
    does for SIGINT in background jobs) stays ignored.
    """
    flag = {"hit": False}
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return

    def handler(signum, frame):
        if flag["hit"]:
            raise ImmediateInterrupt
        flag["hit"] = True

    previous = {}
    for sig in signals:
        current = signal.getsignal(sig)
        if current is signal.SIG_IGN:
            continue
        previous[sig] = current
        signal.signal(sig, handler)
    try:
        yield lambda: flag["hit"]
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block SIGTERM raises :class:`KeyboardInterrupt`, as Ctrl-C does.

    For loops that already stop cleanly on Ctrl-C (roll back to the last step
    boundary, write a checkpoint): a ``docker stop`` then saves the same way.
    Outside the main thread, or where SIGTERM is ignored, nothing changes.

    >>> with sigterm_as_interrupt():
    ...     pass
    """
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
