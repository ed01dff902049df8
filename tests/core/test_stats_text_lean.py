"""`pyrometer stats` (text) builds only what it prints, and prints what the full summary prints (issue 15).

The text form counts the tasks without a row per task and builds the first
stalls' rows only; these tests hold it to the full computation (`lists=True`,
what `--json` prints) on a generated recording, through the index and through a
full read, for the whole run and for time ranges. The bulk path of a task batch
(an index's shell holds every task in one) is held to the row-by-row path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scale_recordings import generate_recording

from pyrometer.core.agent import wire
from pyrometer.core.agent.tasks import PARENT_UNRECORDED
from pyrometer.core.cli import summary
from pyrometer.core.cli.summary import build_summary, render_text, task_summary
from pyrometer.core.formats.recording import apply_message, read_recording
from pyrometer.core.formats.recording_index import open_for_stats
from pyrometer.core.model import Profile


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40,000 samples (100 s of 4 threads): tasks, several stalls, lag; closed with its index."""
    path = tmp_path_factory.mktemp("lean") / "gen.pyro"
    generate_recording(path, 40_000)
    return path


def _full_read(path: Path) -> Profile:
    profile, _ = read_recording(path)
    profile.finish()
    return profile


def test_text_from_the_lean_summary_is_the_text_of_the_full_one(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(summary, "TEXT_STALLS", 2)  # the recording has a handful of stalls: cut after 2
    opened = open_for_stats(generated)
    assert opened is not None
    shell, indexed = opened
    full = build_summary(shell, source_path=str(generated), indexed=indexed)
    lean = build_summary(shell, source_path=str(generated), indexed=indexed, lists=False)
    stalls = len(full["loop"]["blocking"])
    assert stalls > 2 and lean["loop"]["blocking_count"] == stalls
    assert lean["loop"]["blocking"] == full["loop"]["blocking"][:2]
    assert len(full["tasks"]["list"]) > 50 and lean["tasks"]["list"] is None
    text = render_text(lean)
    assert text == render_text(full)
    assert f"blocking events: {stalls}" in text and f"... and {stalls - 2} more" in text
    # and the same text as a full read of every sample
    assert text == render_text(build_summary(_full_read(generated), source_path=str(generated), lists=False))


def test_task_counts_without_the_list_equal_the_counts_of_the_list(generated: Path) -> None:
    profile = _full_read(generated)
    t_end = profile.duration()
    ranges = [(None, None), (None, t_end / 3), (t_end / 3, None), (t_end / 4, t_end / 2), (t_end * 0.9, t_end * 0.91)]
    for t_from, t_to in ranges:
        full = task_summary(profile, t_from, t_to)
        lean = task_summary(profile, t_from, t_to, listed=False)
        assert full is not None and lean is not None
        assert {k: v for k, v in lean.items() if k != "list"} == {k: v for k, v in full.items() if k != "list"}, (t_from, t_to)
        # and both are what the list says, counted here
        mine = [r for r in full["list"] if not r.get("asyncio_own")]
        assert full["alive"] == len(mine)
        states: dict[str, int] = {}
        for r in mine:
            states[r["state"]] = states.get(r["state"], 0) + 1
        assert lean["states"] == states


def test_stats_text_command_prints_what_the_json_summary_renders(
    generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyrometer.cli import main

    assert main(["stats", str(generated)]) == 0
    text = capsys.readouterr().out
    assert main(["stats", str(generated), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["tasks"]["list"]) == len(_full_read(generated).tasks)
    assert text.rstrip("\n") == summary.render_text(data).rstrip("\n")


def _tasks_of(frames: list[bytes]) -> dict[int, tuple[object, ...]]:
    profile = Profile()
    for frame in frames:
        kind = wire.FRAME_HEADER.unpack_from(frame, 0)[1]
        assert apply_message(profile, kind, memoryview(frame)[wire.FRAME_HEADER_SIZE:])
    return {tid: (t.id, t.parent, t.name, t.coro, t.loop, t.created, t.ended, t.state, t.parent_unrecorded, t.cpu_s)
            for tid, t in profile.tasks.items()}


def test_a_bulk_task_batch_gives_the_tasks_of_row_by_row_batches() -> None:
    n = 500
    ids = list(range(10, 10 + n))
    parents = [-1 if i % 7 == 0 else PARENT_UNRECORDED if i % 11 == 0 else 10 + (i // 2) for i in range(n)]
    times = [float("nan") if i % 13 == 0 else 0.5 * i for i in range(n)]
    loops = [i % 2 for i in range(n)]
    names = [f"task-{i}" for i in range(n)]
    coros = [f"worker_é{i % 5}" for i in range(n)]  # not ASCII: the decoder's other branch
    ends = wire.tasks_end_frame([1.0] * 3, ids[:3], [0.1] * 3, [0.2] * 3, [0.3] * 3, [0.0] * 3, [0, 1, 2], ["", "", "ValueError"])
    bulk = [wire.tasks_new_frame(times, ids, parents, loops, names, coros), ends]
    rows = [wire.tasks_new_frame(times[i:i + 1], ids[i:i + 1], parents[i:i + 1], loops[i:i + 1], names[i:i + 1], coros[i:i + 1])
            for i in range(n)] + [ends]
    got = _tasks_of(bulk)
    assert len(got) == n and got == _tasks_of(rows)
    assert sum(1 for t in got.values() if t[8]) == sum(1 for p in parents if p == PARENT_UNRECORDED) > 0
    # an end that came before its task's creation, and an id created twice, take the row-by-row path: the same
    early = [ends, wire.tasks_new_frame(times, ids, parents, loops, names, coros)]
    assert _tasks_of(early) == _tasks_of([ends, *rows[:-1]])
    twice = [wire.tasks_new_frame(times * 2, ids * 2, parents * 2, loops * 2, names + names[::-1], coros * 2)]
    assert _tasks_of(twice) == _tasks_of([*rows[:-1], wire.tasks_new_frame(times, ids, parents, loops, names[::-1], coros)])


def _frame_payload(frame: bytes) -> tuple[int, bytes]:
    return wire.FRAME_HEADER.unpack_from(frame, 0)[1], frame[wire.FRAME_HEADER_SIZE:]


def _counted_from_objects(batches: list[tuple[int, bytes]]) -> dict[str, object] | None:
    holder = Profile()
    for kind, payload in batches:
        apply_message(holder, kind, memoryview(payload))
    return task_summary(holder, listed=False)


def test_task_counts_from_the_index_batches_are_the_counts_of_the_decoded_tasks(generated: Path) -> None:
    from pyrometer.core.formats.task_counts import task_counts

    opened = open_for_stats(generated, task_rows=False)
    assert opened is not None
    shell, indexed = opened
    assert not shell.tasks and [k for k, _ in indexed.task_batches] == [wire.TASKS_NEW, wire.TASKS_END]
    fast = task_counts(indexed.task_batches)
    assert fast is not None and fast["created"] > 50
    assert fast == _counted_from_objects(indexed.task_batches)
    full = read_recording(generated)[0]
    assert fast == task_summary(full, listed=False)


def test_task_counts_of_asyncio_own_tasks_pending_ones_and_odd_codes() -> None:
    from pyrometer.core.formats.task_counts import task_counts

    n = 300
    ids = list(range(1, n + 1))
    coros = ["asyncio: shutdown_asyncgens" if i in (7, 200) else f"work{i % 4}" for i in ids]
    parents = [7 if i in (50, 51) else 50 if i == 52 else PARENT_UNRECORDED if i % 17 == 0 else -1 for i in ids]
    new = wire.tasks_new_frame([0.1 * i for i in ids], ids, parents, [0] * n, [f"t{i}" for i in ids], coros)
    ended = [i for i in ids if i % 3]
    codes = [(i % 5) for i in ended]  # 3 and 4: codes this reader does not know ("done")
    nan = [float("nan")] * len(ended)
    end = wire.tasks_end_frame([0.1 * i + 1 for i in ended], ended, nan, nan, nan, nan, codes, ["" for _ in ended])
    batches = [_frame_payload(new), _frame_payload(end)]
    fast = task_counts(batches)
    assert fast is not None and fast["asyncio_own"] == 5  # 7, 200, and 50, 51 under 7, 52 under 50
    assert fast == _counted_from_objects(batches)
    assert task_counts(batches[:1]) == _counted_from_objects(batches[:1])  # none ended: all pending
    # shapes the columns do not answer: the caller counts objects
    assert task_counts([batches[1], batches[0]]) is None
    assert task_counts([batches[0], batches[0], batches[1]]) is None
    stray = wire.tasks_end_frame([1.0], [n + 5], [0.0], [0.0], [0.0], [0.0], [0], [""])
    assert task_counts([batches[0], _frame_payload(stray)]) is None
    twice = wire.tasks_new_frame([0.0, 1.0], [3, 3], [-1, -1], [0, 0], ["a", "b"], ["x", "y"])
    assert task_counts([_frame_payload(twice)]) is None


def test_stats_text_on_a_trace_mode_index_keeps_every_task(tmp_path: Path) -> None:
    """Trace mode's task wall/call column reads every task: its shell keeps them decoded."""
    from pyrometer.core.formats import recording_index

    index = recording_index.build_index(_generated_with_func_stats(tmp_path))
    assert index is not None
    batches: list[tuple[int, bytes]] = []
    profile = index.shell_profile(batches)
    assert profile.func_stats is not None and profile.tasks and not batches


def _generated_with_func_stats(tmp_path: Path) -> Path:
    """A small closed recording with tasks and a FUNC_STATS message (trace mode), through the real writer."""
    from pyrometer.core.capture.writer import RecordingWriter

    path = tmp_path / "traced.pyro"
    writer = RecordingWriter(path)
    writer.write_raw(wire.json_frame(wire.META, {"pid": 1, "argv": ["x"]}))
    writer.write_raw(wire.tasks_new_frame([0.5], [1], [-1], [0], ["t1"], ["work"]))
    writer.write_raw(wire.tasks_end_frame([1.5], [1], [0.1], [0.2], [0.3], [0.0], [0], [""]))
    writer.write_raw(wire.json_frame(wire.FUNC_STATS, {"t": 2.0, "clock": "cpu", "funcs": [
        {"id": 1, "name": "work", "file": "/x.py", "line": 3, "calls": 2, "self": 0.1, "total": 0.2}], "edges": []}))
    writer.write_raw(wire.json_frame(wire.END, {"t": 2.0, "exit_status": 0, "reason": "exit"}))
    writer.close()
    return path
