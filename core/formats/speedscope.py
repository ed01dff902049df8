"""speedscope JSON (https://www.speedscope.app/file-format-schema.json): import and export.

Import handles both profile kinds the Python tools write: `sampled` (py-spy:
one profile per thread, a list of root-first frame-index stacks plus weights)
and `evented` (pyinstrument: open/close events with an `at` time). Each
speedscope profile becomes one thread. Time units become seconds; `none` and
`bytes` profiles make a "samples" profile whose weights are kept as written.
Sampled files carry no timestamps, so sample times are the running sum of the
weights from `startValue` (and the profile has no time axis). A frame's
`line` is the line it ran (py-spy) or its function's first line
(pyinstrument); our export adds `def_line` when the two differ, so a round
trip keeps both the functions and each frame's line. Evented profiles become one weighted sample per
self-time segment (time = segment start, weight = its length), so every
function's self and total time is exactly what the events say.

Speed: a py-spy file is mostly one huge `samples` array. Parsing it into
Python lists costs more than the rest of the import together, so the fast path
cuts each `"samples": [...]` array out of the raw bytes, dedupes the samples
by their bytes (a dict over ~1M short byte strings), parses only the distinct
stacks, and lets orjson parse the small remainder. Anything unexpected falls
back to a plain full parse, so the fast path can change speed, never results.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer._version import __version__
from pyrometer.core.analysis.measures import EXPORT_KEY, measure_of, measure_tag
from pyrometer.core.formats import jsonload
from pyrometer.core.formats.registry import Exporter, FormatError, Importer, ProgressFn
from pyrometer.core.formats.stackbuild import (
    StackBuilder,
    ThreadIds,
    exclusive_cumsum,
    stack_paths,
    used_stacks,
)
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, Profile

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
TIME_UNITS = {"seconds": 1.0, "milliseconds": 1e-3, "microseconds": 1e-6, "nanoseconds": 1e-9}
OTHER_UNITS = ("none", "bytes")
MAX_WEIGHT = 1e38  # a larger weight is not a measurement

_SCHEMA_RE = re.compile(rb'"\$schema"\s*:\s*"[^"]*speedscope')
_THREAD_NAME_RE = re.compile(r'^Thread (\d+|0x[0-9a-fA-F]+) "(.*)"$', re.DOTALL)
_WS = b" \t\r\n"
_ARRAY_END = re.compile(rb"\]\s*\]")
_STACK_TEXT = re.compile(rb"^(?:\d{1,9}(?:,\d{1,9})*)?$")


# ---------------------------------------------------------------- sniffing
def _sniff(head: bytes, path: Path) -> bool:
    if not head.lstrip()[:1] == b"{":
        return False
    if _SCHEMA_RE.search(head):
        return True
    return b'"shared"' in head and b'"profiles"' in head


# ---------------------------------------------------------------- fast path
def _skip_ws(data: bytes, i: int) -> int:
    n = len(data)
    while i < n and data[i] in _WS:
        i += 1
    return i


def _cut_samples(data: bytes) -> tuple[bytes, list[bytes]] | None:
    """Replace every `"samples": [...]` array by its index; None when there is none or it looks odd."""
    segments: list[bytes] = []
    out: list[bytes] = []
    pos = 0
    i = data.find(b'"samples"')
    while i >= 0:
        j = i - 1
        while j >= 0 and data[j] in _WS:
            j -= 1
        k = _skip_ws(data, i + 9)
        if j >= 0 and data[j] in b"{," and k < len(data) and data[k] == 0x3A:  # ':'
            k = _skip_ws(data, k + 1)
            if k < len(data) and data[k] == 0x5B:  # '['
                inner = _skip_ws(data, k + 1)
                if inner < len(data) and data[inner] == 0x5D:  # empty array
                    end = inner + 1
                else:
                    m = _ARRAY_END.search(data, k + 1)
                    if m is None:
                        return None
                    end = m.end()
                segments.append(data[k:end])
                out.append(data[pos:k])
                out.append(b"%d" % (len(segments) - 1))
                pos = end
                i = data.find(b'"samples"', end)
                continue
        i = data.find(b'"samples"', i + 9)
    if not segments:
        return None
    out.append(data[pos:])
    return b"".join(out), segments


def _split_segment(segment: bytes) -> list[bytes] | None:
    """`[[1,2],[3]]` -> [b"1,2", b"3"]; None unless it is exactly a list of int lists."""
    s = segment.translate(None, _WS)
    if s == b"[]":
        return []
    if not (s.startswith(b"[[") and s.endswith(b"]]")):
        return None
    inner = s[2:-2]
    parts = inner.split(b"],[")
    # Only digits and commas may remain between the separators: no nesting, strings or floats.
    if inner.translate(None, b"0123456789,") != b"][" * (len(parts) - 1):
        return None
    return parts


class _Samples:
    """Distinct stacks (as bytes or tuples) and, per speedscope profile, indices into them."""

    def __init__(self) -> None:
        self.keys: dict[Any, int] = {}

    def add_text(self, parts: list[bytes]) -> np.ndarray:
        keys = self.keys
        for k in dict.fromkeys(parts):
            if k not in keys:
                keys[k] = len(keys)
        return np.fromiter(map(keys.__getitem__, parts), np.int64, len(parts))

    def add_lists(self, samples: list[Any], where: str) -> np.ndarray:
        keys = self.keys
        try:
            ids = [keys.setdefault(t, len(keys)) for t in map(tuple, samples)]
        except TypeError as exc:
            raise FormatError(f"{where}: samples must be lists of frame indices") from exc
        return np.asarray(ids, np.int64)


def _parse(data: bytes, path: Path) -> tuple[Any, list[list[bytes]]]:
    """The document, with sampled `samples` either as lists or as indices into the returned segments."""
    cut = _cut_samples(data)
    if cut is not None:
        rest, segments = cut
        split = [_split_segment(seg) for seg in segments]
        if all(parts is not None for parts in split):
            try:
                doc = jsonload.parse_json(rest, path)
            except FormatError:
                doc = None
            if doc is not None and _placeholders_match(doc, len(segments)):
                return doc, split  # type: ignore[return-value]
    return jsonload.parse_json(data, path), []


def _placeholders_match(doc: Any, count: int) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("profiles"), list):
        return False
    seen = []
    for p in doc["profiles"]:
        if isinstance(p, dict) and "samples" in p:
            s = p["samples"]
            if not isinstance(s, int) or isinstance(s, bool):
                return False
            seen.append(s)
    return sorted(seen) == list(range(count))


# ---------------------------------------------------------------- import
def _number(value: Any, default: float = 0.0) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
        if np.isfinite(v):
            return v
    return default


def _intern_frames(profile: Profile, frames: Any, path: Path, executing_lines: bool = False) -> list[int]:
    if not isinstance(frames, list):
        raise FormatError(f"{path}: 'shared.frames' must be a list")
    fmap: list[int] = []
    for i, fr in enumerate(frames):
        if not isinstance(fr, dict) or not isinstance(fr.get("name"), str):
            raise FormatError(f"{path}: frame {i} has no name")
        file = fr.get("file")
        line = fr.get("line")
        line_no = int(line) if isinstance(line, (int, float)) and not isinstance(line, bool) and 0 <= line < 2**31 else 0
        firstline = 0 if executing_lines else line_no
        def_line = fr.get("def_line")  # our export: "line" is where the frame was, this where its function starts
        if type(def_line) is int and 0 <= def_line < 2**31:
            firstline = def_line
        fmap.append(profile.intern_frame(fr["name"], file if isinstance(file, str) else "", line_no, firstline))
    return fmap


def _thread_for(threads: ThreadIds, index: int, name: Any) -> int:
    text = name if isinstance(name, str) else ""
    m = _THREAD_NAME_RE.match(text)
    if m:
        native = int(m.group(1), 0)
        return threads.get(index, native, m.group(2) or f"Thread {m.group(1)}")
    return threads.get(index, None, text or f"profile {index}")


def _stack_ids(samples: _Samples, fmap: list[int], builder: StackBuilder, path: Path) -> np.ndarray:
    """Intern every distinct sample stack once; array mapping key index -> stack id."""
    nframes = len(fmap)
    out = np.empty(len(samples.keys), np.int32)
    for key, idx in samples.keys.items():
        if isinstance(key, bytes):
            if not _STACK_TEXT.match(key):
                raise FormatError(f"{path}: malformed sample stack [{key[:40].decode('ascii', 'replace')}]")
            frames = [int(x) for x in key.split(b",")] if key else []
        else:
            frames = list(key)
            for x in frames:
                if not isinstance(x, int) or isinstance(x, bool):
                    raise FormatError(f"{path}: sample stack holds a non-integer frame index {x!r}")
        for x in frames:
            if not 0 <= x < nframes:
                raise FormatError(f"{path}: sample refers to frame {x}, but only {nframes} frames are defined")
        out[idx] = builder.path([fmap[x] for x in frames])
    return out


def _evented(
    profile: Profile, builder: StackBuilder, p: dict[str, Any], fmap: list[int], factor: float, where: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open/close events -> (times, stacks, weights) of self-time segments."""
    events = p.get("events")
    if not isinstance(events, list):
        raise FormatError(f"{where}: evented profile without an 'events' list")
    nframes = len(fmap)
    times: list[float] = []
    stacks: list[int] = []
    weights: list[float] = []
    open_frames: list[int] = []  # speedscope frame indices, outermost first
    open_stacks: list[int] = []
    last = -np.inf
    for n, ev in enumerate(events):
        if not isinstance(ev, dict):
            raise FormatError(f"{where}: event {n} is not an object")
        kind, at, frame = ev.get("type"), ev.get("at"), ev.get("frame")
        if not isinstance(at, (int, float)) or isinstance(at, bool) or not np.isfinite(at):
            raise FormatError(f"{where}: event {n} has no valid 'at' time")
        if not isinstance(frame, int) or isinstance(frame, bool) or not 0 <= frame < nframes:
            raise FormatError(f"{where}: event {n} refers to an undefined frame {frame!r}")
        if at < last:
            if last - at > 1e-9 * max(1.0, abs(last)):  # more than float noise
                raise FormatError(f"{where}: event {n} goes back in time ({at} < {last})")
            at = last
        if open_stacks and at > last:
            times.append(last)
            stacks.append(open_stacks[-1])
            weights.append(at - last)
        last = at
        if kind == "O":
            parent = open_stacks[-1] if open_stacks else -1
            open_frames.append(frame)
            open_stacks.append(builder.intern(parent, fmap[frame]))
        elif kind == "C":
            if not open_frames or open_frames[-1] != frame:
                if frame not in open_frames:
                    raise FormatError(f"{where}: event {n} closes frame {frame}, which is not open")
                # Close the inner frames too (speedscope requires proper nesting; be lenient).
            while open_frames:
                top = open_frames.pop()
                open_stacks.pop()
                if top == frame:
                    break
        else:
            raise FormatError(f"{where}: event {n} has unknown type {kind!r}")
    end = _number(p.get("endValue"), last)
    if open_stacks and end > last:
        times.append(last)
        stacks.append(open_stacks[-1])
        weights.append(end - last)
    w = np.asarray(weights, np.float64) / round(1.0 / factor)  # / 1000, not * 1e-3 (not exact): as written
    if not (np.abs(w) <= MAX_WEIGHT).all():
        raise FormatError(f"{where}: event times span beyond any time range")
    return np.asarray(times, np.float64) * factor, np.asarray(stacks, np.int32), w


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    data = jsonload.read_bytes(path)
    if progress:
        progress(0.1)
    doc, segments = _parse(data, path)
    del data
    if progress:
        progress(0.4)
    if not isinstance(doc, dict):
        raise FormatError(f"{path}: not a speedscope file (top level is not an object)")
    profiles = doc.get("profiles")
    if not isinstance(profiles, list):
        raise FormatError(f"{path}: not a speedscope file (no 'profiles' list)")
    shared = doc.get("shared", {})
    if not isinstance(shared, dict):
        raise FormatError(f"{path}: 'shared' must be an object")

    units = []
    for i, p in enumerate(profiles):
        if not isinstance(p, dict):
            raise FormatError(f"{path}: profile {i} is not an object")
        unit = p.get("unit", "none")
        if unit not in TIME_UNITS and unit not in OTHER_UNITS:
            raise FormatError(f"{path}: profile {i} has unknown unit {unit!r}")
        units.append(unit)
    all_time = bool(units) and all(u in TIME_UNITS for u in units)
    profile = Profile(UNIT_SECONDS if all_time else UNIT_SAMPLES, "speedscope")
    if not all_time or not any(isinstance(p, dict) and p.get("type") == "evented" for p in profiles):
        # sampled profiles carry weights, not timestamps: their times are running sums, no time axis
        profile.meta["timeless"] = True
    for key in ("name", "exporter", EXPORT_KEY):
        if isinstance(doc.get(key), str):
            profile.meta[key] = doc[key]
    # py-spy's frame line is the executing line, not the def line: merge a
    # function's lines into one function (its def line is unknown, 0).
    executing_lines = str(doc.get("exporter", "")).startswith("py-spy")
    fmap = _intern_frames(profile, shared.get("frames", []), path, executing_lines)
    builder = StackBuilder(profile)
    threads = ThreadIds(profile)

    # Sampled profiles: collect distinct stacks over all profiles first.
    distinct = _Samples()
    sample_keys: dict[int, np.ndarray] = {}
    for i, p in enumerate(profiles):
        kind = p.get("type")
        where = f"{path}: profile {i}"
        if kind == "sampled":
            s = p.get("samples")
            if isinstance(s, int) and not isinstance(s, bool) and segments:
                sample_keys[i] = distinct.add_text(segments[s])
            elif isinstance(s, list):
                sample_keys[i] = distinct.add_lists(s, where)
            else:
                raise FormatError(f"{where}: sampled profile without a 'samples' list")
        elif kind != "evented":
            raise FormatError(f"{where}: unknown profile type {kind!r}")
    segments = []
    key_stack = _stack_ids(distinct, fmap, builder, path)
    if progress:
        progress(0.7)

    batches: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    for i, p in enumerate(profiles):
        where = f"{path}: profile {i}"
        factor = TIME_UNITS.get(units[i], 1.0)
        tid = _thread_for(threads, i, p.get("name"))
        if i in sample_keys:
            keys = sample_keys[i]
            n = len(keys)
            raw_w = p.get("weights")
            if raw_w is None:
                weights = np.ones(n, np.float64)
            else:
                if not isinstance(raw_w, list):
                    raise FormatError(f"{where}: 'weights' must be a list")
                try:
                    weights = np.asarray(raw_w, np.float64)
                except (TypeError, ValueError) as exc:
                    raise FormatError(f"{where}: 'weights' must be numbers") from exc
                if weights.shape != (n,):
                    raise FormatError(f"{where}: {len(raw_w)} weights for {n} samples")
            if n and not (np.abs(weights) * factor <= MAX_WEIGHT).all():  # also false for NaN
                raise FormatError(f"{where}: weights must be finite numbers below {MAX_WEIGHT:g}")
            start = _number(p.get("startValue"), 0.0)
            times = (start + exclusive_cumsum(weights)) * factor
            if n and not np.isfinite(times[-1] + weights[-1] * factor):
                raise FormatError(f"{where}: weights add up beyond any time range")
            # / 1000, not * 1e-3 (not exact): a weight comes back as written (model.EXACT_WEIGHT)
            batches.append((times, tid, key_stack[keys], weights / round(1.0 / factor)))
        else:
            times, stacks, weights = _evented(profile, builder, p, fmap, factor, where)
            batches.append((times, tid, stacks, weights))
    builder.flush()
    for times, tid, stacks, weights in batches:
        profile.add_samples(times, np.full(len(times), tid, np.int32), stacks, weight=weights)
    if progress:
        progress(1.0)
    return profile


