"""Loading a tool-written fixture against its tool's figures, and self weight per leaf function, the figure the importer tests compare with
what the writing tool itself reports (austin-python, go tool pprof, V8/DevTools, pyinstrument)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer.core.formats.registry import detect, load_profile
from pyrometer.core.model import Profile


def self_by_leaf(
    profile: Profile, weights: np.ndarray | None = None, *, with_file: bool = True, keep_zero: bool = False
) -> dict[str, float]:
    """Weight (the samples' own unless `weights` is given) per leaf `name file` (or `name`),
    summed over functions sharing that key; samples without a stack count nowhere, and
    functions with no self weight are left out unless `keep_zero`."""
    keep = profile.samples["stack"] >= 0
    w = (profile.samples["weight"] if weights is None else weights)[keep].astype(np.float64)
    funcs = profile.frames["func"][profile.stacks["frame"][profile.samples["stack"][keep]]]
    out: dict[str, float] = {}
    for fid, value in enumerate(np.bincount(funcs, weights=w, minlength=len(profile.func_name))):
        if value or keep_zero:
            key = f"{profile.func_name[fid]} {profile.func_file[fid]}" if with_file else profile.func_name[fid]
            out[key] = out.get(key, 0.0) + float(value)
    return out


def load_against_figures(path: Path, figures: Path, format_name: str) -> tuple[Profile, dict[str, Any]]:
    """Load a tool-written file, checking it is sniffed as `format_name` and holds as many samples
    as the tool's own figures (`figures`, JSON) say; the profile and those figures."""
    expected: dict[str, Any] = json.loads(figures.read_text())
    assert detect(path).name == format_name
    profile = load_profile(path)
    assert profile.sample_count == expected["samples"]
    return profile, expected
