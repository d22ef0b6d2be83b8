"""The architecture's rules, each a test that fails when the code breaks it.

* the engine (``seqvae`` outside its applications and its command line) never
  imports an application, and the applications never import each other;
* every name imported from the project's packages resolves: module-level and
  deferred imports, the packages' lazy ``__all__`` exports, and the string
  registries (the built-in application table, the search methods);
* no module is over 500 lines, outside the numba kernel modules;
* no library code sets process-wide state (thread counts, global random seeds,
  environment variables, the matplotlib backend, global log switches).
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.test_imports import PACKAGES, ROOT, import_graph

APPLICATIONS = ("seqvae.hunt", "seqvae.molecules")
SHELL = "seqvae.cli"
MAX_LINES = 500


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _engine(module: str) -> bool:
    return _in(module, "seqvae") and not any(_in(module, p) for p in (*APPLICATIONS, SHELL))


def _sources():
    for pkg in PACKAGES:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def test_the_layout_shows_an_engine_and_two_applications():
    graph = import_graph()
    assert any(_engine(m) for m in graph)
    for app in APPLICATIONS:
        assert app in graph, f"{app} is missing"
    assert "seqvae.hunt.search" in graph and "seqvae.molecules.chem" in graph


def test_the_engine_never_imports_an_application():
    graph = import_graph()
    bad = {m: sorted(d for d in deps if any(_in(d, a) for a in APPLICATIONS))
           for m, deps in graph.items() if _engine(m)}
    assert not {m: d for m, d in bad.items() if d}


def test_the_applications_never_import_each_other():
    graph = import_graph()
    for app in APPLICATIONS:
        others = [a for a in APPLICATIONS if a != app]
        bad = {m: sorted(d for d in deps if any(_in(d, o) for o in others))
               for m, deps in graph.items() if _in(m, app)}
        assert not {m: d for m, d in bad.items() if d}, app


def test_the_rule_checker_sees_a_forbidden_import():
    assert _engine("seqvae.runs") and not _engine("seqvae.hunt.domain")
    assert not _engine("seqvae.cli.model_cmd") and _in("seqvae.molecules.chem", "seqvae.molecules")


# -- every imported name resolves ---------------------------------------------------
def _module_of(path: Path) -> tuple[str, str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    here = ".".join(parts)
    return here, (here if is_package else here.rpartition(".")[0])


def _imported_names():
    """(file:line, module, name or None) of every ``from`` import of a project module."""
    for path in _sources():
        _, package = _module_of(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in PACKAGES:
                        yield f"{path.relative_to(ROOT)}:{node.lineno}", alias.name, None
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                if base.split(".")[0] not in PACKAGES:
                    continue
                for alias in node.names:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", base, alias.name


def _resolves(module: str, name: str | None) -> bool:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return False
    if name is None or name == "*" or hasattr(mod, name):
        return True
    try:
        importlib.import_module(f"{module}.{name}")
        return True
    except ImportError:
        return False


def test_every_imported_name_resolves():
    broken = [f"{where}: {module}{'' if name is None else ' import ' + name}"
              for where, module, name in _imported_names() if not _resolves(module, name)]
    assert not broken, "\n".join(broken)


def test_the_name_checker_sees_a_missing_name():
    assert _resolves("seqvae.runs", "fine_tune")
    assert not _resolves("seqvae.train", "fine_tune")
    assert not _resolves("seqvae.no_such_module", None)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_lazy_export_resolves(package):
    mod = importlib.import_module(package)
    assert mod.__all__
    for name in mod.__all__:
        getattr(mod, name)


def test_every_subpackage_export_resolves():
    for path in _sources():
        if path.name != "__init__.py":
            continue
        module, _ = _module_of(path)
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", []):
            assert hasattr(mod, name), f"{module}.{name}"


def test_every_builtin_application_entry_registers_its_name():
    from seqvae import applications, constraints, data, domains, tokenizers, validators

    registries = {"domain": lambda: domains.DOMAINS, "tokenizer": lambda: tokenizers._TOKENIZERS,
                  "validator": lambda: validators._REGISTRY, "grammar": lambda: constraints.GRAMMARS,
                  "strings_reader": lambda: data.STRINGS_READERS}
    assert set(applications.BUILTIN) == set(registries)
    for kind, table in applications.BUILTIN.items():
        for name, module in table.items():
            assert _engine(module) or any(_in(module, a) for a in APPLICATIONS), module
            assert applications.load_builtin(kind, name)
            assert name in registries[kind](), f"{module} does not register {kind} {name!r}"


def test_every_search_method_class_resolves():
    from seqvae.hunt.search import runner

    for name in runner.METHODS:
        cls = runner.method_class(name)
        assert isinstance(cls, type), name


# -- size and global state ----------------------------------------------------------
def _kernel_module(path: Path) -> bool:
    # numba kernels keep one algorithm's many specialised loops side by side
    return path.parent.name == "automata" and "kernels" in path.stem


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in _sources() if not _kernel_module(p)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


#: Calls that change the whole process: only the command line may make them.
PROCESS_WIDE = {
    "torch.set_num_threads", "torch.set_num_interop_threads", "torch.set_default_dtype",
    "torch.set_default_device", "torch.use_deterministic_algorithms", "np.random.seed",
    "numpy.random.seed", "random.seed", "os.putenv", "os.environ.setdefault",
    "os.environ.update", "os.environ.pop", "matplotlib.use", "RDLogger.DisableLog",
    "RDLogger.logger", "warnings.simplefilter", "warnings.filterwarnings",
    "numba.set_num_threads", "set_num_threads",
}


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _global_state_calls(tree: ast.AST) -> list[tuple[int, str]]:
    """Calls that set process-wide state. Inside a block that restores what it changes
    (``torch.random.fork_rng()``, ``warnings.catch_warnings()``), ``torch.manual_seed`` and
    the warnings filters are local and do not count."""
    found = []

    def visit(node, scoped: bool):
        if isinstance(node, ast.With) and any(
                _dotted(i.context_expr.func).rpartition(".")[2] in ("fork_rng", "catch_warnings")
                for i in node.items if isinstance(i.context_expr, ast.Call)):
            scoped = True
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            local = scoped and (name == "torch.manual_seed" or name.startswith("warnings."))
            if (name in PROCESS_WIDE or name == "torch.manual_seed") and not local:
                found.append((node.lineno, name))
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Subscript) and _dotted(t.value) == "os.environ":
                    found.append((node.lineno, "os.environ[...] ="))
        for child in ast.iter_child_nodes(node):
            visit(child, scoped)

    visit(tree, False)
    return found


def test_library_code_sets_no_process_wide_state():
    offenders = []
    for path in _sources():
        module, _ = _module_of(path)
        if _in(module, SHELL):
            continue  # the command line owns the process
        for line, name in _global_state_calls(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(ROOT)}:{line} {name}")
    assert not offenders, "\n".join(offenders)


def test_the_global_state_checker_sees_each_kind():
    code = ("import torch, os\ntorch.set_num_threads(1)\nos.environ['X'] = '1'\n"
            "torch.manual_seed(0)\nwith torch.random.fork_rng():\n    torch.manual_seed(1)\n"
            "import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n")
    assert [n for _, n in _global_state_calls(ast.parse(code))] == [
        "torch.set_num_threads", "os.environ[...] =", "torch.manual_seed"]


# -- typed errors -------------------------------------------------------------------
#: Built-in exceptions a library function may not raise for bad input: every error the
#: project raises is a SeqVAEError or an AutomatonError (both ValueError subclasses).
UNTYPED = {"ValueError", "TypeError", "RuntimeError", "KeyError", "IndexError", "Exception",
           "OSError", "IOError", "LookupError", "ArithmeticError"}
# (AssertionError stays allowed: it marks a broken internal invariant, a bug, not bad input.)
#: Where a protocol demands a built-in exception: json's ``default`` hook must raise TypeError.
PROTOCOL_RAISES = {("seqvae/jsonable.py", "TypeError")}


def _untyped_raises(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id in UNTYPED:
                out.append((node.lineno, exc.id))
    return out


def test_every_raised_error_is_typed():
    offenders = [f"{path.relative_to(ROOT)}:{line} raise {name}"
                 for path in _sources()
                 for line, name in _untyped_raises(ast.parse(path.read_text(encoding="utf-8")))
                 if (str(path.relative_to(ROOT)), name) not in PROTOCOL_RAISES]
    assert not offenders, "\n".join(offenders)


def test_the_error_checker_sees_a_bare_value_error():
    code = "def f(x):\n    if x:\n        raise ValueError('bad')\n    raise SeqVAEError('ok')\n"
    assert _untyped_raises(ast.parse(code)) == [(3, "ValueError")]


def test_the_architecture_page_names_every_public_module():
    """A module added without a line on docs/architecture.md leaves the next reader lost."""
    import re

    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", page))
    missing = [str(p.relative_to(ROOT)) for p in _sources()
               if not p.stem.startswith("_") and p.stem not in words
               and "cli" not in p.parts and "chem" not in p.parts]
    assert not missing, missing
