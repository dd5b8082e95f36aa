"""The house's import rules, read from the source itself (every import, top-level or inside a function).

- no import circle among `workbook`, `grader` and `manualml` modules;
- `workbook` imports neither `grader` nor `manualml`;
- `grader` imports no builder code (it reads the sheet's description, never the code that writes it);
- only `manualml.api` imports both `workbook` and `grader`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("workbook", "grader", "manualml")
# Modules that write files (or drive the engines): the grader must not need them to read one.
BUILDERS = ("workbook.builder", "workbook.lecture.book", "workbook.class_set", "workbook.libreoffice",
            "workbook._uno_edit", "workbook.gnumeric", "workbook.package", "workbook.sheet_xml", "workbook.sheet_grid",
            "workbook.gradient_sheet", "workbook.descent_sheet", "workbook.teaching")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:  # `from workbook import model` names the module workbook.model
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, or None. Packages' own __init__ re-exports are edges like any other."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_is_read_from_the_source():
    graph = _graph()
    assert "manualml.cli" in graph and "grader.grade" in graph and "workbook.lecture.template" in graph
    assert "workbook.spec" in graph["workbook.model"] or "workbook.network" in graph["workbook.model"]
    assert "manualml.api" in graph["manualml.cli"]  # imports inside functions count


def test_no_import_circles():
    assert _cycle(_graph()) is None


def test_a_circle_is_found():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]


def test_workbook_imports_neither_grader_nor_manualml():
    bad = {(m, t) for m, targets in _graph().items() if m.startswith("workbook")
           for t in targets if t.startswith(("grader", "manualml"))}
    assert bad == set()


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_grader_imports_no_builder_code():
    """Not even through another module: reading a submission never loads the code that writes workbooks."""
    graph = _graph()
    assert {"workbook.builder", "workbook.package"} <= _reach(graph, "manualml.api")  # the check can see them
    bad = {(m, t) for m in graph if m.startswith("grader")
           for t in _reach(graph, m) if t in BUILDERS or t.startswith("manualml")}
    assert bad == set()


def test_only_the_api_imports_both_sides():
    both = {m for m, targets in _graph().items()
            if any(t.startswith("workbook") for t in targets) and any(t.startswith("grader") for t in targets)
            and not m.startswith("grader")}
    assert both <= {"manualml.api"}
