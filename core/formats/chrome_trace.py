"""Chrome trace-event JSON (as VizTracer writes it): import and export.

Import reads `{"traceEvents": [...]}` or a bare list (whose closing `]` may
be missing, as the trace-event format allows for traces cut short), plain or
gzipped. `X`
(complete) events and `B`/`E` pairs become spans per (pid, tid) thread, named
by `M` `thread_name` metadata. Spans are nested per thread (by start, longest
first; a child running past its parent is clipped to it) and turned into one
weighted sample per self-time segment, so each function's self and total time
is what the spans say. Unit: seconds, from the trace's microseconds rounded to
whole nanoseconds (VizTracer's resolution; integers nest exactly where float
sums would leave sub-ns slivers of fake self time), with time 0 at the
earliest span. VizTracer names look like `func (/path/file.py:12)`
(12 is the def line); C functions are bare names like `_thread.get_ident`.
py-spy's `--format chrometrace` writes B/E pairs with a bare name and the
location in `args.filename` / `args.line`; both are understood.
Other phases (instant, counter, flow, async) are ignored. An `X` event
without `dur` (Chrome 65-70 leave a few unfinished at the end of a
recording) lasts until its thread's last timestamp, like a `B` without `E`,
and a notice says how many there were. A DevTools trace whose JavaScript
samples sit in `Profile`/`ProfileChunk` events is read from those samples
(`chrome_cpu_samples`). A label is split into function and location only in
VizTracer's `name (file:line)` form, or `name (path)` as our exporter writes
a function without a line (PyTorch's `PyTorch Profiler (0)` is a name).

Export names a span `func (file:def line)`, as VizTracer does, with the
executing line in `args.line` when it differs, so a round trip keeps the
same functions and each frame's line. Export turns each thread's samples, in time order, into nested `X` spans: a
frame stays open across consecutive samples whose stacks share it. Samples are
laid end to end (a sample starts at its time, or where the previous one ended
if they overlap), so every weight survives the round trip; samples with an
empty stack leave no span. "samples" profiles are written as one second per
sample and marked in `otherData` so that we read them back as samples.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer._version import __version__
from pyrometer.core.analysis.measures import EXPORT_KEY, measure_of, measure_tag
from pyrometer.core.formats import chrome_cpu_samples, jsonload
from pyrometer.core.formats.registry import Exporter, FormatError, Importer, ProgressFn
from pyrometer.core.formats.span_calls import SpanCalls
from pyrometer.core.formats.speedscope import clean_floats
from pyrometer.core.formats.stackbuild import (
    INT32_MAX,
    StackBuilder,
    ThreadIds,
    frame_label,
    split_label,
    stack_paths,
    used_stacks,
)
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, Profile

_LIST_START = re.compile(rb"^\s*\[\s*\{")
_PH_KEY = re.compile(rb'"ph"\s*:\s*"[A-Za-z]"')
_MAX_US = 4e15  # ~127 years: ts and ts + dur still fit int64 nanoseconds
_PHASES = frozenset(("X", "B", "E", "M"))
_NUMBER = (int, float)  # exact types: bool is not a time
_PATHLIKE = re.compile(r"[/\\.<~]")  # what a location in "name (location)" looks like
_GAP_S = 1e-9  # exporter: samples closer than 1 ns are back to back


def _sniff(head: bytes, path: Path) -> bool:
    h = head.lstrip()
    if h[:1] == b"{":
        return re.search(rb'"traceEvents"\s*:', head) is not None
    # a bare event list (py-spy --format chrometrace puts "args" objects before "ph")
    return bool(_LIST_START.match(head)) and _PH_KEY.search(head, 0, 4096) is not None


def _number(ev: dict[str, Any], key: str, where: str) -> float:
    v = ev.get(key)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        raise FormatError(f"{where}: '{key}' must be a finite number, got {v!r}")
    if abs(v) > _MAX_US:
        raise FormatError(f"{where}: '{key}' {v} is out of range")
    return float(v)


def _key(ev: dict[str, Any], where: str) -> tuple[Any, Any]:
    pid, tid = ev.get("pid", 0), ev.get("tid", 0)
    for v in (pid, tid):
        if not isinstance(v, (int, str)) or isinstance(v, bool):
            raise FormatError(f"{where}: pid/tid must be integers or strings, got {v!r}")
    return pid, tid


class _Spans:
    """Spans of one thread as parallel lists (start µs, end µs, frame, file order)."""

    __slots__ = ("ends", "frames", "last", "open", "order", "starts", "unfinished")

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.frames: list[int] = []
        self.order: list[int] = []
        self.open: list[tuple[int, float]] = []  # B events awaiting their E: (frame, start)
        self.unfinished: list[tuple[int, float, int]] = []  # X events without dur: (frame, start, order)
        self.last = -math.inf  # latest timestamp seen on this thread

    def add(self, start: float, end: float, frame: int, order: int) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.frames.append(frame)
        self.order.append(order)


def _to_ns(values: list[float]) -> np.ndarray:
    """Microsecond floats -> integer nanoseconds, so nesting compares exact integers, not float noise."""
    return np.rint(np.asarray(values, np.float64) * 1000.0).astype(np.int64)


def _self_time(spans: _Spans, builder: StackBuilder, calls: SpanCalls | None = None) -> tuple[list[int], list[int], list[int]]:
    """Nest one thread's spans; (segment starts ns, stack ids, durations ns) of self time.

    Each span is also one call, told to `calls` when it closes (with its own self time).
    """
    starts = _to_ns(spans.starts)
    ends = np.maximum(_to_ns(spans.ends), starts)
    order = np.asarray(spans.order, np.int64)
    # start ascending, longer first, and for identical spans the later one (closed later) outside.
    idx = np.lexsort((-order, -ends, starts))
    frames = np.asarray(spans.frames, np.int64)[idx].tolist()
    out_t: list[int] = []
    out_s: list[int] = []
    out_w: list[int] = []
    open_ends: list[int] = []
    open_ids: list[int] = []
    # per open span, for `calls`: [function, start ns, self ns]; and how often each function is open
    open_calls: list[list[int]] = []
    open_funcs: dict[int, int] = {}
    frame_func = calls.frame_func if calls is not None else []
    cur = -(2**63)

    def close_ended(upto: float) -> None:
        """Close every open span ending by `upto`; the time since `cur` was its own (self) time."""
        nonlocal cur
        while open_ends and open_ends[-1] <= upto:
            end = open_ends.pop()
            sid = open_ids.pop()
            own = 0
            if end > cur:
                out_t.append(cur)
                out_s.append(sid)
                out_w.append(end - cur)
                own = end - cur
                cur = end
            if calls is not None:
                func, start, own_before = open_calls.pop()
                open_funcs[func] -= 1
                caller = open_calls[-1][0] if open_calls else -1
                calls.add(func, caller, end - start, own_before + own, open_funcs[func] > 0)

    for s, e, fr in zip(starts[idx].tolist(), ends[idx].tolist(), frames, strict=True):
        close_ended(s)
        if open_ends:
            if s > cur:
                out_t.append(cur)
                out_s.append(open_ids[-1])
                out_w.append(s - cur)
                if calls is not None:
                    open_calls[-1][2] += s - cur
            e = min(e, open_ends[-1])
            parent = open_ids[-1]
        else:
            parent = -1
        cur = max(cur, s)
        open_ends.append(e)
        open_ids.append(builder.intern(parent, fr))
        if calls is not None:
            func = frame_func[fr]
            open_calls.append([func, s, 0])
            open_funcs[func] = open_funcs.get(func, 0) + 1
    close_ended(math.inf)
    return out_t, out_s, out_w


def _note_name(
    ev: dict[str, Any], key: tuple[Any, Any], thread_names: dict[tuple[Any, Any], str], process_names: dict[Any, str]
) -> None:
    """Record the thread or process name an M (metadata) event gives, if it gives one."""
    args = ev.get("args")
    label = args.get("name") if isinstance(args, dict) else None
    if isinstance(label, str):
        if ev.get("name") == "thread_name":
            thread_names[key] = label
        elif ev.get("name") == "process_name":
            process_names[key[0]] = label


_Names = tuple[dict[tuple[Any, Any], "_Spans"], dict[tuple[Any, Any], str], dict[Any, str]]


def _complete_events_only(events: list[Any], path: Path, frame_of: Any) -> _Names | None:
    """Column-wise read of the common VizTracer shape: only X (and M and ignored) events.

    About 3x faster than the general per-event loop on million-event traces. Any
    irregularity (B/E pairs, args, a missing or odd field) returns None and the
    general loop, which names the offending event, does the work instead.
    """
    try:
        phases = [ev["ph"] for ev in events]
    except (TypeError, KeyError):
        return None
    if "B" in phases or "E" in phases:
        return None
    xi = [i for i, ph in enumerate(phases) if ph == "X"]
    xs = [events[i] for i in xi]
    try:
        if any("args" in ev for ev in xs):
            return None
        ts = np.array([ev["ts"] for ev in xs], np.float64)
        dur = np.array([ev["dur"] for ev in xs], np.float64)
        keys = [(ev.get("pid", 0), ev.get("tid", 0)) for ev in xs]
        names = [ev["name"] for ev in xs]
        index: dict[tuple[Any, Any], int] = {}
        tcol = np.array([index.setdefault(k, len(index)) for k in keys], np.int64)
        distinct = dict.fromkeys(names)
    except (KeyError, TypeError, ValueError):
        return None
    if not ((np.abs(ts) <= _MAX_US) & (dur >= 0) & (dur <= _MAX_US)).all():
        return None
    for pid, tid in index:
        if not all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in (pid, tid)):
            return None
    for name in distinct:
        if not isinstance(name, str):
            return None
        distinct[name] = frame_of(name, None, str(path))
    threads: dict[tuple[Any, Any], _Spans] = {}
    thread_names: dict[tuple[Any, Any], str] = {}
    process_names: dict[Any, str] = {}
    for i, ph in enumerate(phases):
        if ph == "M":
            ev = events[i]
            key = (ev.get("pid", 0), ev.get("tid", 0))
            try:
                threads.setdefault(key, _Spans())
            except TypeError:
                return None
            if not all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in key):
                return None
            _note_name(ev, key, thread_names, process_names)
    frames = np.fromiter(map(distinct.__getitem__, names), np.int64, len(names))
    order = np.asarray(xi, np.int64)
    by_thread = np.argsort(tcol, kind="stable")
    cuts = np.flatnonzero(np.diff(tcol[by_thread])) + 1
    keys_in_order = list(index)
    for chunk in np.split(by_thread, cuts) if len(by_thread) else []:
        spans = threads.setdefault(keys_in_order[int(tcol[chunk[0]])], _Spans())
        spans.starts = ts[chunk].tolist()
        spans.ends = (ts[chunk] + dur[chunk]).tolist()
        spans.frames = frames[chunk].tolist()
        spans.order = order[chunk].tolist()
    return threads, thread_names, process_names


def _parse(path: Path) -> Any:
    """The JSON document; an event list may lack its closing `]` (the trace-event spec allows it)."""
    data = jsonload.read_bytes(path)
    try:
        return jsonload.parse_json(data, path)
    except FormatError:
        body = data.rstrip()
        if body.lstrip()[:1] != b"[" or body.endswith(b"]"):
            raise
        try:
            return jsonload.parse_json(body.rstrip(b", \t\r\n") + b"]", path)
        except FormatError:
            pass
        raise


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    doc = _parse(path)
    if progress:
        progress(0.3)
    other: Any = {}
    if isinstance(doc, dict):
        events = doc.get("traceEvents")
        if not isinstance(events, list):
            raise FormatError(f"{path}: not a Chrome trace ('traceEvents' is not a list)")
        other = doc.get("otherData") or {}
    elif isinstance(doc, list):
        events = doc
    else:
        raise FormatError(f"{path}: not a Chrome trace (top level is neither an object nor a list)")
    samples_unit = isinstance(other, dict) and other.get("pyrometer_unit") == UNIT_SAMPLES
    profile = Profile(UNIT_SAMPLES if samples_unit else UNIT_SECONDS, "chrome_trace")
    if isinstance(other, dict):
        profile.meta.update({k: v for k, v in other.items() if isinstance(v, (str, int, float))})
    if chrome_cpu_samples.has_samples(events):
        chrome_cpu_samples.load_samples(events, path, profile)
        return profile
    profile.meta["traced"] = True  # spans of calls: the samples below are their self-time pieces
    if events and isinstance(events[0], dict) and events[0].get("cat") == "py-spy":
        profile.meta["producer"] = "py-spy"  # its samples as spans: whether idle threads are in depends on --idle
    meta = doc.get("viztracer_metadata") if isinstance(doc, dict) else None
    if isinstance(meta, dict) and meta.get("overflow") is True:
        profile.notices.append(
            {
                "level": "warning",
                "message": f"{path}: VizTracer's ring buffer wrapped, so the trace misses the start of the run "
                "and outer functions look like self time (record again with a larger --tracer_entries)",
            }
        )

    frame_ids: dict[str, int] = {}
    threads: dict[tuple[Any, Any], _Spans] = {}
    thread_names: dict[tuple[Any, Any], str] = {}
    process_names: dict[Any, str] = {}

    located: dict[tuple[str, str, int], int] = {}
    at_line: dict[tuple[str, int], int] = {}

    def frame_of(name: Any, args: Any, where: str) -> int:
        if not isinstance(name, str):
            raise FormatError(f"{where}: event has no name")
        current = args.get("line") if isinstance(args, dict) and "filename" not in args else None
        if type(current) is int and 0 < current <= INT32_MAX:  # our export: label has the def line, args the current one
            fr = at_line.get((name, current))
            if fr is None:
                func, file, lno = split_label(name)
                fr = at_line[(name, current)] = profile.intern_frame(func, file, current, lno)
            return fr
        if isinstance(args, dict) and isinstance(args.get("filename"), str):
            # py-spy's chrometrace: bare function name, location in args
            line = args.get("line")
            lno = line if type(line) is int and 0 <= line <= INT32_MAX else 0
            key = (name, args["filename"], lno)
            fr = located.get(key)
            if fr is None:
                fr = located[key] = profile.intern_frame(name, key[1], lno, lno)
            return fr
        fr = frame_ids.get(name)
        if fr is None:
            func, file, lno = split_label(name)
            if not lno and not _PATHLIKE.search(file):  # "PyTorch Profiler (0)" is a name, not a file
                func, file = name, ""
            fr = frame_ids[name] = profile.intern_frame(func, file, lno, lno)
        return fr

    fast = _complete_events_only(events, path, frame_of)
    if fast is not None:
        threads, thread_names, process_names = fast
    for n, ev in enumerate(events if fast is None else ()):
        if type(ev) is not dict:
            raise FormatError(f"{path}: trace event {n} is not an object")
        ph = ev.get("ph")
        if ph not in _PHASES:
            continue
        key = (ev.get("pid", 0), ev.get("tid", 0))
        try:
            spans = threads.get(key)
        except TypeError:
            spans = None
        if spans is None:
            spans = threads[_key(ev, f"{path}: trace event {n}")] = _Spans()
        if ph == "M":
            _note_name(ev, key, thread_names, process_names)
            continue
        ts: Any = ev.get("ts")
        if type(ts) not in _NUMBER or not -_MAX_US <= ts <= _MAX_US:
            ts = _number(ev, "ts", f"{path}: trace event {n}")
        if ph == "X":
            dur: Any = ev.get("dur")
            if dur is None and "dur" not in ev:  # unfinished when the recording stopped
                spans.unfinished.append((frame_of(ev.get("name"), ev.get("args"), f"{path}: trace event {n}"), ts, n))
                if ts > spans.last:
                    spans.last = ts
                continue
            if type(dur) not in _NUMBER or not 0 <= dur <= _MAX_US:
                dur = _number(ev, "dur", f"{path}: trace event {n}")
                if dur < 0:
                    raise FormatError(f"{path}: trace event {n}: negative duration {dur}")
            end = ts + dur
            name = ev.get("name")
            args = ev.get("args")
            fr = frame_ids.get(name) if args is None and type(name) is str else None
            if fr is None:
                fr = frame_of(name, args, f"{path}: trace event {n}")
            spans.starts.append(ts)
            spans.ends.append(end)
            spans.frames.append(fr)
            spans.order.append(n)
            if end > spans.last:
                spans.last = end
        elif ph == "B":
            spans.open.append((frame_of(ev.get("name"), ev.get("args"), f"{path}: trace event {n}"), ts))
            if ts > spans.last:
                spans.last = ts
        else:  # "E" closes the innermost open "B"; a stray "E" is ignored
            if spans.open:
                frame, start = spans.open.pop()
                spans.add(start, max(ts, start), frame, n)
            if ts > spans.last:
                spans.last = ts
    if progress:
        progress(0.6)

    # "B" without "E", and "X" without "dur": the span lasts until the thread's last timestamp.
    unfinished = 0
    for spans in threads.values():
        for frame, start, order in spans.unfinished:
            spans.add(start, max(spans.last, start), frame, order)
        unfinished += len(spans.unfinished)
        while spans.open:
            frame, start = spans.open.pop()
            spans.add(start, max(spans.last, start), frame, len(events))
    if unfinished:
        profile.notices.append(
            {
                "level": "info",
                "message": f"{path}: {unfinished} unfinished event{'s' if unfinished != 1 else ''} "
                "(X without dur) closed at their thread's last timestamp",
            }
        )
    profile.meta["trace_events"] = sum(len(s.starts) for s in threads.values())
    all_starts = [min(s.starts) for s in threads.values() if s.starts]
    if not all_starts:
        raise FormatError(f"{path}: no complete (X) or begin/end (B/E) events")
    t0 = int(_to_ns([min(all_starts)])[0])
    scale = 1e-9
    pids = {key[0] for key in threads}
    builder = StackBuilder(profile)
    ids = ThreadIds(profile)
    # each span is one call: exact counts; not in our own export, whose spans are runs of samples
    ours = isinstance(other, dict) and str(other.get("exporter", "")).startswith("pyrometer@")
    calls = None if samples_unit or ours else SpanCalls(profile.frames["func"].tolist())
    batches = []
    for key, spans in threads.items():
        pid, tid = key
        name = thread_names.get(key) or f"thread {tid}"
        if len(pids) > 1:
            name = f"{name} ({process_names.get(pid) or f'pid {pid}'})"
        native = tid if isinstance(tid, int) else None
        thread_id = ids.get(key, native, name)
        t, s, w = _self_time(spans, builder, calls)
        if t:
            batches.append((thread_id, t, s, w))
    builder.flush()
    if calls is not None:
        profile.func_stats = calls.func_stats(scale)
    for thread_id, t, s, w in batches:
        times = (np.asarray(t, np.int64) - t0) * scale
        thread = np.full(len(times), thread_id, np.int32)
        # ns / 1e9, not ns * 1e-9 (1e-9 is not exact): whole samples or seconds come back as written
        profile.add_samples(times, thread, np.asarray(s, np.int32), weight=np.asarray(w, np.int64) / 1e9)
    if progress:
        progress(1.0)
    return profile


def _write(profile: Profile, path: Path) -> None:
    """Write the trace as JSON text built per event (no dict per span: exports can hold ~10^7 spans)."""
    paths = stack_paths(profile, used_stacks(profile))
    pid = profile.meta.get("pid") if isinstance(profile.meta.get("pid"), int) else 1
    events: list[str] = [
        _json({"ph": "M", "pid": pid, "tid": tid, "name": "thread_name", "args": {"name": info.name}})
        for tid, info in sorted(profile.threads.items())
    ]
    n = len(profile.samples)
    if n:
        # JSON-escaped once per frame: VizTracer's label with the def line (a function's identity),
        # and the executing line in args when it differs, so a round trip keeps both
        names = [
            _json(frame_label(profile.func_name[f], profile.func_file[f], profile.func_line[f]))
            + (f',"args":{{"line":{line}}}' if profile.func_file[f] and line > 0 and line != profile.func_line[f] else "")
            for f, line in zip(profile.frames["func"].tolist(), profile.frames["line"].tolist(), strict=True)
        ]
        thread_col = profile.samples["thread"]
        order = np.lexsort((profile.samples["time"], thread_col))
        cuts = np.flatnonzero(np.diff(thread_col[order])) + 1
        for chunk in np.split(order, cuts):
            tid = int(thread_col[chunk[0]])
            prefixes = _Prefixes(f'{{"ph":"X","pid":{pid},"tid":{tid},"name":', names)
            times = profile.samples["time"][chunk].tolist()
            stacks = profile.samples["stack"][chunk].tolist()
            weights = clean_floats(profile.samples["weight"][chunk])
            _thread_spans(events, prefixes, times, stacks, weights, paths)
    other = _json({"exporter": f"pyrometer@{__version__}", "pyrometer_unit": profile.unit,
                   EXPORT_KEY: measure_tag(measure_of(profile))})  # what the spans' times are: wall, cpu...
    text = '{"traceEvents":[' + ",".join(events) + '],"displayTimeUnit":"ms","otherData":' + other + "}"
    jsonload.write_bytes(path, text.encode("utf-8"))


class _Prefixes(dict[int, str]):
    """Per frame, an X event's text up to its timestamp; built on first use."""

    def __init__(self, head: str, names: list[str]) -> None:
        super().__init__()
        self.head = head
        self.names = names

    def __missing__(self, frame: int) -> str:
        text = self[frame] = f'{self.head}{self.names[frame]},"ts":'
        return text


