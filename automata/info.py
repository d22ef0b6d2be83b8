"""One record of facts about an automaton: what ``seqvae automata info`` prints.

:func:`automaton_info` gathers the exact reset word and Černý ratio
(:func:`automata.sync.cerny_report`, with its independent re-check above the
bound), strong connectivity, the known family it belongs to and its compact form.
"""
from __future__ import annotations

from automata.dfa import DFA, word_to_string
from automata.families import identify_family
from automata.formats import format_compact
from automata.generate import is_strongly_connected
from automata.sync import cerny_report

__all__ = ["automaton_info"]


def automaton_info(dfa: DFA, *, memory_gib: float = 4.0, time_limit: float | None = None) -> dict:
    """Facts about ``dfa`` as a JSON-safe dict.

    Keys: n_states, n_letters, synchronizing, reset_length (None when not
    synchronizing), reset_word (letter indices), reset_word_letters, cerny_bound,
    ratio, exceeds_bound, rechecked, strongly_connected, family, automaton
    (compact form).

    Examples
    --------
    >>> from automata.families import cerny
    >>> info = automaton_info(cerny(4))
    >>> info["reset_length"], info["family"], info["reset_word_letters"]
    (9, 'cerny', 'baaabaaab')
    """
    report = cerny_report(dfa, memory_gib=memory_gib, time_limit=time_limit).to_dict()
    word = report.get("reset_word")
    return {
        **report,
        "reset_word_letters": None if word is None else word_to_string(word),
        "strongly_connected": is_strongly_connected(dfa),
        "family": identify_family(dfa),
        "automaton": format_compact(dfa),
    }
