"""Every place that names a stall's blocker names each blocking step with its share; old files unchanged.

One real recording of tests/helpers/two_blockers.py (A holds the loop 0.3 s, then
B 0.2 s, in one iteration; `late` falls due inside A's hold), checked against the
holds the target timed itself: `stats` text and --json, the HTML report, the
share of a delayed task's wait each step took, and a `.pyro` saved again. The
same recording without the steps field (what agents before 0.2.3 wrote) opens
and shows what it showed. Tolerance as in test_agent_stall_steps.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runs import run_cli
from two_blockers import pair_stall, record_two_blockers

from pyrometer.core.agent import wire
from pyrometer.core.analysis.stall_steps import delayed_by_text, steps_during_wait
from pyrometer.core.analysis.task_stacks import by_task_view
from pyrometer.core.analysis.transforms import Transform, apply_transform
from pyrometer.core.formats.recording import iter_raw_frames, read_recording, write_profile
from pyrometer.core.model import Profile, StallStep

EXCESS_S = 0.02
ROUNDED_S = 0.00006  # text shows milliseconds to one decimal (half of 0.1 ms, and float slack)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Profile, dict[str, tuple[float, float]]]:
    return record_two_blockers(tmp_path_factory.mktemp("two_blockers"))


def _held(truth: dict[str, tuple[float, float]], name: str) -> float:
    a, b = truth[name]
    return b - a


def _longest_first(truth: dict[str, tuple[float, float]], names: list[str]) -> bool:
    """Whether `names` (A and B, as a view lists the steps: longest first) are in the order of the holds
    the target timed (A sleeps 0.3 s, B 0.2 s, but a busy machine can make B's sleep the longer one);
    holds closer than EXCESS_S may come either way."""
    first, second = names
    return sorted(names) == ["A", "B"] and _held(truth, first) >= _held(truth, second) - EXCESS_S


def test_stats_text_and_json_give_each_step_its_share(recorded: tuple[Path, Profile, dict[str, tuple[float, float]]]) -> None:
    path, p, truth = recorded
    ids = {t.name: t.id for t in p.tasks.values()}
    text = run_cli("stats", path).stdout
    m = re.search(r"steps: ([AB]) \[(\d+)\] ([\d.]+) ms, ([AB]) \[(\d+)\] ([\d.]+) ms\n", text)
    assert m, text
    assert _longest_first(truth, [m[1], m[4]]), (text, truth)
    assert (int(m[2]), int(m[5])) == (ids[m[1]], ids[m[4]])
    for ms, name in ((float(m[3]), m[1]), (float(m[6]), m[4])):
        assert -ROUNDED_S <= ms / 1000 - _held(truth, name) <= EXCESS_S, (name, ms, truth[name])
    data = json.loads(run_cli("stats", "--json", path).stdout)
    [block] = [b for b in data["loop"]["blocking"] if abs(b["start_s"] - pair_stall(p, truth).start) < 1e-9]
    pair = block["steps"][:2]
    assert _longest_first(truth, [s["name"] for s in pair]), (pair, truth)
    assert [(s["task"], s["function"]) for s in pair] == [(ids[s["name"]], "hold") for s in pair]
    for s in pair:
        assert 0 <= s["duration_ms"] / 1000 - _held(truth, s["name"]) <= EXCESS_S, (s, truth[s["name"]])
        assert s["start_s"] <= truth[s["name"]][0] + 1e-6
    callbacks = [b for b in data["loop"]["blocking"] if b["steps"] and b["steps"][0]["task"] is None]
    assert len(callbacks) == 1 and [s["name"].split()[0] for s in callbacks[0]["steps"][:2]] == ["hold()", "hold()"]
    # a single blocker: no steps line (its one step is the task already named)
    solo = re.search(r"by task solo \[\d+\][^\n]*\n(.*)", text)
    assert solo and not solo[1].lstrip().startswith("steps:"), text


def test_html_report_lists_each_step(recorded: tuple[Path, Profile, dict[str, tuple[float, float]]], tmp_path: Path) -> None:
    path, p, truth = recorded
    ids = {t.name: t.id for t in p.tasks.values()}
    out = tmp_path / "r.html"
    proc = run_cli("convert", path, out)
    assert proc.returncode == 0, proc.stderr
    lists = re.findall(r'<ol class="steps"[^>]*>(.*?)</ol>', out.read_text())
    items = [re.findall(r"<li>(.*?) ([\d.]+) ms</li>", lst) for lst in lists]
    label = {f"{name} [{ids[name]}]": name for name in "AB"}
    pair = next(rows for rows in items if rows and rows[0][0] in label)
    names = [label.get(text, text) for text, _ in pair]
    assert _longest_first(truth, names), (pair, truth)
    for (_, ms), name in zip(pair, names, strict=True):
        assert -ROUNDED_S <= float(ms) / 1000 - _held(truth, name) <= EXCESS_S
    assert len(lists) == 2  # the pair of tasks and the pair of callbacks; the single blocker has none


def test_a_delayed_task_is_blamed_on_the_steps_that_ran_while_it_waited(
    recorded: tuple[Path, Profile, dict[str, tuple[float, float]]],
) -> None:
    _, p, truth = recorded
    ids = {t.name: t.id for t in p.tasks.values()}
    ev = pair_stall(p, truth)
    delayed = {tid: d for tid, _, d in ev.delayed or ()}
    # `late` fell due inside A's hold (the target timed its due time and when it woke)
    due, woke = truth["late"]
    assert truth["A"][0] < due < truth["A"][1]
    assert delayed[ids["late"]] <= woke - due + 0.005
    shares = {step.name: share for step, share in steps_during_wait(ev, ids["late"], delayed[ids["late"]])}
    assert shares["A"] == pytest.approx(truth["A"][1] - due, abs=EXCESS_S)
    assert shares["B"] == pytest.approx(_held(truth, "B"), abs=EXCESS_S)
    text = delayed_by_text(ev, ids["late"], delayed[ids["late"]])
    assert text is not None and re.fullmatch(rf"(A \[{ids['A']}\]|B \[{ids['B']}\]) [\d.]+ ms, (A|B) \[\d+\] [\d.]+ ms", text), text
    # B waited for A only: its own step is not what delayed it
    [(step, share)] = steps_during_wait(ev, ids["B"], delayed[ids["B"]])
    assert step.name == "A" and share == pytest.approx(_held(truth, "A"), abs=EXCESS_S)
    assert delayed_by_text(ev, ids["B"], delayed[ids["B"]]) == f"A [{ids['A']}]"


def test_steps_survive_saving_the_recording_again(recorded: tuple[Path, Profile, dict[str, tuple[float, float]]], tmp_path: Path) -> None:
    _, p, _ = recorded
    write_profile(p, tmp_path / "again.pyro")
    back, report = read_recording(tmp_path / "again.pyro")
    assert report.clean, report.problems
    assert [ev.steps for ev in back.blocking] == [ev.steps for ev in p.blocking]
    assert any(ev.steps and len(ev.steps) >= 2 for ev in back.blocking)


def test_a_recording_without_steps_opens_and_shows_what_it_showed(
    recorded: tuple[Path, Profile, dict[str, tuple[float, float]]], tmp_path: Path
) -> None:
    """The BLOCKING frames as agents before 0.2.3 wrote them (no "steps"): steps unknown, and every
    view shows exactly what it shows for the same file with steps, less the lines about steps."""
    path, _, _ = recorded
    old = tmp_path / "old.pyro"
    frames = [wire.file_header()]
    for kind, payload in iter_raw_frames(path):
        if kind == wire.BLOCKING:
            obj = wire.decode_json(payload)
            assert obj.pop("steps") is not None
            frames.append(wire.json_frame(kind, obj))
        else:
            frames.append(wire.frame(kind, payload))
    old.write_bytes(b"".join(frames))
    p, report = read_recording(old)
    assert report.clean, report.problems
    assert p.blocking and all(ev.steps is None for ev in p.blocking)
    new_text = run_cli("stats", path).stdout
    old_text = run_cli("stats", old).stdout
    assert "steps:" in new_text and "steps:" not in old_text
    assert old_text.replace(old.name, path.name) == "".join(
        line for line in new_text.splitlines(keepends=True) if not line.startswith("    steps: ")
    )
    data = json.loads(run_cli("stats", "--json", old).stdout)
    assert all(b["steps"] is None for b in data["loop"]["blocking"])
    assert [b["task_name"] for b in data["loop"]["blocking"]] == [ev.task_name for ev in p.blocking]


def _innermost_name(p: Profile, stack: int) -> str | None:
    frames = p.stack_frames(stack) if 0 <= stack < len(p.stacks) else []
    return p.func_name[p.frame_func(frames[-1])] if frames else None


def test_derived_views_map_the_steps_stacks_into_their_own(recorded: tuple[Path, Profile, dict[str, tuple[float, float]]]) -> None:
    """A transformed or by-task view has its own stack table: each step's stack is mapped into it,
    as the event's own stack is (the blocking function stays the one that ran)."""
    _, p, _ = recorded
    hold = next(f for f, name in enumerate(p.func_name) if name == "hold")
    blocker = next(f for f, name in enumerate(p.func_name) if name == "blocker")
    views = [
        apply_transform(p, Transform(focus_function=hold)),
        apply_transform(p, Transform(merge_functions=frozenset({blocker}))),
        by_task_view(p),
    ]
    source = [(s.stack, _innermost_name(p, s.stack)) for ev in p.blocking for s in ev.steps or ()]
    assert sum(1 for stack, name in source if name == "hold") >= 5, source  # A, B, both callbacks, solo
    for view in views:
        assert view is not p
        mapped = [s.stack for ev in view.blocking for s in ev.steps or ()]
        assert len(mapped) == len(source)
        for (_, name), stack in zip(source, mapped, strict=True):
            assert stack < len(view.stacks) and _innermost_name(view, stack) == name, (name, stack)
    [by_task] = views[2:]
    ev = next(e for e in by_task.blocking if e.steps and e.steps[0].name in ("A", "B"))
    step_b = next(step for step in ev.steps or () if step.name == "B")
    frames = [by_task.func_name[by_task.frame_func(f)] for f in by_task.stack_frames(step_b.stack)]
    assert any("B" in name for name in frames), frames  # B's step hangs under B's task


def test_hostile_steps_are_left_out(tmp_path: Path) -> None:
    """A `steps` field that is not rows of five plausible values: the rows are left out, never a crash."""
    frames = [wire.file_header(), wire.json_frame(wire.THREADS, [[0, "MainThread", 1]])]
    for steps in ("junk", [[0.1, 0.2]], [[0.1, -5, 1, "x", 2]], [[0.1, 1e300, 1, "x", 2]], [["a", 0.1, 1, "x", 2]],
                  [[0.1, 0.06, 7, None, 123456], [0.2, 0.05, "no", "cb", None]]):
        frames.append(wire.json_frame(wire.BLOCKING, {"start": 0.1, "duration": 0.2, "loop": 0, "thread": 0, "stack": -1,
                                                      "steps": steps}))
    path = tmp_path / "hostile.pyro"
    path.write_bytes(b"".join(frames))
    p, report = read_recording(path)
    assert report.clean, report.problems
    assert [ev.steps for ev in p.blocking[:5]] == [None, [], [], [], []]
    assert [(s.task, s.name, s.stack) for s in p.blocking[5].steps or ()] == [(7, "", 123456), (-1, "cb", -1)]
    # a stack the file never defined is unknown to every view, never an error
    data = json.loads(run_cli("stats", "--json", path).stdout)
    assert [s["function"] for s in data["loop"]["blocking"][5]["steps"]] == [None, None]
    assert apply_transform(p, Transform(my_code_only=True)).blocking[5].steps == [
        StallStep(0.1, 0.06, 7, "", -1), StallStep(0.2, 0.05, -1, "cb", -1)]