def _json(value: Any) -> str:
    return jsonload.dumps(value).decode("utf-8")


def _thread_spans(
    events: list[str],
    prefixes: _Prefixes,
    times: list[float],
    stacks: list[int],
    weights: list[float],
    paths: dict[int, list[int]],
) -> None:
    """Append X events for one thread's time-ordered samples (innermost spans first)."""
    open_frames: list[int] = []
    open_starts: list[float] = []
    cursor = -math.inf

    def close_to(depth: int, at: float) -> None:
        end = round(at * 1e6, 3)  # whole nanoseconds, as VizTracer writes them
        while len(open_frames) > depth:
            fr = open_frames.pop()
            ts = round(open_starts.pop() * 1e6, 3)
            events.append(f'{prefixes[fr]}{ts!r},"dur":{round(end - ts, 3)!r}}}')

    for t, sid, w in zip(times, stacks, weights, strict=True):
        if t > cursor + _GAP_S:
            close_to(0, cursor)  # a gap: nothing ran in between
            start = t
        else:
            start = cursor  # back to back (or overlapping): lay it end to end
        frames = paths[sid] if sid >= 0 else []
        common = 0
        for a, b in zip(open_frames, frames, strict=False):
            if a != b:
                break
            common += 1
        close_to(common, start)
        for fr in frames[common:]:
            open_frames.append(fr)
            open_starts.append(start)
        cursor = start + w
    close_to(0, cursor)


IMPORTER = Importer(
    "chrome_trace",
    "Chrome trace-event JSON",
    (".trace.json", ".chrome.json", ".trace.json.gz", ".json.gz", ".json"),
    _sniff,
    _load,
)
EXPORTER = Exporter(
    "chrome_trace",
    "Chrome trace-event JSON",
    (".trace.json", ".chrome.json", ".trace.json.gz", ".chrome.json.gz"),
    _write,
)