# ---------------------------------------------------------------- export
def clean_floats(values: np.ndarray) -> list[float]:
    """float32 values as the shortest decimals that round-trip (0.01, not 0.009999999776); float64 as they are.

    Sample weights repeat a lot (py-spy: one interval), so only distinct values are formatted.
    """
    if values.dtype != np.float32:  # float64 weights (model.EXACT_WEIGHT) are the file's own: integers stay integers
        return [int(x) if x.is_integer() and abs(x) <= 2**53 else x for x in np.asarray(values, np.float64).tolist()]
    distinct, inverse = np.unique(values, return_inverse=True)
    clean = np.array([float(x) for x in distinct.astype(str)], np.float64)
    return clean[inverse.ravel()].tolist()  # type: ignore[no-any-return]


MAX_SAMPLED_FRAMES = 20_000_000  # frames listed by a "sampled" export beyond which "evented" is written


def _stack_depths(profile: Profile) -> tuple[list[int], list[int], list[int]]:
    """(parent, frame, depth) per stack id, as lists (parents always have smaller ids)."""
    parent = profile.stacks["parent"].tolist()
    frame = profile.stacks["frame"].tolist()
    depth = [0] * len(parent)
    for i, p in enumerate(parent):
        depth[i] = 1 if p < 0 else depth[p] + 1
    return parent, frame, depth


