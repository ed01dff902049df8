"""Collapsed ("folded") stacks: `root;child;leaf COUNT` per line, import and export.

This is Brendan Gregg's flamegraph.pl input and py-spy's `--format raw`. py-spy
frames look like `func (file.py:123)` (or `func (file.py)` with
`--nolineno`); with `--threads` each stack starts with a frame
`thread (TID)` or `thread (TID): NAME`, and with `--subprocesses` with
`process PID:"COMMAND LINE"` before that. Those leading frames become the
sample's thread (a process without a thread frame becomes one thread), the
rest become frames. py-spy writes an idle sample with no frames as ` 1`.

A frame's line is the line it was executing; the format has no def line, so
a function's def line is unknown (0) and a function seen at several lines
stays one function (its frames keep their lines).

The format has no times: each line becomes one sample weighted by its count,
at a synthetic time equal to the number of samples before it in the file, so
the file order is kept. Unit: samples.

Export writes one line per distinct (thread, stack), sorted, with integer
counts (flamegraph.pl needs integers) that keep each stack's true share
(`counts_unit`): sample counts where every sample stands for the same time
(the count weights of a "samples" profile, py-spy's equal ticks, as py-spy
writes them); for a recording, whose samples are weighted by the time each
stands for (a sample taken after the loop blocked stands for the whole wait),
ticks: each stack's time divided by the sampling interval and rounded, so
the counts read as samples at the recording's rate and each stack's share is
true to half a tick; a profile with no samples (call statistics, trace
events) has only time, written in integer microseconds. `convert` says which. Stacks get a py-spy style `thread (ID): NAME`
first frame only when the profile has more than one thread, so single-thread
output stays plain flamegraph input.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pyrometer.core.formats import jsonload
from pyrometer.core.formats.registry import Exporter, FormatError, Importer, ProgressFn
from pyrometer.core.formats.stackbuild import (
    StackBuilder,
    ThreadIds,
    frame_label,
    split_label,
    stack_paths,
    used_stacks,
    whole_counts,
)
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, Profile

_LINE = re.compile(r"^(?P<stack>.*)[ \t](?P<count>\d+)$")
_SNIFF_LINE = re.compile(rb"^.*[ \t]\d+\r?$")
_PROCESS = re.compile(r'^process (?P<pid>\d+):"(?P<cmd>.*)"$', re.DOTALL)
_THREAD = re.compile(r"^thread \((?P<tid>0x[0-9a-fA-F]+|\d+)\)(?:: (?P<name>.*))?$", re.DOTALL)
MAX_COUNT = 2**53  # beyond this a count is not a sample count any more


def _sniff(head: bytes, path: Path) -> bool:
    if b"\x00" in head or head.lstrip()[:1] in (b"{", b"["):
        return False
    lines = head.split(b"\n")
    if len(head) >= 64 * 1024 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off by the sniff limit
    checked = 0
    for line in lines:
        if not line.strip() or line.startswith(b"#"):
            continue
        if not _SNIFF_LINE.match(line):
            return False
        checked += 1
        if checked >= 200:
            break
    return checked > 0


def _thread_of(frames: list[str], threads: ThreadIds) -> tuple[int, int]:
    """(thread id, number of leading frames that named the thread/process)."""
    skip = 0
    pid: int | None = None
    cmd = ""
    if frames and frames[0].startswith("process "):
        m = _PROCESS.match(frames[0])
        if m:
            pid, cmd, skip = int(m.group("pid")), m.group("cmd"), 1
    if len(frames) > skip and frames[skip].startswith("thread ("):
        m = _THREAD.match(frames[skip])
        if m:
            native = int(m.group("tid"), 0)
            return threads.get((pid, native), native, m.group("name") or None), skip + 1
    if pid is not None:
        label = f'process {pid} "{cmd}"' if cmd else f"process {pid}"
        return threads.get((pid, None), pid, label), skip
    return threads.get((None, None), None, "all threads"), skip


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    text = jsonload.read_bytes(path).decode("utf-8", errors="replace")
    profile = Profile(UNIT_SAMPLES, "collapsed")
    profile.meta["timeless"] = True  # sample times below are only the file's order
    builder = StackBuilder(profile)
    threads = ThreadIds(profile)
    frame_ids: dict[str, int] = {}
    stack_cache: dict[str, tuple[int, int]] = {}
    thread_col: list[int] = []
    stack_col: list[int] = []
    count_col: list[int] = []
    lines = text.splitlines()
    total = len(lines) or 1
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise FormatError(f"{path}: line {lineno}: expected 'frame;frame;... COUNT', got {line[:60]!r}")
        count = int(m.group("count"))
        if count > MAX_COUNT:
            raise FormatError(f"{path}: line {lineno}: count {count} is too large")
        stack_text = m.group("stack")
        cached = stack_cache.get(stack_text)
        if cached is None:
            frames = [f for f in stack_text.split(";") if f]
            tid, skip = _thread_of(frames, threads)
            path_ids = []
            for label in frames[skip:]:
                fr = frame_ids.get(label)
                if fr is None:
                    name, file, lno = split_label(label)
                    fr = frame_ids[label] = profile.intern_frame(name, file, lno, 0)
                path_ids.append(fr)
            cached = stack_cache[stack_text] = (tid, builder.path(path_ids))
        thread_col.append(cached[0])
        stack_col.append(cached[1])
        count_col.append(count)
        if progress and lineno % 65536 == 0:
            progress(lineno / total)
    if not count_col:
        raise FormatError(f"{path}: no stack lines")
    builder.flush()
    weights = np.asarray(count_col, np.float64)
    times = np.concatenate(([0.0], np.cumsum(weights[:-1])))
    profile.add_samples(times, np.asarray(thread_col, np.int32), np.asarray(stack_col, np.int32), weight=weights)
    return profile


def has_samples(profile: Profile) -> bool:
    """True when the profile's rows are stack samples, not pieces of spans or an estimated tree."""
    return not (profile.meta.get("deterministic") or profile.meta.get("traced") or profile.meta.get("tree_estimated"))


