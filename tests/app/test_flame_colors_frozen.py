"""Frozen standard-library modules (``<frozen posixpath>``, ``<frozen importlib._bootstrap>``) are
coloured as the standard library in the flame graph, not as built-in / native code."""

from __future__ import annotations

import cProfile
import importlib
import os
from pathlib import Path

import pytest

from pyrometer.app.flame_colors import FAMILIES, SHADES, package_colors
from pyrometer.core.formats.registry import load_profile


def test_frozen_stdlib_functions_are_coloured_as_the_standard_library(tmp_path: Path) -> None:
    if not os.path.join.__code__.co_filename.startswith("<frozen"):
        pytest.skip("this interpreter does not freeze posixpath (CPython < 3.11)")
    prof = cProfile.Profile()
    prof.enable()
    for i in range(50):
        os.path.join("a", str(i))
    importlib.invalidate_caches()
    prof.disable()
    prof.dump_stats(str(tmp_path / "p.prof"))
    profile = load_profile(tmp_path / "p.prof")
    family = [key for key, *_ in FAMILIES]
    colours = package_colors(profile)
    frozen = [f for f, path in enumerate(profile.func_file) if path.startswith("<frozen ")]
    assert any(profile.func_file[f] == "<frozen posixpath>" for f in frozen)
    for f in frozen:
        assert family[int(colours[f]) // SHADES] == "stdlib", (profile.func_name[f], profile.func_file[f])
    builtin = [f for f, path in enumerate(profile.func_file) if not path]  # C functions (no file) stay native
    assert builtin and all(family[int(colours[f]) // SHADES] == "builtin" for f in builtin)