def _events_of_samples(stacks: list[int], weights: np.ndarray, start: float,
             tree: tuple[list[int], list[int], list[int]]) -> tuple[list[dict[str, Any]], float]:
    """Open/close events for samples laid end to end by weight: only what changes between
    consecutive stacks is written, so a 100k-deep stack costs 100k events, not 100k per sample."""
    parent, frame, depth = tree
    events: list[dict[str, Any]] = []
    at = start
    cur = -1
    ends = np.cumsum(weights, dtype=np.float64) + start
    for s, end in zip(stacks, ends.tolist(), strict=True):
        a, b = cur, s
        da = depth[a] if a >= 0 else 0
        db = depth[b] if b >= 0 else 0
        opened: list[int] = []
        while da > db:
            events.append({"type": "C", "at": at, "frame": frame[a]})
            a, da = parent[a], da - 1
        while db > da:
            opened.append(b)
            b, db = parent[b], db - 1
        while a != b:
            events.append({"type": "C", "at": at, "frame": frame[a]})
            opened.append(b)
            a, b = parent[a], parent[b]
        events.extend({"type": "O", "at": at, "frame": frame[x]} for x in reversed(opened))
        cur, at = s, end
    while cur >= 0:
        events.append({"type": "C", "at": at, "frame": frame[cur]})
        cur = parent[cur]
    return events, at


