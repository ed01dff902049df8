"""Whose code is a file: the user's, the standard library's, an installed package's, or built in.

Used by the "my code only" transform and by colouring. Decisions are cached
per path string because a profile names each file many times.
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
from typing import Literal

FileKind = Literal["user", "stdlib", "site-packages", "builtin"]


def _norm(path: str) -> str:
    return os.path.normcase(os.path.normpath(path)).replace("\\", "/")


@functools.lru_cache(maxsize=1)
def _stdlib_roots() -> tuple[str, ...]:
    roots: set[str] = set()
    for key in ("stdlib", "platstdlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            roots.add(_norm(value))
    for prefix in {sys.base_prefix, sys.prefix, sys.base_exec_prefix}:
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        roots.add(_norm(os.path.join(prefix, "lib", version)))
    return tuple(sorted(roots))


_LIB_MARKERS = ("/site-packages/", "/dist-packages/")


def _is_stdlib_module_path(path: str) -> bool:
    """A relative file name of a standard-library module (``threading.py``, ``asyncio/events.py``).

    Frozen apps (PyInstaller) and zipped standard libraries report modules by
    their path inside the archive; user code run as a script has an absolute
    path (``__main__.__file__`` is absolute since 3.9).
    """
    top = _norm(path).split("/")[0]
    name = top[:-3] if top.endswith(".py") else top
    return bool(name) and name in getattr(sys, "stdlib_module_names", ())


def frozen_module(path: str) -> str | None:
    """The module a `<frozen X>` file name names (`importlib._bootstrap`, `posixpath`), else None."""
    if path.startswith("<frozen ") and path.endswith(">") and len(path) > len("<frozen >"):
        return path[len("<frozen ") : -1]
    return None


@functools.lru_cache(maxsize=65536)
def classify_file(path: str) -> FileKind:
    """Classify a code file name as a profiler reports it."""
    frozen = frozen_module(path)
    if frozen is not None:
        # a standard-library module frozen into the interpreter: <frozen importlib._bootstrap>, <frozen posixpath>
        module = frozen.split(".")[0]
        if module.startswith("_frozen_importlib") or module in getattr(sys, "stdlib_module_names", ()):
            return "stdlib"
    if not path or path.startswith(("<frozen", "<built-in", "~")):
        return "builtin"  # <built-in>, cProfile's "~", a frozen module that is not the standard library's
    if path.startswith("<"):
        return "user"  # <string>, <stdin>, <ipython-input-...>: code the user typed
    if not os.path.isabs(path) and _is_stdlib_module_path(path):
        return "stdlib"
    norm = "/" + _norm(path).lstrip("/")
    if any(m in norm for m in _LIB_MARKERS):
        return "site-packages"
    for root in _stdlib_roots():
        if norm.startswith("/" + root.lstrip("/") + "/"):
            return "stdlib"
    # another interpreter's standard library (profiles come from other machines):
    # .../lib/python3.X/os.py or C:/Python311/Lib/os.py
    parts = norm.split("/")
    for i in range(1, len(parts) - 1):
        part, before = parts[i], parts[i - 1].lower()
        if part.startswith("python") and part[6:7].isdigit() and before in ("lib", "lib64"):
            return "stdlib"
        if part.lower() == "lib" and before.startswith("python") and before[6:7].isdigit():
            return "stdlib"
    return "user"
