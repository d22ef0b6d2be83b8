"""``seqvae automata``: inspect, solve, build, enumerate, convert and draw automata.

Input files may be in the solvers' text format (``K N`` header, state-major
table), the compact one-line form (``a:0120 b:3012``) or JSON; the format is
detected. ``-`` reads standard input.
"""
from __future__ import annotations

import secrets
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from seqvae.cli._common import (
    InputError,
    err_console,
    fail,
    handle_errors,
    out_console,
    print_json,
    progress_bar,
)
from seqvae.cli.census_cmd import census_command
from seqvae.cli.expected_cmd import expected_command

__all__ = ["automata_app", "register"]

automata_app = typer.Typer(
    name="automata",
    help=(
        "Exact work on synchronizing automata: reset lengths and words (exact or heuristic), "
        "the known slowly synchronizing families, random automata, exhaustive census, "
        "format conversion and drawings. FILE arguments accept the solvers' text format "
        "('K N' header then the state-major table), the compact form 'a:0120 b:3012' "
        "(one automaton per line) or JSON; '-' reads stdin."
    ),
    no_args_is_help=True,
    add_completion=False,
)


class Fmt(str, Enum):
    text = "text"
    compact = "compact"
    json = "json"


class Method(str, Enum):
    exact = "exact"
    eppstein = "eppstein"
    beam = "beam"


class Layout(str, Enum):
    circular = "circular"
    spring = "spring"
    kamada_kawai = "kamada_kawai"


_FILE_HELP = "Automata file (text, compact or JSON; format detected); '-' for stdin."


def _read(file: str) -> list:
    from automata.formats import parse_automata, read_automata

    if file == "-":
        return parse_automata(sys.stdin.read())
    return read_automata(file)


