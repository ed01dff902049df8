"""Names of functions as tables, flame graphs and tooltips show them.

A profile of a program with many modules has many functions named `<module>`
(each module's top-level code), which a table cannot tell apart. Shown, such a
name carries its module: `<module> demo_service` (the file's stem; a package's
`__init__.py` is the package). Only what is shown changes: the profile's names,
what is matched between runs and what is written to files stay the tool's own.
"""

from __future__ import annotations

import re

from pyrometer.core.analysis.classify import frozen_module
from pyrometer.core.model import Profile

MODULE = "<module>"


def module_of(file: str) -> str:
    """The module a code file is, as a user names it ("" when the file names none)."""
    frozen = frozen_module(file)
    if frozen is not None:
        return frozen
    if not file or file.startswith("<") or file == "~":
        return ""
    parts = [p for p in re.split(r"[\\/]", file) if p]
    if not parts:
        return ""
    stem = parts[-1]
    for suffix in (".py", ".pyw", ".pyx", ".pyc"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    parent = parts[-2] if len(parts) > 1 else ""
    if stem == "__init__" and parent:
        return parent
    if stem == "__main__" and parent:
        return f"{parent}.__main__"
    return stem


def display_name(name: str, file: str) -> str:
    """`<module> demo_service` for a module's top-level code, the name itself for any other function."""
    if name != MODULE:
        return name
    module = module_of(file)
    return f"{MODULE} {module}" if module else name


def display_names(profile: Profile) -> list[str]:
    """Every function's shown name, by function id (kept on the profile until it gains functions)."""

    def make() -> list[str]:
        return [display_name(n, f) for n, f in zip(profile.func_name, profile.func_file, strict=True)]

    def update(hit: list[str]) -> list[str]:
        return hit if len(hit) == len(profile.func_name) else make()

    return profile.cached("display_names", make, update)