def counts_unit(profile: Profile) -> str:
    """What one count of the export stands for: "samples", "ticks" or "microseconds".

    Sample counts only when they give the true shares: a "samples" profile, or
    samples that all stand for the same time (py-spy's ticks). A recording's
    samples do not (a sample taken late, after the loop blocked, stands for
    the whole wait): its time is written in ticks of its sampling interval
    (`tick_seconds`). A profile without samples has only time: microseconds.
    """
    if profile.unit != UNIT_SECONDS:
        return "samples"
    if not has_samples(profile) or not len(profile.samples):
        return "microseconds"
    w = profile.samples["weight"]
    lo, hi = float(w.min()), float(w.max())
    return "samples" if hi - lo <= 1e-9 * max(abs(hi), 1e-300) else "ticks"


def tick_seconds(profile: Profile) -> float:
    """The sampling interval one exported tick stands for: the asked rate, else the median sample weight."""
    rate = profile.meta.get("rate_hz")
    if isinstance(rate, int | float) and rate > 0:
        return 1.0 / float(rate)
    w = profile.samples["weight"]
    median = float(np.median(w[w > 0])) if np.any(w > 0) else 0.0
    return median if median > 0 else 1e-6
MAX_OUTPUT_BYTES = 1 << 30  # every line repeats its whole stack: deep stacks make this quadratic


def _check_size(profile: Profile, used: list[int], labels: list[str], path: Path) -> None:
    """Refuse before writing when the lines would add up to more than MAX_OUTPUT_BYTES."""
    parents = profile.stacks["parent"].tolist()
    depth = [0] * len(parents)
    for i, parent in enumerate(parents):
        depth[i] = 1 if parent < 0 else depth[parent] + 1
    frames = sum(depth[s] for s in used if s >= 0)
    average = (sum(len(x) for x in labels) / len(labels) + 1) if labels else 1.0
    size = frames * average
    if size > MAX_OUTPUT_BYTES:
        deepest = max((depth[s] for s in used if s >= 0), default=0)
        raise FormatError(
            f"{path}: as collapsed stacks this profile would take about {size / (1 << 30):.0f} GB "
            f"(stacks up to {deepest:,} frames deep, each line repeats its whole stack); "
            "write speedscope (.speedscope.json) or a .pyro recording instead"
        )


def _write(profile: Profile, path: Path) -> None:
    n = len(profile.samples)
    unit = counts_unit(profile)
    counts_samples = profile.unit == UNIT_SECONDS and unit == "samples"
    scale = {"microseconds": 1e6, "ticks": 1.0 / tick_seconds(profile) if n else 1.0}.get(unit, 1.0)
    labels = [
        frame_label(profile.func_name[f], profile.func_file[f], line)
        for f, line in zip(profile.frames["func"].tolist(), profile.frames["line"].tolist(), strict=True)
    ]
    used = used_stacks(profile)
    _check_size(profile, used, labels, path)
    paths = stack_paths(profile, used)
    lines: list[str] = []
    if n:
        tids, thread_index = np.unique(profile.samples["thread"], return_inverse=True)
        width = len(profile.stacks) + 1
        key = thread_index.ravel().astype(np.int64) * width + (profile.samples["stack"].astype(np.int64) + 1)
        keys, inverse = np.unique(key, return_inverse=True)  # 1-D: far faster than unique rows
        if counts_samples:  # one sample per row: count them, whatever time each stands for
            counts = np.bincount(inverse.ravel(), minlength=len(keys)).astype(np.int64)
        else:
            sums = np.bincount(inverse.ravel(), weights=profile.samples["weight"].astype(np.float64), minlength=len(keys))
            if unit == "ticks":  # each stack rounded on its own: its share true to half a tick
                counts = np.rint(sums * scale).astype(np.int64)
                counts[(counts == 0) & (sums > 0)] = 1  # a stack seen less than half a tick still shows
            else:  # the source's integers as it stated them, adding up to its total (stackbuild.whole_counts)
                counts = whole_counts(sums * scale)
        multi = len(tids) > 1
        pairs = zip(tids[keys // width].tolist(), (keys % width - 1).tolist(), strict=True)
        for (tid, sid), count in zip(pairs, counts.tolist(), strict=True):
            if count <= 0:
                continue
            parts = [labels[f].replace(";", ":") for f in paths[sid]] if sid >= 0 else []
            if multi:
                info = profile.threads.get(tid)
                name = info.name.replace(";", ":") if info else ""
                parts.insert(0, f"thread ({tid}): {name}" if name else f"thread ({tid})")
            lines.append(";".join(parts).replace("\n", " ") + f" {count}")
    lines.sort()
    jsonload.write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8") if lines else b"")


IMPORTER = Importer("collapsed", "collapsed stacks", (".collapsed", ".folded", ".txt"), _sniff, _load)
EXPORTER = Exporter("collapsed", "collapsed stacks", (".collapsed", ".folded", ".txt"), _write)
