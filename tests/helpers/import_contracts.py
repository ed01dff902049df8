"""The layering rules of DESIGN.md as static import contracts (read with `ast`, nothing imported).

A check that imports the modules sees only what runs at import time; an import
inside a function, under `if TYPE_CHECKING:` or through `importlib.import_module("...")`
slips through. These read every import statement of every module instead.

Each contract takes `Module`s (name + source) and returns the violations as
`path:line: module imports target (why)` strings, so a test can feed it a
violating module and see it fail.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# where each import name's sources live in the repository (setuptools' package-dir)
PACKAGE_DIRS = {"pyrometer.core": ROOT / "core", "pyrometer.app": ROOT / "app"}
AGENT = "pyrometer.core.agent"
PANES = "pyrometer.app.panes"
QT = ("PySide6", "shiboken6", "pyqtgraph")
# importable in the target only if the user installed it; the agent imports it inside a function
AGENT_LAZY_ONLY = ("yappi",)


@dataclass(frozen=True)
class Module:
    name: str  # dotted import name, e.g. pyrometer.core.agent.sampler
    path: Path
    source: str

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


@dataclass(frozen=True)
class Import:
    target: str  # the module named by the statement (relative imports resolved)
    names: tuple[str, ...]  # for `from target import a, b`: target.a, target.b (each may be a module)
    line: int
    lazy: bool  # inside a function body: runs only when the function is called

    def candidates(self) -> tuple[str, ...]:
        return (self.target, *self.names)


def modules(package: str, folder: Path | None = None) -> list[Module]:
    """Every module of `package` (a key of PACKAGE_DIRS, or a sub-package of one), from its sources."""
    base = next(p for p in PACKAGE_DIRS if package == p or package.startswith(p + "."))
    root = PACKAGE_DIRS[base] if folder is None else folder
    sub = package[len(base) :].lstrip(".")
    top = root.joinpath(*sub.split(".")) if sub else root
    out = []
    for path in sorted(top.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out.append(Module(".".join([base, *parts]), path, path.read_text()))
    return out


def _resolve(module: Module, level: int, name: str | None) -> str:
    """The absolute name of `from <level dots><name> import ...` written in `module`."""
    if level == 0:
        return name or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    keep = len(package) - (level - 1)
    base = package[: max(keep, 0)]
    return ".".join([*base, name] if name else base)


class _Finder(ast.NodeVisitor):
    def __init__(self, module: Module) -> None:
        self.module = module
        self.depth = 0  # function nesting
        self.found: list[Import] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append(Import(alias.name, (), node.lineno, self.depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = _resolve(self.module, node.level, node.module)
        names = tuple(f"{target}.{a.name}" for a in node.names if a.name != "*")
        self.found.append(Import(target, names, node.lineno, self.depth > 0))

    def visit_Call(self, node: ast.Call) -> None:
        """`importlib.import_module("x")` and `__import__("x")` with a literal name."""
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if called in ("import_module", "__import__") and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                self.found.append(Import(arg.value, (), node.lineno, self.depth > 0))
        self.generic_visit(node)


def imports(module: Module) -> list[Import]:
    finder = _Finder(module)
    finder.visit(ast.parse(module.source, str(module.path)))
    return finder.found


def _within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _where(module: Module, imp: Import) -> str:
    try:
        shown = module.path.relative_to(ROOT)
    except ValueError:
        shown = module.path
    return f"{shown}:{imp.line}: {module.name} imports {imp.target}"


# ---------------------------------------------------------------- the contracts
def agent_violations(mods: Iterable[Module]) -> list[str]:
    """The agent runs inside the target (`python -I`, any CPython 3.9+): the standard library and
    itself only; yappi only inside a function (trace mode imports it when asked, if present)."""
    stdlib = sys.stdlib_module_names
    out = []
    for m in mods:
        for imp in imports(m):
            top = imp.target.split(".")[0]
            if _within(imp.target, [AGENT]) or top in stdlib:
                continue
            if top in AGENT_LAZY_ONLY and imp.lazy:
                continue
            why = "at module level; import it lazily" if top in AGENT_LAZY_ONLY else "not the standard library"
            out.append(f"{_where(m, imp)} ({why})")
    return out


def core_violations(mods: Iterable[Module]) -> list[str]:
    """`pyrometer.core` never imports the app or Qt, not even inside a function."""
    out = []
    for m in mods:
        for imp in imports(m):
            if any(_within(c, ["pyrometer.app", *QT]) for c in imp.candidates()):
                out.append(f"{_where(m, imp)} (core must stay Qt-free and below the app)")
    return out


def _pane_bases(tree: ast.Module) -> Iterator[tuple[str, list[str]]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = [b.attr if isinstance(b, ast.Attribute) else b.id if isinstance(b, ast.Name) else "" for b in node.bases]
            yield node.name, bases


def pane_modules(mods: Iterable[Module]) -> set[str]:
    """Modules that define a pane the window shows: a class derived from `Pane` (directly or through
    a shared base such as `FunctionTablePane`) that no other class derives from.

    Everything else in the package is shared pane infrastructure any pane may import: the `Pane`
    base (base.py), shared bases (table_pane.py), Qt models and roles (*_model.py, model_roles.py).
    """
    classes: dict[str, tuple[str, list[str]]] = {}  # class name -> (module, base names)
    for m in mods:
        for name, bases in _pane_bases(ast.parse(m.source, str(m.path))):
            classes[name] = (m.name, bases)

    def is_pane(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name == "Pane":
            return True
        if name not in classes or name in seen:
            return False
        return any(is_pane(b, seen | {name}) for b in classes[name][1])

    subclassed = {b for _, bases in classes.values() for b in bases}
    return {mod for name, (mod, _) in classes.items() if name != "Pane" and is_pane(name) and name not in subclassed}


def pane_violations(mods: Iterable[Module]) -> list[str]:
    """Panes never import each other (shared state goes through app/document.py's Document):
    no module of the panes package imports a pane module other than itself."""
    mods = list(mods)
    panes = pane_modules(mods)
    out = []
    for m in mods:
        for imp in imports(m):
            hit = [c for c in imp.candidates() if c in panes and c != m.name]
            if hit:
                out.append(f"{_where(m, imp)} (pane {hit[0]} from {m.name}: go through the Document)")
    return out
