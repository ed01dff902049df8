"""A part of a profile as a profile of its own: what an export of a selected time range writes.

`crop(profile, t0, t1)` holds what lies in [t0, t1) and nothing else, by the
same rules as a range in the window (analysis.selection): each sample that
overlaps the range with its weight cut at the range's edges (and its time
moved to the edge it was cut at, so its span stays inside), the lag probes and await snapshots in
the range, the blocking events and the tasks that overlap it, and those tasks'
running / delayed stretches cut at its edges. Whole-run
figures that cannot be cut (trace mode's exact statistics) are left out.
Built only through the model's public interning and append methods.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pyrometer.core.analysis.selection import (
    Selection,
    clipped_samples,
    clips,
    samples_end_spans,
    time_slice,
)
from pyrometer.core.model import Profile


def crop(profile: Profile, t0: float | None, t1: float | None) -> Profile:
    """A new profile with only what lies in [t0, t1) (None: open end)."""
    out = Profile(profile.unit, profile.source_format)
    out.meta = {**profile.meta, "range": [t0, t1]}
    frames = profile.frames
    funcs = frames["func"].tolist()
    out.add_frame_definitions(
        [
            (i, profile.func_file[f], int(line), profile.func_name[f], profile.func_line[f])
            for i, (f, line) in enumerate(zip(funcs, frames["line"].tolist(), strict=True))
        ]
    )
    if len(profile.stacks):
        out.add_stack_definitions(0, profile.stacks["parent"].copy(), profile.stacks["frame"].copy())
    sel = Selection(t0, t1)
    rows, weights = clipped_samples(profile, sel)
    s = profile.samples
    times = s["time"][rows].astype(np.float64)
    if weights is None:
        weights = s["weight"][rows]
    elif clips(profile, sel):  # a cut span keeps its place: its time moves to the edge it was cut at
        times = np.minimum(times, np.inf if t1 is None else t1) if samples_end_spans(profile) else np.maximum(
            times, -np.inf if t0 is None else t0
        )
    # at the source's precision: a cut agent recording stays float32 (model.EXACT_WEIGHT only for stated weights)
    weights = np.asarray(weights, s["weight"].dtype)
    out.add_samples(times, s["thread"][rows], s["stack"][rows], s["task"][rows], weights, s["cpu"][rows])
    lag_rows = time_slice(profile.lag["time"], t0, t1) if len(profile.lag) else slice(0, 0)
    if len(profile.lag):
        out.add_lag(profile.lag["time"][lag_rows], profile.lag["loop"][lag_rows], profile.lag["lag"][lag_rows])
    lo, hi = (-np.inf if t0 is None else t0), (np.inf if t1 is None else t1)
    out.blocking = [b for b in profile.blocking if b.start < hi and (b.start + b.duration > lo or b.start >= lo)]
    out.tasks = {
        tid: t if t.ended is None or t.ended < hi else replace(t, ended=None, state="pending", exc=None)
        for tid, t in profile.tasks.items()
        if (t.created is None or t.created < hi) and (t.ended is None or t.ended >= lo)
    }  # as of the range's end: a task that ends later is still pending there
    out.task_log = [tid for tid in profile.task_log if tid in out.tasks]
    aw = profile.awaits
    if len(aw):  # where tasks were waiting, as seen in the range
        keep = np.flatnonzero((aw["time"] >= lo) & (aw["time"] < hi))
        out.awaits.extend(time=aw["time"][keep], task=aw["task"][keep], stack=aw["stack"][keep])
    spans = profile.task_spans
    if len(spans):  # running / delayed stretches of the kept tasks, cut at the range's edges
        start, end = np.maximum(spans["start"], lo), np.minimum(spans["end"], hi)
        keep = np.flatnonzero((start < end) & np.isin(spans["task"], np.fromiter(out.tasks, np.int64, len(out.tasks))))
        out.add_task_spans(spans["task"][keep], spans["state"][keep], start[keep], end[keep])
    out.threads = dict(profile.threads)
    out.loops = dict(profile.loops)
    out.notices = list(profile.notices)
    out.telemetry = {}
    out.end = None
    out.finish()
    return out
