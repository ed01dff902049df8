"""By task (issue 13, item 3): each task's samples under its task chain, against a real program's truth.

The recorded server (tests/helpers/by_task_workload.py) measures each request's CPU and wall
time inside its own steps; the by-task tree's `<task request-N>` nodes must agree within the
sampler's tolerance, the shared task awaited by two tasks must show both, and nothing may change
the profile's total or any real function's self time. Hand-built profiles pin the rule's corners
(creator vs awaiter, cycles, live growth).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from by_task_workload import REQUESTS, record_by_task_workload

from pyrometer.core.analysis.calltree import CallTree, call_tree
from pyrometer.core.analysis.functions import function_table
from pyrometer.core.analysis.selection import Selection
from pyrometer.core.analysis.task_stacks import (
    SEVERAL_AWAITERS,
    TASK_FILE,
    by_task_view,
    has_tasks,
    is_task_function,
)
from pyrometer.core.analysis.task_totals import task_totals
from pyrometer.core.formats.recording import read_recording
from pyrometer.core.model import BlockingEvent, Profile, TaskInfo


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return record_by_task_workload(tmp_path_factory.mktemp("by_task"))


@pytest.fixture(scope="module")
def recorded(recording: tuple[Path, dict[str, Any]]) -> tuple[Profile, dict[str, Any]]:
    profile, _ = read_recording(recording[0])
    return profile, recording[1]


def _close(got: float, want: float, unsampled: float = 0.0) -> bool:
    """The sampler's tolerance: each task step can be off by about one sample interval at each end.

    Less by what the recording says it did not sample during the task's steps (``_unsampled``): a
    starved sampler (load 10 on 2 cores) charges a gap in which the thread moved to one interval.
    """
    return -(0.03 + 0.15 * want + unsampled) <= got - want <= 0.03 + 0.15 * want


def _unsampled(p: Profile, truth: dict[str, Any], name: str) -> float:
    """Seconds of `name`'s steps (their spans, measured inside) that the recording says it did not sample.

    A sample stands for the `weight` before its time; the rest of the gap since the thread's previous
    sample is what the sampler left out (its telemetry's ``unsampled_s`` is their sum). None on a quiet
    machine; 0.1-0.3 s of a run at load 10.
    """
    t, w, thread = (np.asarray(p.samples[c], np.float64) for c in ("time", "weight", "thread"))
    ids = {tid for tid, info in p.tasks.items() if info.name == name}
    mine = np.isin(np.asarray(p.samples["task"]), list(ids))
    lost: list[tuple[float, float]] = []
    for th in np.unique(thread[mine]):
        at = np.flatnonzero(thread == th)
        starts, ends = t[at[:-1]], t[at[1:]] - w[at[1:]]
        gone = ends - starts > 1e-6
        lost += zip(starts[gone].tolist(), ends[gone].tolist(), strict=True)
    told = float(p.telemetry.get("unsampled_s", 0.0))
    assert sum(b - a for a, b in lost) <= told + 1e-3, (lost, told)  # the samples and the telemetry agree
    t0 = float(p.meta["t0"])  # the recording's time 0 on the program's perf_counter
    return sum(
        max(0.0, min(b, end - t0) - max(a, start - t0)) for start, end in truth["spans"][name] for a, b in lost
    )


def _children(tree: CallTree, profile: Profile, node: int) -> dict[str, int]:
    return {profile.func_name[int(tree.func[c])]: int(c) for c in tree.children(node)}


def _path_names(tree: CallTree, profile: Profile, node: int) -> list[str]:
    return [profile.func_name[f] for f in tree.path(node)]


def _task_nodes(tree: CallTree, profile: Profile) -> dict[str, int]:
    """Label -> node of every synthetic node (each label appears once in this program's tree)."""
    out: dict[str, int] = {}
    for node in range(1, tree.node_count):
        func = int(tree.func[node])
        if is_task_function(profile, func):
            assert profile.func_name[func] not in out or profile.func_name[func] == SEVERAL_AWAITERS
            out[profile.func_name[func]] = node
    return out


def test_each_request_node_holds_that_requests_measured_time(recorded: tuple[Profile, dict[str, Any]]) -> None:
    p, truth = recorded
    view = by_task_view(p)
    tree = call_tree(view)
    nodes = _task_nodes(tree, view)
    rows = {r.link.label: r for r in task_totals(p)[0]}
    for i in range(REQUESTS):
        label = f"<task request-{i}>"
        node = nodes[label]
        # the request hangs under the task that created and awaited it, under asyncio.run's main task
        assert _path_names(tree, view, node) == ["<task Task-1>", "<task server>", label]
        wall, cpu = truth["wall"][f"request-{i}"], truth["cpu"][f"request-{i}"]
        lost = _unsampled(p, truth, f"request-{i}")
        assert _close(float(tree.total_weight[node]), wall, lost), (label, float(tree.total_weight[node]), wall, lost)
        # the sampler's CPU column, summed over the request's samples (what it left out ran at most as long)
        row = rows[label]
        assert row.cpu is not None and _close(row.cpu, cpu, lost), (label, row.cpu, cpu, lost)
        # the table and the tree are two sums of the same samples
        assert row.total == pytest.approx(float(tree.total_weight[node]), rel=1e-9)
        assert row.own == pytest.approx(row.total)
        # under the task: its own code, not the event loop's frames
        assert set(_children(tree, view, node)) <= {"request", "sleep"}, _children(tree, view, node)
    # the server's node holds its requests and more (shared's work is under its awaiters' common root)
    server = nodes["<task server>"]
    assert float(tree.total_weight[server]) >= sum(float(tree.total_weight[nodes[f"<task request-{i}>"]]) for i in range(REQUESTS))


def test_a_task_awaited_by_two_tasks_shows_both(recorded: tuple[Profile, dict[str, Any]]) -> None:
    p, truth = recorded
    awaiters = {tuple(n for _, n in ev.await_chain[:2]) for ev in p.blocking if ev.await_chain and ev.await_chain[0][1] == "shared"}
    assert {("shared", "first"), ("shared", "second")} <= awaiters, p.blocking  # the recording saw both
    view = by_task_view(p)
    tree = call_tree(view)
    nodes = _task_nodes(tree, view)
    label = "<task shared (2 awaiters: first, second)>"
    assert label in nodes, sorted(nodes)
    node = nodes[label]
    # charged to neither awaiter: under a several-awaiters node, under what first and second share
    assert _path_names(tree, view, node) == ["<task Task-1>", "<task server>", SEVERAL_AWAITERS, label]
    assert "<task first>" not in _path_names(tree, view, node) and "<task second>" not in _path_names(tree, view, node)
    lost = _unsampled(p, truth, "shared")
    assert _close(float(tree.total_weight[node]), truth["wall"]["shared"], lost)
    row = next(r for r in task_totals(p)[0] if r.link.label == label)
    assert row.link.awaiters and [p.tasks[a].name for a in row.link.awaiters] == ["first", "second"]
    assert row.cpu is not None and _close(row.cpu, truth["cpu"]["shared"], lost)


def test_by_task_changes_no_total_and_no_real_functions_self_time(recorded: tuple[Profile, dict[str, Any]]) -> None:
    p, _ = recorded
    view = by_task_view(p)
    assert call_tree(view).total == pytest.approx(call_tree(p).total, rel=1e-12)
    plain, tasked = function_table(p), function_table(view)

    def self_by_function(table: Any, profile: Profile) -> dict[tuple[str, str], float]:
        return {
            (profile.func_name[f], profile.func_file[f]): float(s)
            for f, s in zip(table.func.tolist(), table.self_weight.tolist(), strict=True)
            if s > 0 and profile.func_file[f] != TASK_FILE
        }

    assert self_by_function(tasked, view) == pytest.approx(self_by_function(plain, p), rel=1e-9)
    # a range too: the same samples, clipped the same way
    sel = Selection(0.2, 0.6)
    assert call_tree(view, sel).total == pytest.approx(call_tree(p, sel).total, rel=1e-12)
    rows, whole = task_totals(p, sel)
    assert whole == pytest.approx(call_tree(p, sel).total, rel=1e-9)
    assert sum(r.total for r in rows if r.depth == 0) <= whole + 1e-9


# ---------------------------------------------------------------- the rule's corners, by hand
def _hand_profile() -> Profile:
    """Tasks: 0 main (root), 1 server (created by 0), 2 req (created by 1), 3 orphan (creator 99, unknown)."""
    p = Profile()
    work = p.intern_frame("work", "/app.py", 5, 4)
    idle = p.intern_frame("idle", "/app.py", 9, 8)
    s_work, s_idle = p.intern_stack_path([work]), p.intern_stack_path([idle])
    for tid, parent, name in ((0, None, "main"), (1, 0, "server"), (2, 1, "req"), (3, 99, "orphan")):
        p.tasks[tid] = TaskInfo(tid, parent, name, name, created=0.0)
    p.add_samples(
        np.arange(6) * 0.01,
        np.zeros(6, np.int32),
        np.array([s_work, s_work, s_work, s_idle, s_idle, s_work], np.int32),
        task=np.array([2, 2, 1, -1, 3, 7], np.int32),  # 7: a task whose creation the recording lost
        weight=0.01,
    )
    p.finish()
    return p


def _labels(view: Profile) -> list[list[str]]:
    return [[view.func_name[view.frame_func(f)] for f in view.stack_frames(int(s))] for s in view.samples["stack"]]


def test_creators_stand_in_where_no_awaiter_was_seen() -> None:
    p = _hand_profile()
    view = by_task_view(p)
    assert _labels(view) == [
        ["<task main>", "<task server>", "<task req>", "work"],
        ["<task main>", "<task server>", "<task req>", "work"],
        ["<task main>", "<task server>", "work"],
        ["idle"],  # no task: its stack as it was
        ["<task orphan>", "idle"],  # its creator is unknown: a root
        ["<task #7>", "work"],
    ]
    assert not has_tasks(Profile()) and by_task_view(Profile()) is not None


def test_an_awaiter_wins_over_the_creator_and_a_second_awaiter_makes_it_several() -> None:
    p = _hand_profile()
    view = by_task_view(p)
    # a stall says `req` is awaited by `orphan` (not its creator `server`)
    p.blocking.append(BlockingEvent(0.1, 0.06, 0, 0, -1, task=2, task_name="req", await_chain=[(2, "req"), (3, "orphan")]))
    p.generation += 1
    again = by_task_view(p)
    assert again is view  # the same view, followed
    assert _labels(again)[0] == ["<task orphan>", "<task req (awaited by orphan; created by server)>", "work"]
    # another stall sees `server` awaiting it too: both are named, neither is picked
    p.blocking.append(BlockingEvent(0.2, 0.06, 0, 0, -1, task=2, task_name="req", await_chain=[(2, "req"), (1, "server"), (0, "main")]))
    p.generation += 1
    assert _labels(by_task_view(p))[0] == [SEVERAL_AWAITERS, "<task req (2 awaiters: orphan, server)>", "work"]
    # the stall events' own stacks point into the view's stacks too
    assert all(ev.stack == -1 or ev.stack < len(view.stacks) for ev in view.blocking)


def test_a_cycle_of_awaiters_ends() -> None:
    p = _hand_profile()
    p.blocking.append(BlockingEvent(0.1, 0.06, 0, 0, -1, task=1, await_chain=[(1, "server"), (2, "req"), (1, "server")]))
    p.generation += 1
    labels = _labels(by_task_view(p))
    assert labels[2][-1] == "work" and labels[0][-1] == "work"
    assert all(len(path) <= 4 for path in labels)


def test_the_view_follows_a_growing_profile() -> None:
    p = _hand_profile()
    view = by_task_view(p)
    assert len(view.samples) == 6
    work = p.intern_frame("work", "/app.py", 5, 4)  # already interned: no new function
    p.tasks[4] = TaskInfo(4, 2, "sub", "sub", created=0.1)
    p.add_samples(np.array([0.1]), np.zeros(1, np.int32), np.array([p.intern_stack_path([work])], np.int32), task=np.array([4]), weight=0.01)
    again = by_task_view(p)
    assert again is view
    assert _labels(again)[-1] == ["<task main>", "<task server>", "<task req>", "<task sub>", "work"]
    assert call_tree(again).total == pytest.approx(call_tree(p).total)
    # a new function: the view is made again (its copied function table could not follow)
    other = p.intern_frame("other", "/app.py", 20, 19)
    p.add_samples(np.array([0.11]), np.zeros(1, np.int32), np.array([p.intern_stack_path([other])], np.int32), task=np.array([4]), weight=0.01)
    fresh = by_task_view(p)
    assert _labels(fresh)[-1] == ["<task main>", "<task server>", "<task req>", "<task sub>", "other"]
    assert [fresh.func_name[f] for f in range(len(p.func_name))] == p.func_name  # real functions keep their ids


# ---------------------------------------------------------------- pyrometer stats --by-task
def _stats(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pyrometer", "stats", *map(str, args)], capture_output=True, text=True, timeout=60)


def test_stats_by_task_json_and_text_hold_each_requests_time(
    recording: tuple[Path, dict[str, Any]], recorded: tuple[Profile, dict[str, Any]]
) -> None:
    path, truth = recording
    proc = _stats(path, "--by-task", "--json", "--top", "0")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["by_task"]
    rows = {r["label"]: r for r in data["rows"]}
    assert data["rows_count"] == len(data["rows"])
    for i in range(REQUESTS):
        row = rows[f"<task request-{i}>"]
        assert row["name"] == f"request-{i}" and row["depth"] == 2
        assert data["rows"][row["parent"]]["label"] == "<task server>"
        lost = _unsampled(recorded[0], truth, f"request-{i}")  # what the file says it did not sample
        assert _close(row["cpu_s"], truth["cpu"][f"request-{i}"], lost), (row, truth, lost)
        assert _close(row["total_s"], truth["wall"][f"request-{i}"], lost), (row, truth, lost)
    shared = rows["<task shared (2 awaiters: first, second)>"]
    assert [a["name"] for a in shared["awaiters"]] == ["first", "second"]
    assert data["rows"][shared["parent"]]["label"] == "<several awaiters>" and rows["<several awaiters>"]["task"] is None
    assert data["in_tasks_s"] <= data["total_s"] + 1e-9
    # without --by-task the JSON has no such key (the issue-2 contract is unchanged)
    assert "by_task" not in json.loads(_stats(path, "--json").stdout)
    text = _stats(path, "--by-task", "--top", "3")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    start = next(k for k, ln in enumerate(lines) if ln.startswith("time by task"))
    assert lines[start + 3].split() == ["total", "own", "cpu", "samples", "task"]
    assert "<task Task-1>" in lines[start + 4]  # the root first
    assert any("more rows (--top 0 shows all)" in ln for ln in lines[start:])


def test_stats_by_task_of_a_profile_without_tasks_says_so() -> None:
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "pyspy.collapsed.txt"
    proc = _stats(fixture, "--by-task")
    assert proc.returncode == 0, proc.stderr
    assert "(no sample ran in an asyncio task)" in proc.stdout


def test_a_task_whose_creation_arrives_after_its_samples_moves_under_its_creator() -> None:
    """Samples and task events travel apart: a sample may name a task the profile does not know yet."""
    p = _hand_profile()
    view = by_task_view(p)
    assert _labels(view)[5] == ["<task #7>", "work"]
    p.tasks[7] = TaskInfo(7, 2, "late", "late", created=0.05)
    p.generation += 1
    assert by_task_view(p) is view
    assert _labels(view)[5] == ["<task main>", "<task server>", "<task req>", "<task late>", "work"]
    assert _labels(view)[0] == ["<task main>", "<task server>", "<task req>", "work"]  # the others stay
