"""Austin's text format (`austin -o FILE`, Austin 3.x): import.

One sample per line, `P<pid>;T<iid>:<tid>;<file>:<function>:<line>;... <metrics>`,
root first, and `# key: value` metadata (mode, interval, duration...). The
metric is microseconds in `wall` and `cpu` mode, bytes (signed) in `memory`
mode, and `time,idle,memory` in `full` mode (`-f`). Each sample's time metric
is the time since that thread's previous sample, so laying a thread's samples
end to end gives its timeline. Full mode offers three sample types: `wall`
(the time), `cpu` (the time of samples whose thread was not idle; it also
fills the model's cpu column) and `memory`; `stats --sample-type` picks one.
File names may contain colons, so a frame splits at its last two. Samples with
no frames (a thread with no Python stack) count toward the total, as in
austin-python. Austin's binary MOJO format (`-b`) is read by austin_mojo.py
into the same rows and `build_profile`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np

from pyrometer.core.formats import jsonload
from pyrometer.core.formats.registry import FormatError, Importer, ProgressFn
from pyrometer.core.formats.stackbuild import StackBuilder, ThreadIds, exclusive_cumsum
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, Profile

_SAMPLE = re.compile(r"^P(\d+);T(\w+):(\w+)(;.*)?$", re.DOTALL)
_METRICS = re.compile(r"^-?\d+(?:,-?\d+)*$")
_HEAD = re.compile(rb"^(?:# austin: [^\n]*\n|(?:#[^\n]*\n|\s*\n)*P\d+;T\w+:\w+[; ])")
MODE_TYPES = {
    "wall": ["wall/microseconds"],
    "cpu": ["cpu/microseconds"],
    "memory": ["memory/bytes"],
    "full": ["wall/microseconds", "cpu/microseconds", "memory/bytes"],
}


def _sniff(head: bytes, path: Path) -> bool:
    return _HEAD.match(head) is not None


def text_frames(text: str, where: str) -> list[tuple[str, str, int]]:
    """`;file:function:line;...` -> [(function, file, line)], root first."""
    out = []
    for part in text.split(";")[1:] if text else []:
        bits = part.rsplit(":", 2)
        if len(bits) != 3:
            raise FormatError(f"{where}: frame {part[:60]!r} is not file:function:line")
        file, name, line = bits
        out.append((name or "?", file, int(line) if line.isdigit() and len(line) < 10 else 0))
    return out


# A sample: (pid, iid, tid), a hashable stack key, its metric values.
Row = tuple[tuple[str, str, str], Hashable, list[int]]


def load_austin(path: Path, progress: ProgressFn | None = None, sample_type: str | None = None) -> Profile:
    data = jsonload.read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not an Austin file (not UTF-8 text at byte {exc.start})") from exc
    del data
    meta: dict[str, str] = {}
    rows: list[Row] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                meta[key.strip()] = value.strip()
            continue
        where, _, metrics = line.rpartition(" ")
        m = _SAMPLE.match(where)
        if m is None or not _METRICS.match(metrics):
            raise FormatError(f"{path}: line {n} is not an Austin sample: {line[:60]!r}")
        pid, iid, tid, frames = m.groups()
        rows.append(((pid, iid, tid), frames or "", [int(v) for v in metrics.split(",")]))
    if progress:
        progress(0.4)
    return build_profile(path, meta, rows, lambda key, where: text_frames(str(key), where), sample_type, "austin")


def build_profile(
    path: Path,
    meta: dict[str, str],
    rows: list[Row],
    resolve: Callable[[Hashable, str], list[tuple[str, str, int]]],
    sample_type: str | None,
    source: str,
) -> Profile:
    """Austin samples (text or MOJO) -> Profile, for the chosen metric."""
    mode = meta.get("mode", "wall")
    if mode not in MODE_TYPES:
        raise FormatError(f"{path}: unknown Austin mode {mode!r}")
    types = MODE_TYPES[mode]
    chosen = types[0]
    if sample_type is not None:
        matches = [t for t in types if sample_type in (t, t.split("/")[0])]
        if not matches:
            raise FormatError(f"{path}: no sample type {sample_type!r}; this file has {', '.join(types)}")
        chosen = matches[0]
    seconds = chosen.endswith("microseconds")
    profile = Profile(UNIT_SECONDS if seconds else UNIT_SAMPLES, source)
    profile.meta.update({"sample_types": types, "sample_type": chosen, "austin_mode": mode})
    for key in ("austin", "interval", "duration", "python"):
        if key in meta:
            profile.meta[f"austin_{key}"] = meta[key]
    if not seconds or mode == "cpu":
        profile.meta["timeless"] = True  # bytes, or CPU time (gaps while idle are unknown)
    nvalues = 3 if mode == "full" else 1
    builder = StackBuilder(profile)
    threads = ThreadIds(profile)
    frame_cache: dict[tuple[str, str, int], int] = {}
    stack_cache: dict[Hashable, int] = {}
    stacks, tids, time_us, weight, cpu = [], [], [], [], []
    for n, ((pid, iid, tid), stack_key, values) in enumerate(rows):
        if len(values) != nvalues:
            raise FormatError(f"{path}: sample {n + 1} has {len(values)} metrics; {mode} mode has {nvalues}")
        if any(abs(v) > 2**62 for v in values):
            raise FormatError(f"{path}: sample {n + 1} has an absurd metric")
        sid = stack_cache.get(stack_key)
        if sid is None:
            ids = []
            for fr in resolve(stack_key, f"{path}: sample {n + 1}"):
                fid = frame_cache.get(fr)
                if fid is None:
                    fid = frame_cache[fr] = profile.intern_frame(fr[0], fr[1], fr[2], 0)
                ids.append(fid)
            sid = stack_cache[stack_key] = builder.path(ids)
        try:
            native = int(tid, 0)
        except ValueError:
            native = None
        tids.append(threads.get((pid, iid, tid), native if native is not None and native < 2**31 else None, f"P{pid} T{iid}:{tid}"))
        stacks.append(sid)
        elapsed = values[0] if mode != "memory" else 0
        busy = elapsed if mode != "full" or values[1] == 0 else 0
        time_us.append(max(elapsed, 0))
        amount = {"wall": values[0], "cpu": busy, "memory": values[-1]}[chosen.split("/")[0]]
        weight.append(amount / 1e6 if seconds else amount)  # / 1e6: the µs as written, not * 1e-6
        cpu.append(busy * 1e-6 if mode == "full" and chosen.startswith("wall") else -1.0)
    builder.flush()
    tid_arr = np.asarray(tids, np.int32)
    t_arr = np.asarray(time_us, np.float64) * 1e-6
    times = np.zeros(len(rows), np.float64)
    for tid in np.unique(tid_arr).tolist():  # each thread's samples end to end
        mask = tid_arr == tid
        times[mask] = exclusive_cumsum(t_arr[mask] if seconds else np.abs(np.asarray(weight, np.float64)[mask]))
    if rows:
        profile.add_samples(times, tid_arr, np.asarray(stacks, np.int32), weight=np.asarray(weight, np.float64), cpu=np.asarray(cpu, np.float64))
    return profile


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    return load_austin(path, progress)


def _load_type(path: Path, progress: ProgressFn | None, sample_type: str) -> Profile:
    return load_austin(path, progress, sample_type)


IMPORTER = Importer("austin", "Austin text", (".austin",), _sniff, _load, _load_type)
