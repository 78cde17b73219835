"""No import circles in `opsplay` (issue 22, STYLE.md "Avoid: Import circles").

The graph counts every `import` and `from … import` between opsplay's own modules, wherever it
is written: at the top, inside a function, under `if TYPE_CHECKING:`, as
`../shared/tools/import_circles.py` counts them, and every module of `from pkg import a, b`
(the tool keeps the first: it missed `diff.compare` → `diff.sections`). A circle means two rooms are one room or a shared piece
lives in the wrong one: move the piece down, or orchestrate beside. Importing a module's own
package (`opsplay.diff.compare` → `opsplay.diff`) is not an edge.

`KNOWN` lists the circles still being taken apart; a circle found must lie inside one of
them. When one is gone, delete its line: the second test fails until then.
"""

from __future__ import annotations

import ast
from pathlib import Path

import opsplay

PACKAGE = Path(opsplay.__file__).resolve().parent

# Circles still being taken apart; each may shrink, none may grow or be added. None today:
# a new circle fails the first test.
KNOWN: tuple[frozenset[str], ...] = ()


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its `__init__.py`)."""
    out = {}
    for file in sorted(root.rglob("*.py")):
        parts = file.relative_to(root.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module → the package's modules it imports, anywhere in its text."""
    top = next(iter(mods)).split(".")[0]

    def known(name: str) -> str | None:  # `a.b.c` may be module a.b's attribute c
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, file in mods.items():
        here = name.split(".") if file.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from . / from ..x
                    up = here[: len(here) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                # `from a.b import c` imports module a.b.c when there is one, else a.b
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            else:
                continue
            for target in targets:
                if target.split(".")[0] != top:
                    continue
                found = known(target)
                if found and found != top and found != name and not name.startswith(found + "."):
                    graph[name].add(found)
    return graph


def circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    out.append(frozenset(group))
    return out


def _shown(group: frozenset[str]) -> str:
    return " ↔ ".join(sorted(group))


def test_no_new_import_circle() -> None:
    new = [c for c in circles(import_graph(modules())) if not any(c <= k for k in KNOWN)]
    assert not new, (
        "import circle(s) not in the allow-list; move the shared piece down or orchestrate "
        "beside (STYLE.md):\n" + "\n".join(_shown(c) for c in new)
    )


def test_allow_list_is_current() -> None:
    """A circle taken apart leaves the allow-list, so that it cannot come back unseen."""
    found = circles(import_graph(modules()))
    gone = [k for k in KNOWN if not any(c <= k for c in found)]
    assert not gone, "these circles are gone; delete them from KNOWN:\n" + "\n".join(
        _shown(k) for k in gone
    )


def test_the_check_sees_imports_in_functions_and_type_checking(tmp_path: Path) -> None:
    """A circle through an import inside a function or under TYPE_CHECKING is still a circle."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from pkg.sub import b\n")
    (package / "a.py").write_text("def f():\n    from pkg.sub.b import g\n")
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import a\n"
    )
    (package / "c.py").write_text("from pkg import a, d\n")
    (package / "d.py").write_text("import pkg.c\n")
    assert sorted(map(sorted, circles(import_graph(modules(package))))) == [
        ["pkg.a", "pkg.sub.b"],
        ["pkg.c", "pkg.d"],
    ]


# The engine's rooms and what each may never import (their docstrings say why): the one query
# is the ground the readers stand on, the readers open every input, node logs build on both,
# and the pilot's statistics and everything that shows results stand above all three.
NEVER: dict[str, tuple[str, ...]] = {
    "opsplay.query": ("opsplay.readers", "opsplay.nodes", "opsplay.pilot"),
    "opsplay.readers": ("opsplay.nodes", "opsplay.pilot"),
    "opsplay.nodes": ("opsplay.pilot",),
    "opsplay.model": ("opsplay.query", "opsplay.readers", "opsplay.nodes", "opsplay.pilot"),
}
ABOVE_THE_ENGINE = ("opsplay.render", "opsplay.watch", "opsplay.cli", "opsplay.validate")


def _in(module: str, room: str) -> bool:
    return module == room or module.startswith(room + ".")


def test_the_engine_rooms_import_nothing_above_them() -> None:
    graph = import_graph(modules())
    wrong = [
        f"{module} → {target}"
        for room, never in NEVER.items()
        for module, targets in sorted(graph.items())
        if _in(module, room)
        for target in sorted(targets)
        if any(_in(target, above) for above in (*never, *ABOVE_THE_ENGINE))
    ]
    assert not wrong, "a room imports one built on it (move the piece down):\n" + "\n".join(wrong)


def test_no_circle_between_rooms() -> None:
    """Nor between rooms (a top-level module or package): pilot's presentation and watch's
    messages word a time limit with `opsplay.labels`, not through the documents' filters,
    which build on both."""
    room = {name: ".".join(name.split(".")[:2]) for name in modules()}
    graph: dict[str, set[str]] = {}
    for name, targets in import_graph(modules()).items():
        graph.setdefault(room[name], set()).update(
            room[t] for t in targets if room[t] != room[name]
        )
    for targets in graph.values():
        targets &= graph.keys()
    assert not circles(graph), "\n".join(_shown(c) for c in circles(graph))
