"""Derived profiles (on-CPU only, transforms) made one way: `Profile.derive`, sharing what they do not change.

Each bug named in issue 9 has a test here that failed before the fix: a
transformed view exported to .pyro, an HTML report of a transformed view, and
the on-CPU view's task log. Numbers are checked against the example profile's
known constants, not against our own writer.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from pyrometer.core import example_profiles as ex
from pyrometer.core.agent import wire
from pyrometer.core.analysis.functions import function_table
from pyrometer.core.analysis.loop import blocking_function
from pyrometer.core.analysis.on_cpu import on_cpu_view
from pyrometer.core.analysis.task_lanes import TaskLanes
from pyrometer.core.analysis.transforms import Transform, apply_transform, view_of
from pyrometer.core.formats.html_report import render_report
from pyrometer.core.formats.recording import apply_message
from pyrometer.core.formats.registry import export_profile, load_profile
from pyrometer.core.model import Profile

ROOT = Path(__file__).resolve().parents[2]


def _merge_compute(p: Profile) -> Profile:
    return apply_transform(p, Transform(merge_functions=frozenset({p.func_name.index("compute")})))


def _self_by_name(p: Profile) -> dict[str, float]:
    table = function_table(p)
    return {p.func_name[int(f)]: float(w) for f, w in zip(table.func, table.self_weight, strict=True) if w > 0}


def test_pyro_export_of_a_transformed_view_reads_back_with_the_transform_applied(tmp_path: Path) -> None:
    p = ex.server_profile()
    out = tmp_path / "merged.pyro"
    export_profile(_merge_compute(p), out, "pyro")  # raised TypeError: Transform is not JSON serializable
    back = load_profile(out)
    got = _self_by_name(back)
    # compute's 0.60 s of self time now belongs to its caller, Server.handle (which had none)
    assert "compute" not in got
    assert got["Server.handle"] == pytest.approx(ex.SERVER_SELF["compute"])
    assert got["dumps"] == pytest.approx(ex.SERVER_SELF["dumps"])
    assert back.sample_count == ex.SERVER_SAMPLES
    # the loop still blocked, in Server.handle now that compute is merged away
    assert [(e.start, round(e.duration * 1000)) for e in back.blocking] == [(ex.BLOCKING_START, ex.BLOCKING_MS)]
    assert blocking_function(back, back.blocking[0])[0] == "Server.handle"
    json.dumps(back.meta)  # plain JSON, as a recording's meta must be


def test_html_report_of_a_transformed_view_counts_its_blocking_events() -> None:
    p = ex.server_profile()
    for view in (_merge_compute(p), apply_transform(p, Transform(my_code_only=True)), on_cpu_view(p)):
        html = render_report(view)
        assert "<div>blocking events</div><div>1</div>" in html  # said 0 under a transform
        assert "<div>blocking events</div><div>0</div>" not in html


def test_focus_elsewhere_keeps_the_event_without_a_stack() -> None:
    """A transform that leaves the blocking stack out keeps the event (the loop did block), stackless."""
    p = ex.server_profile()
    view = apply_transform(p, Transform(focus_function=p.func_name.index("fetch")))
    assert len(view.blocking) == 1 and view.blocking[0].stack == -1
    assert blocking_function(view, view.blocking[0])[0] == "Task.__step"  # the callback names it


def _live_tasks(p: Profile, first: int, n: int, t: float) -> None:
    rows = [{"id": i, "t": t + 0.01 * (i - first), "name": f"t{i}"} for i in range(first, first + n)]
    apply_message(p, wire.TASKS_CREATED, json.dumps(rows).encode())


def test_on_cpu_view_follows_the_task_log() -> None:
    p = ex.server_profile()
    p.tasks.clear()
    _live_tasks(p, 10, 3, 0.1)
    view = on_cpu_view(p)
    assert view.task_log == p.task_log == [10, 11, 12]  # was [] : the on-CPU view dropped task_log
    lanes = TaskLanes()
    packer = lanes.get(view, None, 12, 1.3)
    _live_tasks(p, 13, 2, 0.5)
    view = on_cpu_view(p)
    assert lanes.get(view, None, 12, 1.3) is packer  # followed the log, not packed again from scratch
    assert sorted(packer.where) == [10, 11, 12, 13, 14]


def test_views_share_every_table_they_do_not_change() -> None:
    p = ex.server_profile()
    p.output.append((0.1, "stdout", "hello\n"))
    p.end = {"t": 1.3, "exit": 0}
    shared = ("meta", "lag", "threads", "loops", "tasks", "task_log", "telemetry", "notices", "output", "end", "func_name", "frames")
    for view in (on_cpu_view(p), _merge_compute(p)):
        for name in shared:
            assert getattr(view, name) is getattr(p, name), name
    assert on_cpu_view(p).stacks is p.stacks and on_cpu_view(p).blocking is p.blocking
    mine = apply_transform(p, Transform(my_code_only=True))
    assert mine.func_name is not p.func_name and mine.lag is p.lag  # own functions (adds "[library]"), shared events


def test_derived_views_live_in_the_profile_cache_and_follow_growth() -> None:
    p = ex.server_profile()
    view = view_of(p, Transform(merge_functions=frozenset({p.func_name.index("compute")})), on_cpu_only=True)
    assert view is view_of(p, Transform(merge_functions=frozenset({p.func_name.index("compute")})), on_cpu_only=True)
    n = view.sample_count
    s = int(p.samples["stack"][0])
    p.add_samples(np.array([1.4, 1.41]), np.array([1, 1], np.int32), np.array([s, s]), weight=0.01, cpu=np.array([0.01, 0.0]))
    again = view_of(p, Transform(merge_functions=frozenset({p.func_name.index("compute")})), on_cpu_only=True)
    assert again is view and again.sample_count == n + 1  # the same object, one more on-CPU sample


def test_views_take_the_end_and_call_statistics_the_source_receives_later() -> None:
    """A live session's END (and a trace's statistics) replace the source's value; views must not keep the old one."""
    p = ex.server_profile()
    on_cpu, merged = on_cpu_view(p), _merge_compute(p)
    assert on_cpu.end is None and merged.end is None
    apply_message(p, wire.END, json.dumps({"t": 7.5, "exit": 3}).encode())
    stats = ex.deterministic_profile().func_stats
    p.func_stats = stats
    p.generation += 1
    for view in (on_cpu_view(p), _merge_compute(p)):
        assert view.end == {"t": 7.5, "exit": 3} and view.duration() == pytest.approx(7.5)
    assert _merge_compute(p).func_stats is stats and on_cpu_view(p).func_stats is None  # exact stats describe all samples


PRIVATE = re.compile(r"(?<!self)\.(_[a-z]\w*)\b")


def test_nothing_outside_the_model_touches_profile_private_fields() -> None:
    tree = ast.parse((ROOT / "core" / "model.py").read_text())
    profile = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Profile")
    init = next(n for n in profile.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    private = {t.attr for n in ast.walk(init) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Attribute) and t.attr.startswith("_")}
    assert "_samples_sorted" in private
    hits = []
    for path in [*(ROOT / "core").rglob("*.py"), *(ROOT / "app").rglob("*.py")]:
        if path == ROOT / "core" / "model.py":
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            hits += [f"{path.relative_to(ROOT)}:{lineno}: {m}" for m in PRIVATE.findall(line) if m in private]
    assert hits == []
