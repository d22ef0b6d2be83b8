"""Known slowly synchronizing automata: the Černý series and its relatives.

Each constructor returns the automaton exactly as the literature writes it
(0-based states, letter ``a`` first). :data:`FAMILIES` maps a family name to a
:class:`Family` record with its constructor, the formula for the length of its
shortest reset word and the numbers of states it is defined for.

=================  ==============  ===============  =========
name               constructor     reset length     states
=================  ==============  ===============  =========
``cerny``          ``cerny(n)``    ``(n−1)²``       n ≥ 2
``wielandt``       ``wielandt(n)`` ``n²−3n+3``      n ≥ 2
``d_prime``        ``d_prime(n)``  ``n²−3n+4``      n ≥ 3
``d_double_prime`` ``d_double_prime(n)`` ``n²−3n+2`` n ≥ 3
``h_series``       ``h_series(n)`` ``n²−4n+6``      n ≥ 4
``e_series``       ``e_series(n)`` ``n²−3n+2``      n ≥ 3
``f_series``       ``f_series(n)`` ``n²−3n+3``      odd n ≥ 5
``b_series``       ``b_series(n)`` ``(n−1)(n−2)``   odd n ≥ 5
``kari``           ``kari()``      25               6
``roman``          ``roman()``     16               5 (3 letters)
``binary_3``       ``binary_3()``  4                3
``binary_4``       ``binary_4()``  9                4
=================  ==============  ===============  =========

The lower limits are where the formula holds (checked exhaustively by the tests
up to 20 states); below them the construction either degenerates or has a
different reset length.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from automata.dfa import DFA
from automata.errors import AutomatonError

__all__ = [
    "Family", "FAMILIES", "cerny", "wielandt", "d_prime", "d_double_prime", "h_series",
    "e_series", "f_series", "b_series", "kari", "roman", "binary_3", "binary_4", "build_family", "identify_family",
]


def _check_n(name: str, n, min_n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        import numpy as np

        if not isinstance(n, np.integer):
            raise AutomatonError(f"{name}: n must be an integer, got {n!r}")
        n = int(n)
    if n < min_n:
        raise AutomatonError(f"{name}: needs n >= {min_n} states, got {n}")
    return n


def _cycle_then(n: int, last: int) -> list[int]:
    """q -> q+1 for q < n-1, and n-1 -> ``last``."""
    return list(range(1, n)) + [last]


def _cycle_two_tails(n: int, second_last: int, last: int) -> list[int]:
    """q -> q+1 for q <= n-3, n-2 -> ``second_last``, n-1 -> ``last``."""
    return list(range(1, n - 1)) + [second_last, last]


def cerny(n: int) -> DFA:
    """Černý automaton C_n: ``a`` cycles q → q+1 mod n, ``b`` sends n−1 to 0 and fixes the rest.

    Shortest reset word ``(b a^{n-1})^{n-2} b`` of length ``(n−1)²``.

    >>> cerny(4).delta.tolist()
    [[1, 2, 3, 0], [0, 1, 2, 0]]
    """
    n = _check_n("cerny", n, 2)
    return DFA([_cycle_then(n, 0), list(range(n - 1)) + [0]])


def wielandt(n: int) -> DFA:
    """Wielandt automaton W_n: ``a``: q → q+1, n−1 → 1; ``b``: q → q+1, n−1 → 0. rt = n²−3n+3.

    >>> wielandt(5).delta.tolist()
    [[1, 2, 3, 4, 1], [1, 2, 3, 4, 0]]
    """
    n = _check_n("wielandt", n, 2)
    return DFA([_cycle_then(n, 1), _cycle_then(n, 0)])


def d_prime(n: int) -> DFA:
    """D′_n: ``a``: q → q+1 (q ≤ n−3), n−2 → 0, n−1 → 1; ``b``: q → q+1, n−1 → 0. rt = n²−3n+4.

    >>> d_prime(5).delta.tolist()
    [[1, 2, 3, 0, 1], [1, 2, 3, 4, 0]]
    """
    n = _check_n("d_prime", n, 3)
    return DFA([_cycle_two_tails(n, 0, 1), _cycle_then(n, 0)])


def d_double_prime(n: int) -> DFA:
    """D″_n: ``a``: q → q+1 (q ≤ n−3), n−2 → 0, n−1 → 0; ``b``: q → q+1, n−1 → 1. rt = n²−3n+2.

    >>> d_double_prime(5).delta.tolist()
    [[1, 2, 3, 0, 0], [1, 2, 3, 4, 1]]
    """
    n = _check_n("d_double_prime", n, 3)
    return DFA([_cycle_two_tails(n, 0, 0), _cycle_then(n, 1)])


def h_series(n: int) -> DFA:
    """H_n (n ≥ 4): ``a`` swaps 0 and n−1; ``b``: q → q+1 (q ≤ n−3), n−2 → 0, n−1 → 2. rt = n²−4n+6.

    >>> h_series(5).delta.tolist()
    [[4, 1, 2, 3, 0], [1, 2, 3, 0, 2]]
    """
    n = _check_n("h_series", n, 4)
    swap = list(range(n))
    swap[0], swap[n - 1] = n - 1, 0
    return DFA([swap, _cycle_two_tails(n, 0, 2)])


def _check_odd(name: str, n) -> int:
    n = _check_n(name, n, 5)
    if n % 2 == 0:
        raise AutomatonError(f"{name}: is defined for odd n only, got n = {n}")
    return n


def e_series(n: int) -> DFA:
    """E_n (n ≥ 3): ``a``: 0 → 1, 1 → 2, others fixed; ``b``: 0 → 2, 1 → 2, q → q+1
    (2 ≤ q ≤ n−2), n−1 → 0. rt = n²−3n+2 (Ananichev–Gusev–Volkov).

    >>> e_series(5).delta.tolist()
    [[1, 2, 2, 3, 4], [2, 2, 3, 4, 0]]
    """
    n = _check_n("e_series", n, 3)
    a = list(range(n))
    a[0], a[1] = 1, 2
    b = [2, 2] + list(range(3, n)) + [0]
    return DFA([a, b])


def f_series(n: int) -> DFA:
    """F_n (odd n ≥ 5): ``a`` sends n−1 to 1 and fixes the rest; ``b`` cycles q → q+1 mod n.
    rt = n²−3n+3 (Ananichev–Volkov–Zaks).

    >>> f_series(5).delta.tolist()
    [[0, 1, 2, 3, 1], [1, 2, 3, 4, 0]]
    """
    n = _check_odd("f_series", n)
    a = list(range(n))
    a[n - 1] = 1
    return DFA([a, _cycle_then(n, 0)])


def b_series(n: int) -> DFA:
    """B_n, the "bactrian" series (odd n ≥ 5): ``a`` sends n−2 to 0 and n−1 to 1 and fixes the
    rest; ``b`` cycles q → q+1 mod n. rt = (n−1)(n−2) (Ananichev–Volkov–Zaks).

    >>> b_series(5).delta.tolist()
    [[0, 1, 2, 0, 1], [1, 2, 3, 4, 0]]
    """
    n = _check_odd("b_series", n)
    a = list(range(n))
    a[n - 2], a[n - 1] = 0, 1
    return DFA([a, _cycle_then(n, 0)])


def kari() -> DFA:
    """Kari's automaton: 6 states, 2 letters, rt = 25 (the only binary 6-state one besides C_6).

    >>> kari().delta.tolist()
    [[1, 2, 0, 5, 3, 4], [0, 1, 3, 2, 2, 5]]
    """
    return DFA([[1, 2, 0, 5, 3, 4], [0, 1, 3, 2, 2, 5]])


def roman() -> DFA:
    """Roman's automaton: 5 states, 3 letters, rt = 16 = (5−1)².

    >>> roman().n_letters
    3
    """
    return DFA([[1, 2, 1, 3, 4], [2, 1, 0, 3, 4], [0, 4, 3, 2, 1]])


def binary_3() -> DFA:
    """A binary 3-state automaton with rt = 4 = (3−1)² that is not isomorphic to C_3.

    >>> binary_3().delta.tolist()
    [[1, 0, 0], [2, 0, 1]]
    """
    return DFA([[1, 0, 0], [2, 0, 1]])


def binary_4() -> DFA:
    """A binary 4-state automaton with rt = 9 = (4−1)² that is not isomorphic to C_4.

    >>> binary_4().delta.tolist()
    [[0, 2, 1, 1], [3, 1, 0, 2]]
    """
    return DFA([[0, 2, 1, 1], [3, 1, 0, 2]])


@dataclass(frozen=True)
class Family:
    """A known family of synchronizing automata.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"cerny"``.
    title : str
        Name for people, e.g. ``"Černý C_n"``.
    constructor : Callable
        ``constructor(n)`` for series, ``constructor()`` for single automata.
    formula : Callable[[int], int]
        Length of the shortest reset word as a function of ``n``.
    formula_text : str
        The formula as text, e.g. ``"(n-1)^2"``.
    min_n : int
        Smallest number of states for which the family is defined (and the formula holds).
    fixed_n : int or None
        The number of states of a single automaton; None for a series.
    n_letters : int
        Alphabet size.
    odd_only : bool
        The series has members for odd ``n`` only (F_n, B_n).
    """

    name: str
    title: str
    constructor: Callable[..., DFA]
    formula: Callable[[int], int]
    formula_text: str
    min_n: int
    fixed_n: int | None
    n_letters: int
    odd_only: bool = False

    def valid_n(self, n: int) -> bool:
        """Whether the family has a member with ``n`` states."""
        if self.fixed_n is not None:
            return n == self.fixed_n
        return n >= self.min_n and (not self.odd_only or n % 2 == 1)

    @property
    def states_text(self) -> str:
        """The numbers of states it is defined for, as text (``">= 4"``, ``"odd >= 5"``, ``"6"``)."""
        if self.fixed_n is not None:
            return str(self.fixed_n)
        return f"{'odd ' if self.odd_only else ''}>= {self.min_n}"

    def build(self, n: int | None = None) -> DFA:
        """The member with ``n`` states (``n`` may be omitted for a single automaton)."""
        if self.fixed_n is not None:
            if n is not None and n != self.fixed_n:
                raise AutomatonError(
                    f"family {self.name!r} has only n = {self.fixed_n} states, got n = {n}")
            return self.constructor()
        if n is None:
            raise AutomatonError(f"family {self.name!r} needs n (at least {self.min_n})")
        return self.constructor(n)

    def reset_length(self, n: int | None = None) -> int:
        """The length of the shortest reset word of the member with ``n`` states."""
        if n is None:
            if self.fixed_n is None:
                raise AutomatonError(f"family {self.name!r} needs n (at least {self.min_n})")
            n = self.fixed_n
        if not self.valid_n(n):
            raise AutomatonError(f"family {self.name!r} has no member with {n} states")
        return self.formula(n)

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "reset_length": self.formula_text,
                "min_n": self.min_n, "fixed_n": self.fixed_n, "n_letters": self.n_letters,
                "odd_only": self.odd_only}


#: Registry of the known families; order matters for :func:`identify_family`
#: (the first matching family wins where two coincide for small n).
FAMILIES: dict[str, Family] = {
    family.name: family for family in (
        Family("cerny", "Černý C_n", cerny, lambda n: (n - 1) ** 2, "(n-1)^2", 2, None, 2),
        Family("wielandt", "Wielandt W_n", wielandt, lambda n: n * n - 3 * n + 3, "n^2-3n+3",
               2, None, 2),
        Family("d_prime", "D'_n", d_prime, lambda n: n * n - 3 * n + 4, "n^2-3n+4", 3, None, 2),
        Family("d_double_prime", "D''_n", d_double_prime, lambda n: n * n - 3 * n + 2,
               "n^2-3n+2", 3, None, 2),
        Family("h_series", "H_n", h_series, lambda n: n * n - 4 * n + 6, "n^2-4n+6", 4, None, 2),
        Family("e_series", "E_n", e_series, lambda n: n * n - 3 * n + 2, "n^2-3n+2", 3, None, 2),
        Family("f_series", "F_n", f_series, lambda n: n * n - 3 * n + 3, "n^2-3n+3", 5, None, 2,
               odd_only=True),
        Family("b_series", "B_n (bactrian)", b_series, lambda n: (n - 1) * (n - 2), "(n-1)(n-2)",
               5, None, 2, odd_only=True),
        Family("kari", "Kari", kari, lambda n: 25, "25", 6, 6, 2),
        Family("roman", "Roman", roman, lambda n: 16, "16", 5, 5, 3),
        Family("binary_3", "binary n=3, rt 4", binary_3, lambda n: 4, "4", 3, 3, 2),
        Family("binary_4", "binary n=4, rt 9", binary_4, lambda n: 9, "9", 4, 4, 2),
    )
}


def build_family(name: str, n: int | None = None) -> DFA:
    """The member of family ``name`` with ``n`` states.

    >>> build_family("cerny", 3).delta.tolist()
    [[1, 2, 0], [0, 1, 0]]
    """
    try:
        family = FAMILIES[name]
    except KeyError:
        raise AutomatonError(
            f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None
    return family.build(n)


_KEY_CACHE: dict[tuple[str, int], str] = {}


def identify_family(dfa: DFA) -> str | None:
    """The name of the known family ``dfa`` is isomorphic to (states relabelled, letters
    permuted), or None.

    >>> identify_family(cerny(5).relabel([4, 3, 2, 1, 0], [1, 0]))
    'cerny'
    >>> identify_family(DFA([[0, 1], [1, 0]])) is None
    True
    """
    from automata.canon import canonical_key  # late import: canon pulls in numba kernels

    if not isinstance(dfa, DFA):
        raise AutomatonError(f"expected a DFA, got {type(dfa).__name__}")
    n = dfa.n_states
    key = None
    for family in FAMILIES.values():
        if family.n_letters != dfa.n_letters or not family.valid_n(n):
            continue
        cached = _KEY_CACHE.get((family.name, n))
        if cached is None:
            cached = _KEY_CACHE[(family.name, n)] = canonical_key(family.build(n))
        if key is None:
            key = canonical_key(dfa)
        if key == cached:
            return family.name
    return None
