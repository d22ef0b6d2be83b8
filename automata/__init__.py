"""Exact and fast algorithms on synchronizing automata."""
from automata.dfa import DFA, letter_name, word_to_string
from automata.errors import (
    AutomatonError,
    FormatError,
    MemoryBudgetExceeded,
    NotSynchronizingError,
    ResourceLimitError,
    TimeLimitExceeded,
)
from automata.families import (
    FAMILIES,
    Family,
    binary_3,
    binary_4,
    build_family,
    cerny,
    d_double_prime,
    d_prime,
    h_series,
    identify_family,
    kari,
    roman,
    wielandt,
)
from automata.formats import (
    format_automata,
    format_compact,
    format_text,
    from_json_obj,
    parse_automata,
    parse_compact,
    parse_text,
    read_automata,
    to_json_obj,
    write_automata,
)

# Generators and graphs pull in numba and networkx: imported on first use so that
# `import automata` (and every CLI start) stays fast.
_LAZY = {
    "as_rng": "generate", "random_dfa": "generate", "random_synchronizing_dfa": "generate",
    "random_strongly_connected_dfa": "generate", "is_strongly_connected": "generate",
    "random_tables": "generate",
    "to_networkx": "graph", "write_dot": "graph", "write_graphml": "graph", "draw": "graph",
    "automaton_info": "info", "reset_word": "sync", "cerny_bound": "sync",
    "strongly_connected_tables": "generate", "check_tables": "dfa",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automata' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DFA", "letter_name", "word_to_string",
    "AutomatonError", "FormatError", "NotSynchronizingError",
    "ResourceLimitError", "MemoryBudgetExceeded", "TimeLimitExceeded",
    "FAMILIES", "Family", "cerny", "wielandt", "d_prime", "d_double_prime", "h_series", "kari",
    "roman", "binary_3", "binary_4", "build_family", "identify_family",
    "parse_text", "format_text", "parse_compact", "format_compact", "to_json_obj",
    "from_json_obj", "parse_automata", "format_automata", "read_automata", "write_automata",
    *_LAZY,
]
