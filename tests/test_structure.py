"""The package's shape: layers point one way, and the import graph has no cycle.

The graph is read from the source (``ast``), so imports inside functions and under
``TYPE_CHECKING`` count as much as module-level ones: a cycle hidden behind a late import is
still a cycle. See ``docs/internals.rst`` for the layout these tests hold.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "flask_idguard"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> Iterator[str]:
    """Every ``flask_idguard`` module ``module`` imports, wherever the import statement is."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            names = [target]
            # ``from .pkg import sub``: the submodule is what is imported.
            names += [f"{target}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name in MODULES:
                yield name


GRAPH: dict[str, set[str]] = {m: set(_imports(m)) - {m} for m in MODULES}


def _cycle() -> list[str] | None:
    """One import cycle, as the list of modules along it, or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(GRAPH, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = grey
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if colour[nxt] == grey:
                return stack[stack.index(nxt) :] + [nxt]
            if colour[nxt] == white:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = black
        return None

    for start in sorted(GRAPH):
        if colour[start] == white:
            found = visit(start)
            if found:
                return found
    return None


def test_the_graph_is_read() -> None:
    """A guard against a test that cannot fail: the graph has the edges we know exist."""
    assert "flask_idguard.core.jwt.parse" in GRAPH["flask_idguard.core.jwt"]
    assert "flask_idguard.core.urls" in GRAPH["flask_idguard.core.fetch"]
    assert "flask_idguard.app_state" in GRAPH["flask_idguard.extension"]


def test_the_import_graph_has_no_cycle() -> None:
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_a_cycle_would_be_found() -> None:
    GRAPH["flask_idguard.core.urls"].add("flask_idguard.core.fetch")
    try:
        assert _cycle() is not None
    finally:
        GRAPH["flask_idguard.core.urls"].discard("flask_idguard.core.fetch")


def _external(module: str) -> Iterator[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _under(prefix: str) -> list[str]:
    return [m for m in MODULES if m == prefix or m.startswith(prefix + ".")]


@pytest.mark.parametrize("module", _under("flask_idguard.core"))
def test_the_core_imports_neither_flask_nor_werkzeug(module: str) -> None:
    framework = [n for n in _external(module) if n.split(".")[0] in ("flask", "werkzeug")]
    assert not framework, f"{module} imports {framework}"
    upward = [n for n in GRAPH[module] if not n.startswith("flask_idguard.core")]
    assert not upward, f"{module} imports {upward} from outside the core"


@pytest.mark.parametrize("module", _under("flask_idguard.clients"))
def test_clients_do_not_import_providers(module: str) -> None:
    found = [n for n in GRAPH[module] if n.startswith("flask_idguard.providers")]
    assert not found, f"{module} imports {found}"


@pytest.mark.parametrize("module", _under("flask_idguard.providers"))
def test_providers_do_not_import_the_flask_glue(module: str) -> None:
    glue = {
        f"{PACKAGE}.{name}"
        for name in ("extension", "app_state", "auth", "decorators", "users", "")
    }
    found = sorted(n for n in GRAPH[module] if n.rstrip(".") in glue or n == PACKAGE)
    assert not found, f"{module} imports {found}"


_BESIDE = (f"{PACKAGE}.testing", f"{PACKAGE}.devidp")


@pytest.mark.parametrize("module", [m for m in MODULES if not m.startswith(_BESIDE)])
def test_the_library_never_imports_its_test_helpers_or_the_local_identity_provider(
    module: str,
) -> None:
    found = [n for n in GRAPH[module] if n.startswith(_BESIDE)]
    assert not found, f"{module} imports {found}"


def test_the_state_is_flask_free() -> None:
    framework = [
        n for n in _external(f"{PACKAGE}.state") if n.split(".")[0] in ("flask", "werkzeug")
    ]
    assert not framework


#: A module past this many lines is asking to be split (docs/internals.rst, style.md).
MAX_MODULE_LINES = 400
#: A function past this many lines (docstring included) is asking to be split.
MAX_FUNCTION_LINES = 60


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_stay_small(module: str) -> None:
    source = MODULES[module].read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_MODULE_LINES, f"{module} is past {MAX_MODULE_LINES} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{module}: {', '.join(long)}"
