"""The `pyrometer stats` summary: one JSON-ready dict per profile, and its text form.

The dict is the contract scripts rely on (issue 2 lists the keys); the text
form is rendered from the same dict so the table and the JSON never disagree.

Keys: `format`, `unit` ("seconds" | "samples": what self/total measure),
`duration_s`, `samples` (stack samples in the selection; null for
deterministic sources), `total` (the sum self/total percentages refer to),
`threads` [{id, name, samples}] (all threads, counted in the time range),
`functions` [{name, file, line, self, total, self_pct, total_pct, calls,
per_call, samples, self_samples}, plus in trace mode traced_self, traced_total,
task_wall_per_call, and with CPU readings cpu_self, cpu_total] sorted by self (first --top N;
0 = all), `cpu` (null | {clock, total_s, threads: [{id, name, cpu_s}]}: the
on-CPU seconds sampled runs measure beside wall time), `trace_clock`
(null | "cpu" | "wall": the clock of traced_* and per_call; set for the whole
run only),
`functions_count`, `loop` (null | {probes, lag_ms: {p50, p95, p99, max, mean},
blocking: [{start_s, duration_ms, function, file, line, stack, thread, task,
callback, task_name, await_chain, delayed, delayed_unrecorded, steps (null | [{start_s,
duration_ms, task, name, function, file, line}]: each long step of the stall, longest
first), ongoing (true: still going on at the range's end; its duration_ms and steps are
then what had happened by then, and delayed/delayed_unrecorded null: the agent reports
them when the stall ends)}]}), `tasks` (null | {created (in the range), alive (tasks whose life overlaps
the range), states (as of the range's end), in_range, list: [{id, name,
parent, parent_unrecorded, state, coroutine, created_s, ended_s, exception, and asyncio_own: true on a task
asyncio.run made for its own shutdown}], asyncio_own (how many of those: listed, left out of the
counts)}), `task_sampling` (null |
{made, recorded, unrecorded, by_coroutine {name: n}, every, peak_tasks_per_s, periods, loops,
still_sampling, whole_run, caveats}: what the agent's task sampling left unrecorded, whole run; see
core/analysis/task_sampling.py), `selection`,
`dropped_samples`, `late_samples` (null | share of the sampler's ticks taken late),
`sampler_starved` (null | the sentence when the sampler reached under half its rate while threads ran),
`effective_rate_hz`, `telemetry`, `meta`, `end`, `notices`;
with `--by-task` also `by_task` (core/cli/by_task_summary.py).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pyrometer.core import fmt
from pyrometer.core.analysis.loop import blocking_events, lag_stats, stack_labels
from pyrometer.core.analysis.selection import Selection, clipped_samples
from pyrometer.core.analysis.stall_asof import duration_at, ongoing_at, steps_at
from pyrometer.core.analysis.task_sampling import CAVEATS, sampling_sentence, sampling_totals
from pyrometer.core.cli.terminal_text import printable
from pyrometer.core.formats.tables import function_rows, is_deterministic, is_traced
from pyrometer.core.late_samples import late_samples_text, late_share, starved_text
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, BlockingEvent, Profile

if TYPE_CHECKING:
    from pyrometer.core.formats.recording_index import IndexedSamples

SUMMARY_VERSION = 1
TEXT_STALLS = 10  # stalls the text form prints in full; the rest are counted


def make_selection(thread: int | None, t_from: float | None, t_to: float | None) -> Selection | None:
    if thread is None and t_from is None and t_to is None:
        return None
    return Selection(t_from, t_to, None if thread is None else frozenset([thread]))


def thread_rows(profile: Profile, t_from: float | None, t_to: float | None) -> list[dict[str, Any]]:
    """Every thread with its sample count in the time range (the thread filter does not hide threads)."""
    idx, _ = clipped_samples(profile, Selection(t_from, t_to))  # samples whose span overlaps the range
    counts: dict[int, int] = {}
    if profile.sample_count:
        threads = profile.samples["thread"][idx]
        weights = profile.samples["weight"][idx] if profile.unit == UNIT_SAMPLES else None  # a row may stand for several samples
        lo = int(threads.min(initial=0))
        if len(threads) and int(threads.max()) - lo < 1 << 16:  # small ids: one counting pass, no sort
            n = np.bincount(threads - lo, weights=weights)
            ids = np.flatnonzero(n) + lo
            n = n[n > 0]
        else:
            ids, inverse = np.unique(threads, return_inverse=True)
            n = np.bincount(inverse, weights=weights)
        counts = dict(zip(ids.tolist(), np.rint(n).astype(np.int64).tolist(), strict=True))
    rows = []
    for tid in sorted(set(profile.threads) | set(counts)):
        info = profile.threads.get(tid)
        rows.append({"id": tid, "name": info.name if info else f"thread {tid}", "samples": counts.get(tid, 0)})
    return rows


def indexed_thread_rows(profile: Profile, counts: dict[int, int]) -> list[dict[str, Any]]:
    """thread_rows of the whole run from per-thread sample counts (a recording's index)."""
    rows = []
    for tid in sorted(set(profile.threads) | set(counts)):
        info = profile.threads.get(tid)
        rows.append({"id": tid, "name": info.name if info else f"thread {tid}", "samples": counts.get(tid, 0)})
    return rows


NATIVE_FILES = ("~", "<built-in>", "<native>", "<unknown>", "")
NATIVE_SUFFIXES = (".so", ".pyd", ".dll", ".dylib")


def is_native(name: str, file: str) -> bool:
    """C code as profilers name it: yappi/cProfile builtins live in file `~`, native frames in `.so` files."""
    return file in NATIVE_FILES or file.endswith(NATIVE_SUFFIXES) or name.startswith("<built-in")


def innermost_python_frame(profile: Profile, stack: int) -> int:
    """The innermost frame running Python code (skipping builtins and native frames); -1 for no stack.

    When no frame qualifies (e.g. collapsed stacks without files) the innermost frame is used.
    """
    frames = profile.stack_frames(stack) if stack >= 0 else []
    for fr in reversed(frames):
        func = profile.frame_func(fr)
        if not is_native(profile.func_name[func], profile.func_file[func]):
            return fr
    return frames[-1] if frames else -1


def loop_summary(
    profile: Profile, sel: Selection | None, indexed: IndexedSamples | None = None, rows: int | None = None
) -> dict[str, Any] | None:
    """Lag-probe percentiles and blocking events (with stacks) in the selection; None when the source has neither.

    With `indexed` the lag figures are the index's (computed by lag_stats when it was built). `rows`
    builds only the first N stalls' rows (their stacks' labels are most of the cost: a day holds
    thousands) and adds `blocking_count`, the number of them all."""
    if indexed is None:
        if not len(profile.lag) and not profile.blocking:
            return None
        stats = lag_stats(profile, sel)
    else:
        if not indexed.index.lag and not profile.blocking:
            return None
        stats = indexed.lag_stats(None if sel is None else sel.threads)
    lag_ms: dict[str, float | None]
    if stats.probes:
        lag_ms = {k: getattr(stats, k) * 1000.0 for k in ("p50", "p95", "p99", "max", "mean")}
    else:
        lag_ms = dict.fromkeys(("p50", "p95", "p99", "max", "mean"))
    labels: dict[int, list[str]] = {}  # a day holds thousands of stalls in far fewer stacks
    events = blocking_events(profile, sel)
    as_of = None if sel is None else sel.t1  # a stall going on then is shown as it was then (stall_asof)
    blocking = [
        {**blocking_row(profile, ev.start, duration_at(ev, as_of), ev.stack, ev.thread, ev.task, ev.callback, labels),
         **_blame(ev, as_of), "steps": _steps(profile, ev, as_of), "ongoing": ongoing_at(ev, as_of)}
        for ev in (events if rows is None else events[:rows])
    ]
    counted = {} if rows is None else {"blocking_count": len(events)}
    return {"probes": stats.probes, "lag_ms": lag_ms, "blocking": blocking, **counted}


def _blame(ev: BlockingEvent, as_of: float | None = None) -> dict[str, Any]:
    """Who blocked and whom it delayed; null where the recording does not say (older agents), and
    whom it delayed null for a stall still going on at `as_of` (the agent tells that at its end)."""
    if ongoing_at(ev, as_of):
        ev = replace(ev, delayed=None, delayed_unrecorded=None)
    return {
        "task_name": ev.task_name,
        "await_chain": None if ev.await_chain is None else [{"id": i, "name": n} for i, n in ev.await_chain],
        "delayed": None if ev.delayed is None else [
            {"task": i, "name": n, "delay_ms": d * 1000.0} for i, n, d in sorted(ev.delayed, key=lambda r: -r[2])
        ],
        # delayed tasks the agent did not record (task sampling): counted, not named
        "delayed_unrecorded": ev.delayed_unrecorded,
    }


def _steps(profile: Profile, ev: BlockingEvent, as_of: float | None = None) -> list[dict[str, Any]] | None:
    """Each long step that held the loop during the stall, longest first, with its own share and the
    function a stack taken inside it was running; null where the recording does not say. Those of a
    stall still going on at `as_of` as far as they had got then."""
    steps = steps_at(ev.steps, as_of) if ongoing_at(ev, as_of) else ev.steps
    if steps is None:
        return None
    out = []
    for step in steps:
        inner = innermost_python_frame(profile, step.stack) if 0 <= step.stack < len(profile.stacks) else -1
        func = profile.frame_func(inner) if inner >= 0 else -1
        out.append({
            "start_s": step.start, "duration_ms": step.duration * 1000.0, "task": step.task if step.task >= 0 else None,
            "name": step.name, "function": profile.func_name[func] if func >= 0 else None,
            "file": profile.func_file[func] if func >= 0 else None,
            "line": int(profile.frames["line"][inner]) if inner >= 0 else None,
        })
    return out


def blocking_row(
    profile: Profile, start: float, duration: float, stack: int, thread: int, task: int, callback: str,
    known_labels: dict[int, list[str]] | None = None,
) -> dict[str, Any]:
    """One stall as `stats` shows it; `known_labels` remembers each stack's labels between calls."""
    if known_labels is None:
        labels = stack_labels(profile, stack)
    else:
        if stack not in known_labels:
            known_labels[stack] = _stack_labels(profile, stack, known_labels)
        labels = list(known_labels[stack])
    inner = innermost_python_frame(profile, stack) if labels else -1
    func = profile.frame_func(inner) if inner >= 0 else -1
    return {
        "start_s": start,
        "duration_ms": duration * 1000.0,
        "function": profile.func_name[func] if func >= 0 else None,
        "file": profile.func_file[func] if func >= 0 else None,
        "line": int(profile.frames["line"][inner]) if inner >= 0 else None,
        "stack": labels,
        "thread": thread,
        "task": task if task >= 0 else None,
        "callback": callback or None,
    }


def _stack_labels(profile: Profile, stack: int, known: dict[int, list[str]]) -> list[str]:
    """analysis.loop.stack_labels, reusing the labels of the nearest ancestor stack already in `known`
    (stalls of a long run share a few thousand stacks and their prefixes)."""
    if stack < 0 or stack >= len(profile.stacks):
        return []
    parents, frames = profile.stacks["parent"], profile.stacks["frame"]
    chain = []
    at = stack
    while at >= 0 and at not in known:
        chain.append(at)
        at = int(parents[at])
        if len(chain) > 256:  # a deep recursion: label it whole (each prefix would copy its labels)
            return stack_labels(profile, stack)
    labels = known[at] if at >= 0 else []
    for sid in reversed(chain):  # outermost first; labels are innermost first
        labels = [profile.frame_label(int(frames[sid])), *labels]
        known[sid] = labels
    return labels


def task_summary(
    profile: Profile, t_from: float | None = None, t_to: float | None = None, listed: bool = True
) -> dict[str, Any] | None:
    """Tasks alive in the time range, with their states as of its end (`created`: created in it).

    `listed` False leaves out `list` (a row per task: a day holds ~10^5) and counts alone."""
    if not profile.tasks:
        return None
    from pyrometer.core.analysis.asyncio_own import profile_asyncio_own

    own = profile_asyncio_own(profile)  # asyncio.run's shutdown steps: listed, not counted as the program's
    if not listed:
        return _task_counts(profile, own, t_from, t_to)
    rows = []
    created_in = 0
    left_out = 0
    for t in sorted(profile.tasks.values(), key=lambda t: (t.created if t.created is not None else math.inf, t.id)):
        if t_to is not None and t.created is not None and t.created >= t_to:
            continue  # not yet created
        if t_from is not None and t.ended is not None and t.ended < t_from:
            continue  # over before the range
        mine = t.id not in own
        if mine and (t_from is None or (t.created is not None and t.created >= t_from)):
            created_in += 1
        left_out += not mine
        ended_by_then = t.ended is not None and (t_to is None or t.ended < t_to)
        state = t.state if ended_by_then or t_to is None else "pending"
        rows.append(
            {
                "id": t.id,
                "name": t.name,
                "parent": t.parent,
                "parent_unrecorded": t.parent_unrecorded,
                "state": state,
                "coroutine": t.coro,
                "created_s": t.created,
                "ended_s": t.ended,
                "exception": t.exc,
                "cpu_s": t.cpu_s,
                "running_s": t.running_s,
                "waiting_s": t.waiting_s,
                "delayed_s": t.delayed_s,
                **({} if mine else {"asyncio_own": True}),
            }
        )
    states: dict[str, int] = {}
    for r in rows:
        if not r.get("asyncio_own"):
            state = str(r["state"])
            states[state] = states.get(state, 0) + 1
    ranged = t_from is not None or t_to is not None
    return {"created": created_in, "alive": len(rows) - left_out, "states": states, "list": rows, "in_range": ranged,
            "asyncio_own": left_out}


def _tasks(
    profile: Profile, t_from: float | None, t_to: float | None, lists: bool, indexed: IndexedSamples | None
) -> dict[str, Any] | None:
    """task_summary, from the index's undecoded task batches when `profile` is a shell without its tasks."""
    if indexed is None or not indexed.task_batches:
        return task_summary(profile, t_from, t_to, lists)
    if not lists:
        from pyrometer.core.formats.task_counts import task_counts

        counts = task_counts(indexed.task_batches, t_from, t_to)
        if counts is not None:
            return counts
    return task_summary(indexed.tasks_profile(), t_from, t_to, lists)


def _task_counts(profile: Profile, own: set[int], t_from: float | None, t_to: float | None) -> dict[str, Any]:
    """task_summary's counts without its list: the same tests, no sort and no row per task."""
    created_in = alive = left_out = 0
    states: dict[str, int] = {}
    for t in profile.tasks.values():
        if t_to is not None and t.created is not None and t.created >= t_to:
            continue
        if t_from is not None and t.ended is not None and t.ended < t_from:
            continue
        if t.id in own:
            left_out += 1
            continue
        alive += 1
        if t_from is None or (t.created is not None and t.created >= t_from):
            created_in += 1
        state = t.state if t_to is None or (t.ended is not None and t.ended < t_to) else "pending"
        states[state] = states.get(state, 0) + 1
    return {"created": created_in, "alive": alive, "states": states, "list": None,
            "in_range": t_from is not None or t_to is not None, "asyncio_own": left_out}


def task_sampling_summary(profile: Profile) -> dict[str, Any] | None:
    """What task sampling left unrecorded (whole run: the agent sends running totals); None if nothing."""
    totals = sampling_totals(profile)
    if totals is None:
        return None
    return {
        "made": totals.made,
        "recorded": totals.recorded,
        "unrecorded": totals.unrecorded,
        "by_coroutine": dict(totals.by_coroutine),
        "every": totals.every,
        "peak_tasks_per_s": totals.peak_rate,
        "periods": totals.periods,
        "loops": totals.loops,
        "still_sampling": totals.still_sampling,
        "whole_run": True,
        "sentence": sampling_sentence(totals),
        "caveats": CAVEATS,
    }


def looks_sampled(profile: Profile) -> bool:
    """True when samples are timer ticks (near-equal weights, as py-spy's), not traced spans
    (VizTracer, pyinstrument's evented output): only then is samples/second a sampling rate.
    One sample says nothing (its weight is trivially near itself): a single span has no rate."""
    if profile.unit != UNIT_SECONDS or profile.sample_count < 2:
        return False
    w = profile.samples["weight"][:100_000]
    lo, hi = (float(v) for v in np.percentile(w, [10, 90]))
    return lo > 0 and hi / lo <= 1.5


def _telemetry_number(profile: Profile, *keys: str) -> float | None:
    for k in keys:
        v = profile.telemetry.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            return v
    return None


def build_summary(
    profile: Profile,
    *,
    source_path: str | None = None,
    top: int | None = None,
    thread: int | None = None,
    t_from: float | None = None,
    t_to: float | None = None,
    by_task: bool = False,
    indexed: IndexedSamples | None = None,
    lists: bool = True,
) -> dict[str, Any]:
    """The `stats --json` object (issue 2's keys plus extras; `by_task` only when asked).

    `lists` False builds what the text form prints and no more: the first TEXT_STALLS stalls
    (`loop.blocking_count` counts them all) and the task counts without `tasks.list`.

    `indexed` supplies every figure that comes from samples (a recording's
    index, with `profile` its shell: recording_index.open_for_stats); it
    answers the whole run or a thread filter, or a time range it was opened for (`indexed.range`).
    """
    sel = make_selection(thread, t_from, t_to)
    if indexed is not None and (t_from is not None or t_to is not None) and indexed.range is None:
        raise ValueError("an index answers the whole run, a thread filter, or the time range it was opened for")
    deterministic = is_deterministic(profile)
    threads_wanted = None if thread is None else frozenset([thread])
    totals = None if indexed is None else indexed.stack_sums(threads_wanted)
    all_rows, total = function_rows(profile, sel, stack_totals=totals)
    trace_clock = profile.func_stats.clock if all_rows and "traced_self" in all_rows[0] and profile.func_stats else None
    rows = all_rows if top is None else all_rows[:top]
    traced = is_traced(profile)
    if indexed is None:
        selected = None if deterministic or traced else _selected_samples(profile, sel)
        duration = profile.duration()
        threads = thread_rows(profile, t_from, t_to)
        busy_threads = threads if sel is None else thread_rows(profile, None, None)
        sample_count, sampled = profile.sample_count, looks_sampled(profile)
    else:
        selected = None if deterministic or traced else indexed.selected(threads_wanted)
        duration = indexed.duration()
        thread_counts = indexed.thread_counts()
        if profile.unit == UNIT_SAMPLES and totals is not None:
            # a row of a converted collapsed/pprof file stands for its count: the weights are the samples
            selected = None if selected is None else round(float(totals[0].sum(dtype=np.float64)))
            thread_counts = {
                tid: round(float(indexed.stack_sums(frozenset([tid]))[0].sum(dtype=np.float64))) for tid in thread_counts
            }
        threads = busy_threads = indexed_thread_rows(profile, thread_counts)
        if indexed.range is not None:
            threads = indexed_thread_rows(profile, indexed.selected_thread_counts())
        sample_count, sampled = indexed.count(), indexed.looks_sampled()
    rate = _telemetry_number(profile, "effective_rate_hz")
    busy_threads = [r for r in busy_threads if r["samples"]]
    if rate is None and not deterministic and profile.has_time and duration > 0 and busy_threads and sampled:
        rate = sample_count / len(busy_threads) / duration
    notices = [str(n.get("message", "")) for n in profile.notices if n.get("message")]
    cpu = None if deterministic or traced else cpu_summary(profile, sel, rows, threads, indexed)
    extra: dict[str, Any] = {}
    if by_task:
        from pyrometer.core.cli.by_task_summary import by_task_summary

        extra["by_task"] = by_task_summary(profile, sel, top)
    return {
        "version": SUMMARY_VERSION,
        "file": source_path,
        "format": profile.source_format,
        "unit": profile.unit,
        "duration_s": duration if profile.has_time else None,
        "samples": selected,
        "trace_events": profile.meta.get("trace_events") if traced and not deterministic else None,
        "deterministic": deterministic,
        "total": total,
        "selection": {"thread": thread, "from_s": t_from, "to_s": t_to} if sel is not None else None,
        "threads": threads,
        "trace_clock": trace_clock,
        "functions_count": len(all_rows),
        "functions": rows,
        "loop": loop_summary(profile, sel, indexed, None if lists else TEXT_STALLS),
        "tasks": _tasks(profile, t_from, t_to, lists, indexed),
        "task_sampling": task_sampling_summary(profile),
        "cpu": cpu,
        "dropped_samples": _telemetry_number(profile, "samples_dropped", "dropped"),
        "losses": agent_losses(profile),
        "late_samples": late_share(profile.telemetry),
        "sampler_starved": starved_text(profile.telemetry),
        "effective_rate_hz": rate,
        "telemetry": profile.telemetry or None,
        "meta": _plain_meta(profile),
        "end": profile.end,
        "notices": notices,
        **extra,
    }


def cpu_summary(
    profile: Profile, sel: Selection | None, rows: list[dict[str, Any]], threads: list[dict[str, Any]],
    indexed: IndexedSamples | None = None,
) -> dict[str, Any] | None:
    """On-CPU seconds of the selection (all, per thread) from the samples' CPU readings; adds `cpu_self`
    and `cpu_total` to each function row. None when the samples carry no CPU time.

    Figures are rounded to the microsecond: a recording's index sums the same readings in another
    order, and `stats` prints the same from it as from a full read."""
    from pyrometer.core.analysis.cpu_time import CLOCK_NAME, CpuTime, cpu_time, has_cpu_times
    from pyrometer.core.analysis.functions import function_table

    if indexed is None:
        got = cpu_time(profile, sel)
    elif has_cpu_times(profile):  # the shell's rows carry each (thread, stack) pair's CPU sum
        per_stack, count, per_thread = indexed.cpu_sums(None if sel is None else sel.threads)
        got = CpuTime(float(per_stack.sum()), per_thread, per_stack, count, 0, 0)
    else:
        got = None
    if got is None:
        return None
    table = function_table(profile, sel, stack_totals=(got.per_stack, got.count_per_stack))
    by_func = {
        (profile.func_name[f], profile.func_file[f], profile.func_line[f]): (s, t)
        for f, s, t in zip(table.func.tolist(), table.self_weight.tolist(), table.total_weight.tolist(), strict=True)
    }
    for r in rows:
        s, t = by_func.get((r["name"], r["file"], r["line"]), (0.0, 0.0))
        r["cpu_self"], r["cpu_total"] = round(s, 6), round(t, 6)
    wanted = None if sel is None else sel.threads
    return {
        "clock": CLOCK_NAME,
        "total_s": round(got.total_s, 6),
        "threads": [
            {"id": t["id"], "name": t["name"], "cpu_s": round(got.per_thread.get(t["id"], 0.0), 6)}
            for t in threads
            if wanted is None or t["id"] in wanted
        ],
    }


def agent_losses(profile: Profile) -> dict[str, float] | None:
    """What the agent says it lost (non-zero counters only); None when nothing was lost
    (`stats` and the Session pane show the same)."""
    out = {}
    for key in ("samples_dropped", "task_events_dropped", "lag_dropped", "frames_dropped", "unsampled_s", "send_errors"):
        value = profile.telemetry.get(key)
        if isinstance(value, (int, float)) and value > 0:
            out[key] = float(value)
    return out or None


LOSS_LABELS = {
    "samples_dropped": "samples dropped",
    "task_events_dropped": "task events dropped",
    "lag_dropped": "lag probes dropped",
    "frames_dropped": "frames dropped",
    "send_errors": "send errors",
}


def loss_text(key: str, value: float) -> str:
    """One loss counter for people: '12 samples dropped', '0.309 s unsampled (...)'; the raw
    key and a 6-digit float ('unsampled s 0.308852') told a user nothing."""
    if key == "unsampled_s":
        return f"{value:.3f} s unsampled (the sampler ran late; that time is charged to no function)"
    return f"{value:,.0f} {LOSS_LABELS.get(key, key.replace('_', ' '))}"


def _selected_samples(profile: Profile, sel: Selection | None) -> int:
    """Stack samples in the selection. Where the unit is samples a row may stand for
    several (collapsed stacks carry a count), so the weights are the count."""
    idx, _ = clipped_samples(profile, sel)
    if profile.unit == UNIT_SAMPLES:
        return round(float(profile.samples["weight"][idx].sum(dtype=np.float64)))
    if isinstance(idx, slice):
        return max(0, idx.stop - idx.start)
    return len(idx)


def _plain_meta(profile: Profile) -> dict[str, Any]:
    """Session metadata that is plain JSON (a recording's meta is; imported files may carry odd values)."""
    out = {}
    for k, v in profile.meta.items():
        if isinstance(v, (str, int, float, bool, list, dict)) or v is None:
            out[str(k)] = v
    return out


# ---------------------------------------------------------------- text form
def _seconds_or_dash(value: float | None, width: int) -> str:
    return ("-" if value is None else fmt.weight(value, UNIT_SECONDS, fixed=True).strip()).rjust(width)


def _per_call(value: float | None, width: int) -> str:
    """Seconds per call in a unit that keeps three digits (µs calls are common)."""
    if value is None:
        return "-".rjust(width)
    if value >= 1.0:
        return f"{value:.3f} s".rjust(width)
    if value >= 1e-3:
        return f"{value * 1e3:.3f} ms".rjust(width)
    return f"{value * 1e6:.3f} us".rjust(width)


def location(name: str, file: str | None, line: int | None) -> str:
    """`name (file:line)`, or just the name when the source gave no file (collapsed stacks)."""
    if not file:
        return name
    return f"{name} ({file}:{line})" if line else f"{name} ({file})"


def header_line(data: dict[str, Any]) -> str:
    source = Path(data["file"]).name if data.get("file") else "profile"
    parts = [f"{source}: {data['format']}"]
    if data["duration_s"] is not None:
        parts.append(f"{data['duration_s']:.3f} s")
    if data.get("trace_events") is not None:
        parts.append(f"{data['trace_events']:,} trace events (traced, not sampled)")
    elif data["samples"] is None and (data.get("meta") or {}).get("calls_unknown"):
        parts.append("function statistics without call counts (no samples)")
    elif data["samples"] is None:
        parts.append("deterministic (call counts, no samples)")
    else:
        parts.append(f"{data['samples']:,} sample{'s' if data['samples'] != 1 else ''}")
    n_threads = len(data["threads"])
    if n_threads:
        parts.append(f"{n_threads} thread{'s' if n_threads != 1 else ''}")
    if data.get("effective_rate_hz"):
        parts.append(f"{data['effective_rate_hz']:.0f} Hz")
    if data.get("dropped_samples"):
        parts.append(f"{data['dropped_samples']:,.0f} dropped")
    return ", ".join(parts)


def cost_label(data: dict[str, Any]) -> str:
    """What a count profile counts: the file's own event name (valgrind's `Ir` are instructions,
    not samples), else samples."""
    event = (data.get("meta") or {}).get("cost_unit")
    return event if isinstance(event, str) and event.strip() else "samples"


def render_text(data: dict[str, Any]) -> str:
    """A pstats-like table: header, selection, top functions, loop and task summaries."""
    unit = data["unit"]
    lines = [header_line(data)]
    sel = data.get("selection")
    if sel:
        bits = []
        if sel.get("thread") is not None:
            name = next((t["name"] for t in data["threads"] if t["id"] == sel["thread"]), "")
            bits.append(f"thread {sel['thread']} ({name})")
        if sel.get("from_s") is not None or sel.get("to_s") is not None:
            a = "start" if sel.get("from_s") is None else f"{sel['from_s']:g} s"
            b = "end" if sel.get("to_s") is None else f"{sel['to_s']:g} s"
            bits.append(f"time {a} to {b}")
        lines.append("selection: " + ", ".join(bits))
    unit_label = "seconds" if unit == UNIT_SECONDS else cost_label(data)
    lines.append(f"total: {fmt.weight(data['total'], unit, fixed=True).strip()} {unit_label}")
    cpu = data.get("cpu")
    if cpu:
        lines.append(f"on-CPU time: {cpu['total_s']:.3f} s, by the {cpu['clock']}")  # the clock has brackets
        busy = sorted(cpu["threads"], key=lambda t: -t["cpu_s"])
        if len(busy) > 1:
            more = f", +{len(busy) - 8} more" if len(busy) > 8 else ""
            lines.append("  per thread: " + ", ".join(f"{t['name']} [{t['id']}] {t['cpu_s']:.3f} s" for t in busy[:8]) + more)
    if len(data["threads"]) > 1:
        traced = data.get("trace_events") is not None  # pieces of spans are no samples: no counts
        shown_threads = [f"{t['name']} [{t['id']}]" + ("" if traced else f" {t['samples']:,}") for t in data["threads"][:8]]
        more = f", +{len(data['threads']) - 8} more" if len(data["threads"]) > 8 else ""
        lines.append(("threads: " if traced else "threads (samples): ") + ", ".join(shown_threads) + more)
    kinds = data.get("meta", {}).get("sample_types")
    if isinstance(kinds, list) and len(kinds) > 1:
        others = ", ".join(str(k) for k in kinds if k != data["meta"].get("sample_type"))
        lines.append(f"sample type: {data['meta'].get('sample_type')} (also {others}; pick one with --sample-type)")
    lines.append("")
    shown = len(data["functions"])
    count = data.get("functions_count", shown)
    lines.append(f"   ordered by self {unit_label}; {shown} of {count} functions")
    lines.append("")
    clock = data.get("trace_clock")
    if clock:
        lines.append(
            f"   self/total: sampled wall time; calls, {clock} self, {clock} total, {clock}/call: exact (trace mode, "
            f"{clock} clock, whole run); task wall/call: created to ended, awaits included"
        )
        lines.append("")
    extra = f" {clock + ' self':>10} {clock + ' total':>10} {clock + '/call':>10} {'task wall/call':>14}" if clock else ""
    if cpu and not clock:
        lines.append("   self/total: sampled wall time; cpu self/cpu total: on-CPU time of the same samples")
        lines.append("")
        extra = f" {'cpu self':>10} {'cpu total':>10}"
    rows = data["functions"]
    # as wide as the widest amount: callgrind counts billions of Ir (and of calls)
    self_w = max([10, *(len(fmt.weight(r["self"], unit, fixed=True)) for r in rows)])
    total_w = max([10, *(len(fmt.weight(r["total"], unit, fixed=True)) for r in rows)])
    calls_w = max([9, *(len(f"{r['calls']:,}") for r in rows if r["calls"] is not None)])
    head = f"{'self':>{self_w}} {'self%':>6} {'total':>{total_w}} {'total%':>6} {'calls':>{calls_w}}{extra}  function (file:line)"
    lines.append(head)
    for r in rows:
        calls = "-" if r["calls"] is None else f"{r['calls']:,}"
        traced_cols = ""
        if cpu and not clock:
            traced_cols = f" {_seconds_or_dash(r.get('cpu_self'), 10)} {_seconds_or_dash(r.get('cpu_total'), 10)}"
        if clock:
            traced_cols = (
                f" {_seconds_or_dash(r.get('traced_self'), 10)} {_seconds_or_dash(r.get('traced_total'), 10)}"
                f" {_per_call(r.get('per_call'), 10)} {_per_call(r.get('task_wall_per_call'), 14)}"
            )
        lines.append(
            f"{fmt.weight(r['self'], unit, fixed=True):>{self_w}} {r['self_pct']:5.1f}% "
            f"{fmt.weight(r['total'], unit, fixed=True):>{total_w}} "
            f"{r['total_pct']:5.1f}% {calls:>{calls_w}}{traced_cols}  {location(r['name'], r['file'], r['line'])}"
        )
    if not data["functions"]:
        lines.append("   (no samples in the selection)")
    loop = data.get("loop")
    if loop:
        lines.append("")
        lag = loop["lag_ms"]
        if lag.get("p50") is not None:
            lines.append(
                f"event loop: {loop['probes']:,} lag probes; lag p50 {lag['p50']:.1f} ms, p95 {lag['p95']:.1f} ms, "
                f"p99 {lag['p99']:.1f} ms, max {lag['max']:.1f} ms"
            )
        else:
            lines.append("event loop: no lag probes in the selection")
        stalls = int(loop.get("blocking_count", len(loop["blocking"])))
        lines.append(f"blocking events: {stalls}")
        for b in loop["blocking"][:TEXT_STALLS]:
            where = location(b["function"], b["file"], b["line"]) if b["function"] else "unknown stack"
            so_far = " so far (still blocked at the range's end)" if b.get("ongoing") else ""
            lines.append(f"  at {b['start_s']:.3f} s blocked {b['duration_ms']:.1f} ms{so_far} in {where}")
            chain = b.get("await_chain")
            if chain:
                lines.append("    by task " + " <- ".join(f"{c['name']} [{c['id']}]" for c in chain))
            elif b.get("task_name"):
                lines.append(f"    by task {b['task_name']} [{b['task']}]")
            steps = b.get("steps") or []
            if len(steps) >= 2:  # one iteration ran several blockers: each with its own share
                names = [f"{s['name']} [{s['task']}]" if s["task"] is not None else str(s["name"]) for s in steps]
                top = ", ".join(f"{n} {s['duration_ms']:.1f} ms" for n, s in zip(names[:3], steps[:3], strict=True))
                more = f" (+{len(steps) - 3} more)" if len(steps) > 3 else ""
                lines.append(f"    steps: {top}{more}")
            delayed = b.get("delayed")
            if delayed:
                top = ", ".join(f"{d['name']} [{d['task']}] {d['delay_ms']:.1f} ms" for d in delayed[:3])
                more = f" (+{len(delayed) - 3} more)" if len(delayed) > 3 else ""
                lines.append(f"    delayed {len(delayed)} task{'s' if len(delayed) != 1 else ''}: {top}{more}")
            if b.get("delayed_unrecorded"):
                n = int(b["delayed_unrecorded"])
                lines.append(f"    delayed {n:,} more task{'s' if n != 1 else ''} not recorded one by one (task sampling)")
        if stalls > TEXT_STALLS:
            lines.append(f"  ... and {stalls - TEXT_STALLS} more (use --json for all)")
    if data.get("by_task") is not None:
        from pyrometer.core.cli.by_task_summary import render_by_task

        lines.extend(render_by_task(data["by_task"], unit))
    tasks = data.get("tasks")
    if tasks:
        states = ", ".join(f"{n} {s}" for s, n in sorted(tasks["states"].items()))
        lines.append("")
        if tasks.get("in_range"):
            lines.append(f"asyncio tasks: {tasks['alive']} alive in the range, {tasks['created']} created in it (at its end: {states})")
        else:
            lines.append(f"asyncio tasks: {tasks['created']} created ({states})")
        if tasks.get("asyncio_own"):
            n = tasks["asyncio_own"]
            lines[-1] += f"; not counted: {n} task{'s' if n != 1 else ''} asyncio.run made for its own shutdown"
    sampling = data.get("task_sampling")
    if sampling:
        if not tasks:
            lines.append("")
        lines.append(f"  task sampling (whole run): {sampling['sentence']}")
        lines.append(f"  ({sampling['caveats']})")
    losses = data.get("losses")
    if losses:
        lines.append("")
        lines.append("agent losses: " + ", ".join(loss_text(k, v) for k, v in losses.items()))
    late = late_samples_text(data.get("late_samples"))
    if late:
        lines.append("")
        lines.append("sampling: " + late)
    starved = data.get("sampler_starved")
    if starved:
        if not late:
            lines.append("")
        lines.append("sampling: " + starved)
    for n in data.get("notices") or []:
        lines.append(f"notice: {n}")
    return "\n".join(printable(line) for line in lines)  # names come from the file: no raw escapes
