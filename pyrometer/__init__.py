"""Pyrometer: a desktop profiler for Python programs.

This module stays import-light: the agent (which runs inside profiled programs)
imports through it, so nothing here may pull in numpy or Qt.
"""

from __future__ import annotations

from pyrometer._version import __version__

TYPE_CHECKING = False  # not typing's: importing typing costs `pyrometer record` ~5 ms of start-up
if TYPE_CHECKING:
    from typing import Any

    from pyrometer.core.capture.inprocess import profile

__all__ = ["__version__", "profile"]


def __getattr__(name: str) -> Any:
    """Resolve `pyrometer.profile` lazily so importing the package stays cheap."""
    if name == "profile":
        from pyrometer.core.capture.inprocess import profile

        return profile
    raise AttributeError(name)
