"""The package's shape, checked from its source (issue 22): layers as folders, no import cycle, small modules.

Every import counts: top-level ones, those under `if TYPE_CHECKING:` and those inside functions. A package's
`__init__` importing its own members inside a function (a lazy dispatch such as `stores.open_store`) is the one
edge left out of the cycle check, as it never runs while the member is being imported.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import cherryconf

PACKAGE = Path(cherryconf.__file__).resolve().parent
# Bottom to top: a module may import its own layer and the layers below it, never one above.
LAYERS = ("ground", "domain", "stores", "formats", "ops", "render", "wizard", "cli")
MAX_LINES = 700
MAX_TOP_LEVEL_MODULES = 12


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "cli" if module == "cherryconf.__main__" else "ground"


def _imports(module: str) -> Iterator[tuple[str, bool]]:
    """(imported module, whether the import sits inside a function) for each cherryconf import of `module`."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                 for n in ast.walk(f)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[:len(package.split(".")) - node.level + 1], *filter(None, [base])])
            # `from pkg import sub` imports the submodule; `from mod import name` the module.
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "cherryconf" and name != module:
                while name not in MODULES:
                    name = name.rpartition(".")[0]
                yield name, id(node) in functions


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for target, in_function in _imports(m):
            lazy_own_member = MODULES[m].name == "__init__.py" and target.startswith(m + ".") and in_function
            if not lazy_own_member:
                edges[m].add(target)
    return edges


def test_no_import_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path[path.index(t):], t]))
            if t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_no_layer_imports_a_higher_one() -> None:
    upward = sorted(f"{m} ({layer(m)}) imports {t} ({layer(t)})" for m, targets in graph().items() for t in targets
                    if LAYERS.index(layer(t)) > LAYERS.index(layer(m)))
    assert upward == []


def test_no_module_over_700_lines() -> None:
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_few_modules_at_the_top_level() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_command_modules_import_only_click_at_the_top() -> None:
    """What a command needs it imports when it runs, so that `--help` and `--version` load no more than click and
    the command line's own small modules (benchmarks/bench_startup.py measures it)."""
    allowed = {"click", "cherryconf.cli", "cherryconf.errors", "cherryconf.i18n"}
    found = {}
    for m, path in MODULES.items():
        if layer(m) != "cli":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # the module's own top level; TYPE_CHECKING blocks and functions do not run then
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names:
                    continue
                if not any(name == a or name.startswith(a + ".") for a in allowed) and name != "cherryconf":
                    found.setdefault(m, []).append(name)
    assert found == {}


def test_every_layer_is_a_folder() -> None:
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} == set(LAYERS) - {"ground"}
