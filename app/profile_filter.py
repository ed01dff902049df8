"""The file-dialog filter for profiles, built from the format registry.

One list for every dialog that opens a profile (File › Open, Compare's
Baseline…): each dialog kept its own hand-written list, and Compare's missed
pprof, .cpuprofile, Austin, MOJO and Firefox files that it reads.
"""

from __future__ import annotations

from pyrometer.core.formats.registry import importers

# besides the registry's names: any gzipped profile, and callgrind's bare `callgrind.out`
_EXTRA = ("*.gz", "*.out")


def profile_patterns() -> list[str]:
    """Glob patterns of every readable format, each once, in registry order."""
    out: list[str] = []
    for imp in importers():
        for ext in imp.extensions:
            pattern = "*" + ext if ext.startswith(".") else ext
            if pattern not in out:
                out.append(pattern)
    return out + [p for p in _EXTRA if p not in out]


def profile_filter() -> str:
    """`Profiles (*.pyro ...);;All files (*)` for QFileDialog."""
    return f"Profiles ({' '.join(profile_patterns())});;All files (*)"
