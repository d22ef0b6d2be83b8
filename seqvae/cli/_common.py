"""What every CLI command shares: the stderr console, error handling, progress bars.

Results go to stdout; progress, tables meant for people and errors go to stderr.
Exit codes: 0 ok, 1 failure (a limit was hit, a run failed), 2 bad usage or bad input.
"""
from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from typing import Any, Callable

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from automata.errors import AutomatonError, ResourceLimitError, caused_by_interrupt
from seqvae.errors import SeqVAEError
from seqvae.jsonable import json_default

__all__ = [
    "InputError", "err_console", "out_console", "fail", "handle_errors", "print_json",
    "progress_bar", "set_threads", "machine_busy", "THREADS_HELP",
]

#: Human-facing output (tables, progress, errors).
err_console = Console(stderr=True, soft_wrap=True)
#: Machine-facing output (JSON, automata in text form).
out_console = Console(soft_wrap=True)


class InputError(Exception):
    """Bad input from the user that is not an automaton error (missing run dir, bad option mix)."""


def fail(message: str, code: int = 2) -> "typer.Exit":
    """Print a one-line error on stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    return typer.Exit(code)


def handle_errors(func: Callable) -> Callable:
    """Turn the library's typed errors into one-line messages and exit codes, never tracebacks.

    The one place where errors become exit codes: bad input (the typed errors of
    both packages, missing files, bad JSON) exits 2, a limit the user set exits 1,
    Ctrl-C exits 130, and anything else is a bug reported in one line (exit 1).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except (AutomatonError, SeqVAEError, InputError, FileNotFoundError, IsADirectoryError,
                NotADirectoryError, PermissionError, json.JSONDecodeError) as exc:
            raise fail(_one_line(exc), 2) from None
        except ResourceLimitError as exc:
            raise fail(_one_line(exc), 1) from None
        except KeyboardInterrupt:
            err_console.print("interrupted", style="yellow")
            raise typer.Exit(130) from None
        except ValueError as exc:
            # Input errors of third-party code (pandas, numpy) the library let through.
            _maybe_traceback()
            raise fail(_one_line(exc), 2) from None
        except Exception as exc:  # a bug: still one line, the traceback on request
            if caused_by_interrupt(exc):  # Ctrl-C that surfaced through a compiled kernel
                err_console.print("interrupted", style="yellow")
                raise typer.Exit(130) from None
            _maybe_traceback()
            raise fail(f"{type(exc).__name__}: {_one_line(exc)} "
                       f"(set SEQVAE_DEBUG=1 for the traceback)", 1) from None

    return wrapper


def _maybe_traceback() -> None:
    if os.environ.get("SEQVAE_DEBUG"):
        traceback.print_exc()


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        text = f"no such file: {exc.filename}"
    return " ".join(text.split())


THREADS_HELP = ("torch threads (default: the cores, at most 2; 1 when the machine is busy). A "
                "fixed seed gives the same numbers for the same thread count; a different "
                "count changes the float sums")


def machine_busy() -> bool:
    """True when the 1-minute load average is at least the number of cores.

    On a busy machine, OpenMP threads that spin while they wait take cores from
    the processes doing work, and a two-thread training can run tens of times
    slower than one thread; such a machine gets one thread and passive waiting.
    """
    try:
        return os.getloadavg()[0] >= (os.cpu_count() or 1)
    except (OSError, AttributeError):  # no load average on this platform
        return False


def set_threads(threads: int | None, default: int | None = None) -> int:
    """Set torch's thread count for this command: ``threads``, else ``default``, else the
    cores (at most 2). Only the command line sets this process-wide state."""
    import torch

    if threads is None and default is not None:
        threads = default
    elif threads is None:
        threads = min(2, os.cpu_count() or 1)
        if threads > 1 and machine_busy():
            # The count changes results in the last bits; training prints the one it used
            # (torch_threads), and --threads fixes it.
            threads = 1
    if threads < 1:
        raise InputError("--threads must be >= 1")
    # numba's OpenMP threading layer, launched on its first parallel use, sets the OpenMP
    # thread count that torch reads (the same libgomp): launched later, it silently put
    # torch back on two threads mid-command (a hunt's surrogate then trained beside a
    # spinning second thread). Launching it first keeps the count.
    import numba

    numba.get_num_threads()
    torch.set_num_threads(threads)
    return threads


def print_json(obj: Any) -> None:
    """Write ``obj`` as JSON on stdout (plain print: rich would re-wrap long lines)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=json_default) + "\n")
    sys.stdout.flush()


def progress_bar(transient: bool = False) -> Progress:
    """A rich progress bar on stderr with count, elapsed and remaining time."""
    return Progress(
        SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
        MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        console=err_console, transient=transient,
    )