def _write(profile: Profile, path: Path) -> None:
    seconds = profile.unit == UNIT_SECONDS
    frames_func = profile.frames["func"].tolist()
    frames_line = profile.frames["line"].tolist()
    shared_frames: list[dict[str, Any]] = [
        {"name": profile.func_name[f], "file": profile.func_file[f], "line": line}
        if profile.func_file[f]
        else {"name": profile.func_name[f]}
        for f, line in zip(frames_func, frames_line, strict=True)
    ]
    for fr, f in zip(shared_frames, frames_func, strict=True):
        if "file" in fr and profile.func_line[f] != fr["line"]:
            fr["def_line"] = profile.func_line[f]  # a function is its def line; "line" is the frame's own
    tree = _stack_depths(profile)
    used = profile.samples["stack"]
    listed = int(np.asarray(tree[2], np.int64)[used[used >= 0]].sum()) if len(used) else 0
    evented = listed > MAX_SAMPLED_FRAMES  # deep stacks: "sampled" would list every frame of every sample
    paths = {} if evented else stack_paths(profile, used_stacks(profile))
    empty: list[int] = []
    n = len(profile.samples)
    time = profile.samples["time"]
    order = np.lexsort((time, profile.samples["thread"])) if n else np.zeros(0, np.int64)
    thread_col = profile.samples["thread"][order]
    cuts = np.flatnonzero(np.diff(thread_col)) + 1 if n else np.zeros(0, np.int64)
    out_profiles: list[dict[str, Any]] = []
    for chunk in np.split(order, cuts) if n else []:
        tid = int(profile.samples["thread"][chunk[0]])
        info = profile.threads.get(tid)
        name = info.name if info else f"thread {tid}"
        w = profile.samples["weight"][chunk]
        stacks = profile.samples["stack"][chunk].tolist()
        start = float(time[chunk[0]])
        if evented:
            events, end = _events_of_samples(stacks, w, start, tree)
            out_profiles.append(
                {"type": "evented", "name": f'Thread {tid} "{name}"', "unit": "seconds" if seconds else "none",
                 "startValue": start, "endValue": end, "events": events}
            )
            continue
        out_profiles.append(
            {
                "type": "sampled",
                "name": f'Thread {tid} "{name}"',
                "unit": "seconds" if seconds else "none",
                "startValue": start,
                "endValue": start + float(w.sum(dtype=np.float64)),
                "samples": [paths[s] if s >= 0 else empty for s in stacks],
                "weights": clean_floats(w),
            }
        )
    doc = {
        "$schema": SCHEMA_URL,
        "shared": {"frames": shared_frames},
        "profiles": out_profiles,
        "name": str(profile.meta.get("name") or path.name),
        "activeProfileIndex": 0,
        "exporter": f"pyrometer@{__version__}",
        EXPORT_KEY: measure_tag(measure_of(profile)),  # what the weights are (wall, cpu...): speedscope has no field
    }
    jsonload.write_bytes(path, jsonload.dumps(doc))


IMPORTER = Importer("speedscope", "speedscope JSON", (".speedscope.json", ".speedscope", ".json"), _sniff, _load)
EXPORTER = Exporter("speedscope", "speedscope JSON", (".speedscope.json", ".speedscope", ".json", ".json.gz"), _write)
