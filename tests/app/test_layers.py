"""The house rules of docs/architecture.md, read off the code with ``ast`` so the layers cannot drift back.

Every import counts, also one inside a function (a lazy import is still a dependency) and one under
``TYPE_CHECKING`` (a type is a dependency of the reader too).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What each top-level package may import of the project (itself always).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "cameras": {"core"},
    "ingest": {"core", "cameras"},
    "record": {"core", "cameras"},
    "vision": {"core", "cameras", "ingest"},
    "store": {"core", "cameras"},
    "ops_api": {"core", "cameras", "record", "store"},
    "console": {"core"},
    "vigil": {"core", "cameras", "ingest", "record", "vision", "store", "ops_api", "console", "bench", "scenarios"},
    "bench": {"core", "cameras", "ingest", "record", "vision", "store", "ops_api", "vigil", "scenarios"},
    "scenarios": {"core", "cameras", "ingest", "vision", "store"},
}
PROJECT = set(ALLOWED)
MAX_LINES = 420  # "about 400": a module past this is split by duty
# Only the CLI of the application shell may import the benchmarks and the scenarios.
SHELL_MAY_IMPORT_BENCH = "vigil.cli"


def _modules() -> dict[str, Path]:
    found = {}
    for package in PROJECT:
        for path in (ROOT / package).rglob("*.py"):
            found[".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")] = path
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Project modules imported anywhere in the file (absolute and relative imports)."""
    out = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{alias.name}" for alias in node.names)
    return {name for name in out if name.split(".")[0] in PROJECT}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {module: {name for name in _imports(path, module)} for module, path in modules.items()}


def test_each_layer_imports_only_the_layers_below_it(graph: dict[str, set[str]]) -> None:
    wrong = []
    for module, imported in sorted(graph.items()):
        layer = module.split(".")[0]
        for name in sorted(imported):
            target = name.split(".")[0]
            if target != layer and target not in ALLOWED[layer]:
                wrong.append(f"{module} imports {name}")
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def test_only_the_cli_and_tests_import_benchmarks_and_scenarios(graph: dict[str, set[str]]) -> None:
    wrong = [f"{module} imports {name}" for module, imported in sorted(graph.items()) for name in sorted(imported)
             if name.split(".")[0] in ("bench", "scenarios") and module.split(".")[0] == "vigil"
             and not module.startswith(SHELL_MAY_IMPORT_BENCH)]
    assert not wrong, "\n".join(wrong)


def test_sql_lives_in_the_store() -> None:
    """No other runtime package runs SQL itself (the CLI, benchmarks and tests may arrange rows)."""
    wrong = []
    for package in ("core", "cameras", "ingest", "record", "vision", "ops_api", "console"):
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if ".execute(" in line or ".executemany(" in line:
                    wrong.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not wrong, "SQL outside store/:\n" + "\n".join(wrong)


def test_no_import_cycles_between_modules(graph: dict[str, set[str]]) -> None:
    """Module-level cycles make the start-up order matter; a lazy import inside a function is allowed to
    break one, so only module-level imports count here."""
    modules = _modules()
    top: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            top[module].update(name for name in names if name in modules and name != module)
    cycles = []
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for nxt in sorted(top[module]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt):], nxt]) if nxt in trail else f"{module} -> {nxt}")
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[module] = 2

    for module in sorted(top):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_modules_stay_short() -> None:
    long = [f"{path.relative_to(ROOT)}: {n} lines" for package in PROJECT for path in (ROOT / package).rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines (split them by duty):\n" + "\n".join(long)
