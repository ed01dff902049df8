"""A file that records no CPU time has its thread lanes drawn "active", not "on CPU".

VizTracer's trace and py-spy's output (checked-in fixtures written by the real tools) carry no CPU
reading for any sample: the timeline drew every stretch in the on-CPU colour and its legend said
"on CPU", which nothing in those files says. A recording with CPU readings keeps its levels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pyrometer.core.analysis.lane_palette import ACTIVE, LEVEL_COLOR, thread_legend_html
from pyrometer.core.analysis.lanes import build_lanes
from pyrometer.core.analysis.on_cpu import has_cpu_info
from pyrometer.core.example_profiles import server_profile
from pyrometer.core.formats.registry import load_profile
from pyrometer.core.model import Profile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "formats"


def _thread_colors(profile: Profile) -> np.ndarray:
    lanes = build_lanes(profile, None)
    _x, _w, row, color = lanes.arrays()
    threads = [r for r, kind in enumerate(lanes.kinds) if kind == "thread"]
    assert threads
    return color[np.isin(row, threads)]


@pytest.mark.parametrize("name", ["viztracer.trace.json", "pyspy.speedscope.json", "pyspy.chrometrace.json"])
def test_lanes_of_a_file_without_cpu_readings_are_active_not_on_cpu(name: str) -> None:
    profile = load_profile(FIXTURES / name)
    assert not bool((profile.samples["cpu"] >= 0).any())  # what the file says: no CPU reading at all
    colors = _thread_colors(profile)
    assert set(np.unique(colors).tolist()) == {ACTIVE}
    legend = thread_legend_html(set(colors.tolist()))
    assert "active" in legend and "on CPU" not in legend


def _with_cpu(share: float) -> Profile:
    """The example server's samples, each on CPU for `share` of its 10 ms (as the agent records them)."""
    profile = server_profile()
    profile.samples["cpu"][:] = share * profile.samples["weight"]
    return profile


@pytest.mark.parametrize(("share", "level"), [(1.0, 2), (0.3, 1), (0.0, 0)])
def test_lanes_of_a_recording_with_cpu_readings_keep_their_levels(share: float, level: int) -> None:
    profile = _with_cpu(share)
    assert has_cpu_info(profile)
    assert set(np.unique(_thread_colors(profile)).tolist()) == {int(LEVEL_COLOR[level])}


def test_a_growing_profile_is_looked_at_again_only_until_a_reading_arrives() -> None:
    profile = server_profile()
    assert not has_cpu_info(profile)
    profile.samples["cpu"][-1] = 0.004  # a reading among the rows looked at already: not looked at again
    assert not has_cpu_info(profile)
    t = float(profile.samples["time"][-1]) + 0.01
    profile.add_samples(np.array([t]), profile.samples["thread"][-1:], profile.samples["stack"][-1:], weight=0.01, cpu=0.01)
    assert has_cpu_info(profile)  # a reading in a row added since