def _emit(text: str, output: Optional[Path]) -> None:
    """Write a result to ``output`` atomically, or to stdout."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from automata.atomic import atomic_write_text

    atomic_write_text(output, text)
    err_console.print(f"wrote {output}", highlight=False)


def _check_limits(time_limit: Optional[float], memory: float) -> None:
    if time_limit is not None and time_limit <= 0:
        raise InputError(f"--time-limit must be positive, got {time_limit}")
    if memory <= 0:
        raise InputError(f"--memory must be positive, got {memory}")


def _describe(dfa, index: int, memory: float, time_limit: Optional[float]) -> dict:
    from automata.info import automaton_info

    return {"index": index, **automaton_info(dfa, memory_gib=memory, time_limit=time_limit)}


def _with_progress(items: list, description: str, func) -> list:
    """Apply ``func(item, index)`` to each item; a progress bar on stderr for long lists."""
    if len(items) < 20:
        return [func(item, i) for i, item in enumerate(items)]
    results = []
    with progress_bar(transient=True) as bar:
        task = bar.add_task(description, total=len(items), status="")
        for i, item in enumerate(items):
            results.append(func(item, i))
            bar.advance(task)
    return results


@automata_app.command("info")
@handle_errors
def info_command(
    file: str = typer.Argument(..., help=_FILE_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Seconds per automaton "
                                               "for the exact search."),
    memory: float = typer.Option(4.0, "--memory", help="Memory budget of the exact search, GiB."),
):
    """Exact reset length and word, Černý ratio, strong connectivity and family of each automaton.

    Reads every automaton in FILE.

    JSON keys: index, n_states, n_letters, synchronizing, reset_length (null when not
    synchronizing), reset_word (letter indices), reset_word_letters, cerny_bound, ratio,
    exceeds_bound, rechecked, strongly_connected, family, automaton (compact form).
    """
    _check_limits(time_limit, memory)
    dfas = _read(file)
    rows = _with_progress(dfas, "solving", lambda d, i: _describe(d, i, memory, time_limit))
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} automat{'on' if len(rows) == 1 else 'a'}",
                  caption="n states, k letters, rt shortest reset length, bound (n-1)^2, "
                          "SC strongly connected")
    for column in ("#", "n", "k", "sync", "rt", "bound", "ratio", "SC", "family"):
        table.add_column(column, justify="left" if column in ("sync", "SC", "family") else "right",
                         no_wrap=True)
    table.add_column("shortest reset word", overflow="fold")
    for row in rows:
        word = row["reset_word_letters"]
        if word is not None and len(word) > 200:
            word = word[:197] + "..."
        table.add_row(
            str(row["index"]), str(row["n_states"]), str(row["n_letters"]),
            "yes" if row["synchronizing"] else "no",
            "-" if row["reset_length"] is None else str(row["reset_length"]),
            str(row["cerny_bound"]),
            "-" if row["ratio"] is None else f"{row['ratio']:.3f}",
            "yes" if row["strongly_connected"] else "no",
            row["family"] or "-", word or "-")
    out_console.print(table)
    if any(row["exceeds_bound"] for row in rows):
        err_console.print("[bold red]an automaton exceeds (n-1)^2: re-checked by an independent "
                          "BFS; see the 'rechecked' field[/]")


@automata_app.command("reset-word")
@handle_errors
def reset_word_command(
    file: str = typer.Argument(..., help=_FILE_HELP),
    method: Method = typer.Option(Method.exact, "--method", help="exact: shortest word "
                                  "(bidirectional BFS); eppstein: greedy pair merging; beam: beam "
                                  "search over subsets. Heuristic lengths are upper bounds."),
    width: int = typer.Option(64, "--width", help="Beam width (--method beam)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Seconds per automaton "
                                               "(exact method)."),
    memory: float = typer.Option(4.0, "--memory", help="Memory budget in GiB (exact method). "
                                 "A smaller budget goes depth-first sooner: random n = 300 at "
                                 "0.3 GiB took about 1.15 times as long as at 4 GiB within "
                                 "half the memory."),
    threads: Optional[int] = typer.Option(None, "--threads", help="Threads of the exact search "
                                          "on large levels (default 1; at most the cores, or "
                                          "NUMBA_NUM_THREADS). The word found is the same for "
                                          "any count; 2 threads are 1.3-1.9x faster on large "
                                          "random automata, within the same --memory."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list."),
):
    """A reset word for each automaton in FILE: exact (shortest) or heuristic (upper bound).

    JSON keys: index, n_states, n_letters, method, exact, synchronizing, length (null when not
    synchronizing), upper_bound (true for heuristics), reset_word (letter indices), word (letters).
    """
    _check_limits(time_limit, memory)
    if width < 1:
        raise InputError(f"--width must be at least 1, got {width}")
    if threads is not None and threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    from automata.dfa import word_to_string
    from automata.errors import NotSynchronizingError
    from automata.sync import reset_word

    def one(dfa, index):
        try:
            word = [int(a) for a in reset_word(dfa, method.value, width=width, memory_gib=memory,
                                               time_limit=time_limit, threads=threads)]
        except NotSynchronizingError:
            word = None
        if word is not None and not dfa.is_reset_word(word):
            # A wrong word is a bug, not bad input: fail loudly rather than print it.
            raise fail(f"automaton {index}: the {method.value} method returned a word that "
                       "does not synchronize", 1)
        return {
            "index": index, "n_states": dfa.n_states, "n_letters": dfa.n_letters,
            "method": method.value, "exact": method is Method.exact,
            "synchronizing": word is not None,
            "length": None if word is None else len(word),
            "upper_bound": method is not Method.exact,
            "reset_word": word,
            "word": None if word is None else word_to_string(word),
        }

    dfas = _read(file)
    rows = _with_progress(dfas, f"{method.value} reset words", one)
    if json_out:
        print_json(rows)
        return
    for row in rows:
        if not row["synchronizing"]:
            sys.stdout.write(f"{row['index']}: not synchronizing\n")
        else:
            kind = "shortest" if row["exact"] else "upper bound"
            sys.stdout.write(f"{row['index']}: length {row['length']} ({kind}) {row['word']}\n")


def _family_table() -> None:
    from rich.table import Table

    from automata.families import FAMILIES

    table = Table(title="known families")
    for column in ("name", "automaton", "letters", "states", "reset length"):
        table.add_column(column)
    for fam in FAMILIES.values():
        states = str(fam.fixed_n) if fam.fixed_n is not None else f">= {fam.min_n}"
        table.add_row(fam.name, fam.title, str(fam.n_letters), states, fam.formula_text)
    out_console.print(table)


@automata_app.command("family")
@handle_errors
def family_command(
    name: Optional[str] = typer.Argument(None, help="Family: cerny, wielandt, d_prime, "
                                         "d_double_prime, h_series, kari, roman, binary_3, "
                                         "binary_4. Omit it to list the families."),
    n: Optional[int] = typer.Option(None, "-n", "--n-states", help="Number of states (not "
                                    "needed for single automata such as kari)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write here instead of "
                                          "stdout."),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help="Output format."),
):
    """Write a member of a known slowly synchronizing family (list them without NAME)."""
    if name is None:
        _family_table()
        return
    from automata.families import FAMILIES, build_family
    from automata.formats import format_automata

    dfa = build_family(name, n)
    fam = FAMILIES[name]
    err_console.print(f"{fam.title} with {dfa.n_states} states: reset length "
                      f"{fam.reset_length(dfa.n_states)} ({fam.formula_text})", highlight=False)
    _emit(format_automata([dfa], fmt.value), output)


@automata_app.command("random")
@handle_errors
def random_command(
    n: int = typer.Option(..., "-n", "--n-states", help="Number of states."),
    k: int = typer.Option(2, "-k", "--n-letters", help="Number of letters."),
    count: int = typer.Option(1, "--count", help="How many automata."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (a fresh one is drawn "
                                       "and reported on stderr when omitted)."),
    synchronizing: bool = typer.Option(False, "--synchronizing", help="Only synchronizing "
                                       "automata (uniform among them, by rejection)."),
    strongly_connected: bool = typer.Option(False, "--strongly-connected", help="Only strongly "
                                            "connected automata (exactly uniform among them)."),
    max_tries: int = typer.Option(1000, "--max-tries", help="Rejection attempts per automaton "
                                  "for --synchronizing."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write here instead of "
                                          "stdout."),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help="Output format."),
):
    """Uniformly random automata (optionally synchronizing and/or strongly connected)."""
    if count < 0:
        raise InputError(f"--count must be non-negative, got {count}")
    if seed is None:
        seed = secrets.randbelow(2 ** 32)
        err_console.print(f"seed: {seed}", highlight=False)
    from automata.formats import format_automata
    from automata.generate import as_rng, random_dfa, random_strongly_connected_dfa, random_synchronizing_dfa

    rng = as_rng(seed)

    def draw_one(_item, _index):
        if synchronizing:
            return random_synchronizing_dfa(n, k, rng, max_tries=max_tries,
                                            strongly_connected=strongly_connected)
        if strongly_connected:
            return random_strongly_connected_dfa(n, k, rng)
        return random_dfa(n, k, rng)

    dfas = _with_progress([None] * count, "generating", draw_one)
    if not dfas:
        raise InputError("--count 0: nothing to write")
    _emit(format_automata(dfas, fmt.value), output)


# Registered here, between ``random`` and ``convert``, so the help lists the
# commands in the order they have always had.
automata_app.command("census")(census_command)
automata_app.command("expected")(expected_command)


@automata_app.command("convert")
@handle_errors
def convert_command(
    file: str = typer.Argument(..., help=_FILE_HELP),
    fmt: Fmt = typer.Option(Fmt.compact, "--format", help="Output format."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write here instead of "
                                          "stdout."),
):
    """Convert automata between the text, compact and JSON formats."""
    from automata.formats import format_automata

    _emit(format_automata(_read(file), fmt.value), output)


@automata_app.command("draw")
@handle_errors
def draw_command(
    file: str = typer.Argument(..., help=_FILE_HELP),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Image to write (PNG, or "
                                          "SVG/PDF by suffix)."),
    index: int = typer.Option(0, "--index", help="Which automaton of FILE (0-based)."),
    dot: Optional[Path] = typer.Option(None, "--dot", help="Also export Graphviz DOT here."),
    graphml: Optional[Path] = typer.Option(None, "--graphml", help="Also export GraphML here."),
    layout: Layout = typer.Option(Layout.circular, "--layout", help="Placement of the states."),
    title: Optional[str] = typer.Option(None, "--title", help="Title of the drawing."),
):
    """Draw one automaton as an image and/or export it as DOT or GraphML.

    Letters label the arrows; parallel arrows are merged ('a,b'); self-loops are drawn.
    """
    if output is None and dot is None and graphml is None:
        raise InputError("nothing to write: give -o IMAGE, --dot FILE and/or --graphml FILE")
    dfas = _read(file)
    if not 0 <= index < len(dfas):
        raise InputError(f"--index {index} is out of range: {file} holds {len(dfas)} automata")
    dfa = dfas[index]
    from automata import graph

    if output is not None:
        suffix = output.suffix.lstrip(".").lower()
        if suffix and suffix not in ("png", "svg", "pdf"):
            raise InputError(f"unsupported image type {output.suffix!r}; use .png, .svg or .pdf")
        graph.draw(dfa, output, layout=layout.value, title=title)
        err_console.print(f"wrote {output}", highlight=False)
    if dot is not None:
        graph.write_dot(dfa, dot)
        err_console.print(f"wrote {dot}", highlight=False)
    if graphml is not None:
        graph.write_graphml(dfa, graphml)
        err_console.print(f"wrote {graphml}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach ``seqvae automata`` to the root app."""
    app.add_typer(automata_app, name="automata")
