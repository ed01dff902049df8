"""Firefox Profiler files: import of Gecko and processed profiles, export of processed ones.

Two shapes exist (firefox-devtools/profiler, docs-developer/gecko-profile-format.md,
processed-profile-format.md and src/types/profile.ts):

- **Gecko** profiles, what Firefox and old samply write: `meta.version`, threads
  whose `samples`, `stackTable` and `frameTable` are `{"schema": {...}, "data":
  [[...], ...]}` with a per-thread `stringTable`; frame locations are strings
  like `name (file:line:col)`; child processes sit in `processes`.
- **Processed** profiles, what the profiler saves, samply and CPython 3.15's
  sampling profiler write: `meta.preprocessedProfileVersion`, column tables
  (`stackTable.prefix/frame`, `frameTable.func/line`, `funcTable.name/fileName`),
  strings in `shared.stringArray` (version 56+) or per thread (`stringArray`,
  older `stringTable`), `funcTable.source` into `shared.sources` (58+), sample
  `time` or `timeDeltas` (50+) and an optional `weight` of type `samples`,
  `tracing-ms` or `bytes`.

Times are milliseconds. A sample of weight type `samples` stands for `weight x
meta.interval`, which is how the profiler's call tree counts running time;
`tracing-ms` weights are durations; `bytes` make a profile in bytes.

The export writes processed format version 57 (Gecko version 31), as typed in
src/types/profile.ts at that version: one thread per thread with only the
stacks, frames and functions it uses, weights as `tracing-ms` so every
sample's seconds survive exactly, thread CPU as `threadCPUDelta` in µs when
known, and the loop's blocking events as interval markers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer._version import __version__
from pyrometer.core.formats import jsonload
from pyrometer.core.formats.registry import Exporter, FormatError, Importer, ProgressFn
from pyrometer.core.formats.stackbuild import StackBuilder, ThreadIds
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, Profile

PROCESSED_VERSION = 57
GECKO_VERSION = 31
MAX_WEIGHT = 1e38
_LOCATION = re.compile(r"^(?P<name>.*?) \((?P<file>.*?)(?::(?P<line>\d{1,9}))?(?::\d{1,9})?\)$", re.DOTALL)
_META = re.compile(rb'"meta"\s*:\s*\{')
_FIREFOX_KEYS = re.compile(rb'"(preprocessedProfileVersion|stackTable|frameTable|stringTable|stringArray|pausedRanges)"')

CATEGORIES = [
    {"name": "Other", "color": "grey", "subcategories": ["Other"]},
    {"name": "Python", "color": "yellow", "subcategories": ["Other"]},
]
CATEGORY_PYTHON = 1


def _sniff(head: bytes, path: Path) -> bool:
    return head.lstrip()[:1] == b"{" and _META.search(head) is not None and len(set(_FIREFOX_KEYS.findall(head))) >= 2


# ---------------------------------------------------------------- import helpers
def _number(value: Any, where: str, allow_null: bool = False) -> float | None:
    if value is None and allow_null:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise FormatError(f"{where} must be a number, not {str(value)[:40]!r}")
    return float(value)


def _index(value: Any, size: int, where: str, allow_null: bool = True) -> int:
    """An index into a table of `size` rows; null is -1 when allowed."""
    if value is None and allow_null:
        return -1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < size:
        raise FormatError(f"{where}: index {str(value)[:40]} outside a table of {size}")
    return value


def _column(table: Any, name: str, length: int, where: str, default: Any = "missing") -> list[Any]:
    col = table.get(name) if isinstance(table, dict) else None
    if col is None and default != "missing":
        return [default] * length
    if not isinstance(col, list) or len(col) < length:
        raise FormatError(f"{where}: column {name!r} missing or shorter than its table ({length})")
    return col


def _length(table: Any, where: str, key: str) -> int:
    if not isinstance(table, dict):
        raise FormatError(f"{where}: {key} is not a table")
    n = table.get("length")
    if n is None:  # some writers leave it out: the key column says it
        first = next((v for v in table.values() if isinstance(v, list)), [])
        n = len(first)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise FormatError(f"{where}: {key}.length is not a count")
    return n


def _string(strings: list[Any], index: Any, where: str) -> str:
    i = _index(index, len(strings), where, allow_null=False)
    s = strings[i]
    return s if isinstance(s, str) else str(s)


class _Collector:
    """Samples of all threads, interned into one Profile as they come."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.builder = StackBuilder(profile)
        self.threads = ThreadIds(profile)
        self.batches: list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, times_ms: np.ndarray, tid: int, stacks: np.ndarray, weights: np.ndarray, cpu: np.ndarray) -> None:
        self.batches.append((times_ms, tid, stacks, weights, cpu))

    def finish(self, where: Path) -> None:
        self.builder.flush()
        starts = [float(t.min()) for t, *_ in self.batches if len(t)]
        origin = min(starts) if starts else 0.0
        for times, tid, stacks, weights, cpu in self.batches:
            if not (np.abs(weights) <= MAX_WEIGHT).all():
                raise FormatError(f"{where}: sample weights beyond any range")
            self.profile.add_samples((times - origin) / 1000.0, np.full(len(times), tid, np.int32), stacks, weight=weights, cpu=cpu)


def _thread_stacks(
    coll: _Collector, prefixes: list[int], frames: list[int], frame_ids: list[int], where: str
) -> list[int]:
    """Stack table rows -> our stack ids (prefixes may point anywhere earlier or later: resolve in order)."""
    n = len(prefixes)
    out = [-2] * n
    for start in range(n):
        if out[start] != -2:
            continue
        chain: list[int] = []
        s = start
        while s >= 0 and out[s] == -2:
            if len(chain) > n:
                raise FormatError(f"{where}: stack prefixes form a cycle")
            chain.append(s)
            s = prefixes[s]
        sid = out[s] if s >= 0 else -1
        for row in reversed(chain):
            sid = coll.builder.intern(sid, frame_ids[frames[row]])
            out[row] = sid
    return out


def _times(samples: dict[str, Any], n: int, where: str) -> np.ndarray:
    if isinstance(samples.get("time"), list):
        col = _column(samples, "time", n, where)
        return np.asarray([_number(v, f"{where}: sample time") for v in col[:n]], np.float64)
    deltas = _column(samples, "timeDeltas", n, where)
    return np.cumsum(np.asarray([_number(v, f"{where}: sample time delta") for v in deltas[:n]], np.float64))


def _cpu_factor(meta: dict[str, Any]) -> float | None:
    units = meta.get("sampleUnits")
    unit = units.get("threadCPUDelta") if isinstance(units, dict) else None
    return {"ns": 1e-9, "µs": 1e-6}.get(unit) if isinstance(unit, str) else None


# ---------------------------------------------------------------- processed
def _processed_thread(coll: _Collector, doc: dict[str, Any], thread: Any, index: int, where: str) -> None:
    if not isinstance(thread, dict):
        raise FormatError(f"{where}: thread {index} is not an object")
    where = f"{where}: thread {index}"
    shared: dict[str, Any] = doc["shared"] if isinstance(doc.get("shared"), dict) else {}
    strings: Any = shared.get("stringArray") if isinstance(shared.get("stringArray"), list) else None
    if strings is None:
        strings = thread.get("stringArray", thread.get("stringTable"))
    if not isinstance(strings, list):
        raise FormatError(f"{where}: no string table")
    sources: dict[str, Any] = shared["sources"] if isinstance(shared.get("sources"), dict) else {}
    source_files: list[Any] = sources["filename"] if isinstance(sources.get("filename"), list) else []
    profile = coll.profile

    funcs: Any = thread.get("funcTable")
    nfunc = _length(funcs, where, "funcTable")
    names = _column(funcs, "name", nfunc, where)
    files = funcs.get("fileName") if isinstance(funcs.get("fileName"), list) else None
    srcs = funcs.get("source") if isinstance(funcs.get("source"), list) else None
    starts = _column(funcs, "lineNumber", nfunc, where, None)
    func_info = []
    for i in range(nfunc):
        name = _string(strings, names[i], f"{where}: function {i} name")
        file = ""
        if files is not None and i < len(files) and files[i] is not None:
            file = _string(strings, files[i], f"{where}: function {i} file")
        elif srcs is not None and i < len(srcs) and srcs[i] is not None:  # version 58: shared.sources
            file = _source_file(strings, source_files, srcs[i], where)
        first = starts[i]
        func_info.append((name, file, int(first) if isinstance(first, int) and not isinstance(first, bool) and 0 <= first < 2**31 else 0))

    frames = thread.get("frameTable")
    nframe = _length(frames, where, "frameTable")
    ffunc = _column(frames, "func", nframe, where)
    fline = _column(frames, "line", nframe, where, None)
    frame_ids = []
    for i in range(nframe):
        name, file, first = func_info[_index(ffunc[i], nfunc, f"{where}: frame {i} func", False)]
        line = fline[i]
        line_no = int(line) if isinstance(line, int) and not isinstance(line, bool) and 0 <= line < 2**31 else first
        frame_ids.append(profile.intern_frame(name, file, line_no, first))

    stacks = thread.get("stackTable")
    nstack = _length(stacks, where, "stackTable")
    prefixes = [_index(p, nstack, f"{where}: stack prefix") for p in _column(stacks, "prefix", nstack, where)[:nstack]]
    sframes = [_index(f, nframe, f"{where}: stack frame", False) for f in _column(stacks, "frame", nstack, where)[:nstack]]
    stack_ids = _thread_stacks(coll, prefixes, sframes, frame_ids, where)

    samples: Any = thread.get("samples")
    n = _length(samples, where, "samples")
    sstack = [_index(s, nstack, f"{where}: sample stack") for s in _column(samples, "stack", n, where)[:n]]
    times = _times(samples, n, where)
    weight_type = samples.get("weightType", "samples")
    if weight_type not in ("samples", "tracing-ms", "bytes"):
        raise FormatError(f"{where}: unknown weightType {str(weight_type)[:40]!r}")
    raw_w = samples.get("weight")
    w = np.ones(n) if raw_w is None else np.asarray([_number(v, f"{where}: sample weight") for v in _column(samples, "weight", n, where)[:n]], np.float64)
    interval = _number(doc["meta"].get("interval", 1.0), f"{where}: meta.interval") or 1.0
    if weight_type == "samples":
        w = w * interval / 1000.0
    elif weight_type == "tracing-ms":
        w = w / 1000.0
    cpu = np.full(n, -1.0)
    factor = _cpu_factor(doc["meta"])
    deltas = samples.get("threadCPUDelta")
    if factor is not None and isinstance(deltas, list) and len(deltas) >= n:
        cpu = np.asarray([float(d) * factor if isinstance(d, (int, float)) and not isinstance(d, bool) and d >= 0 else -1.0 for d in deltas[:n]])
        if n:
            cpu[0] = -1.0  # "the first value is ignored"
    tid_raw = thread.get("tid")
    native = tid_raw if isinstance(tid_raw, int) and not isinstance(tid_raw, bool) else None
    thread_name = thread["name"] if isinstance(thread.get("name"), str) else f"thread {index}"
    tid = coll.threads.get(("thread", index, thread.get("pid"), tid_raw), native, thread_name)
    stack_arr = np.asarray([stack_ids[s] if s >= 0 else -1 for s in sstack], np.int32)
    coll.add(times, tid, stack_arr, w, cpu)


def _source_file(strings: list[Any], source_files: list[Any], index: Any, where: str) -> str:
    i = _index(index, len(source_files), f"{where}: function source", False)
    return _string(strings, source_files[i], f"{where}: source file name")


# ---------------------------------------------------------------- gecko
def _rows(table: Any, where: str, key: str) -> tuple[dict[str, int], list[Any]]:
    if not isinstance(table, dict) or not isinstance(table.get("schema"), dict) or not isinstance(table.get("data"), list):
        raise FormatError(f"{where}: {key} is not a {{schema, data}} table")
    schema = {k: v for k, v in table["schema"].items() if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 64}
    for i, row in enumerate(table["data"]):
        if not isinstance(row, list):
            raise FormatError(f"{where}: {key} row {i} is not a list")
    return schema, table["data"]


def _cell(row: list[Any], schema: dict[str, int], key: str) -> Any:
    i = schema.get(key)
    return row[i] if i is not None and i < len(row) else None


def _gecko_thread(coll: _Collector, meta: dict[str, Any], thread: Any, offset_ms: float, index: Any, where: str) -> None:
    if not isinstance(thread, dict):
        raise FormatError(f"{where}: thread {index} is not an object (very old string threads are not read)")
    where = f"{where}: thread {index}"
    strings = thread.get("stringTable")
    if not isinstance(strings, list):
        raise FormatError(f"{where}: no stringTable")
    profile = coll.profile
    fschema, frows = _rows(thread.get("frameTable"), where, "frameTable")
    frame_ids = []
    for i, row in enumerate(frows):
        loc = _string(strings, _cell(row, fschema, "location"), f"{where}: frame {i} location")
        m = _LOCATION.match(loc)
        name, file, line = (m.group("name"), m.group("file"), int(m.group("line") or 0)) if m and m.group("name") else (loc, "", 0)
        cell = _cell(row, fschema, "line")
        line_no = int(cell) if isinstance(cell, int) and not isinstance(cell, bool) and 0 <= cell < 2**31 else line
        frame_ids.append(profile.intern_frame(name, file, line_no, line))
    sschema, srows = _rows(thread.get("stackTable"), where, "stackTable")
    nstack = len(srows)
    prefixes = [_index(_cell(r, sschema, "prefix"), nstack, f"{where}: stack prefix") for r in srows]
    sframes = [_index(_cell(r, sschema, "frame"), len(frame_ids), f"{where}: stack frame", False) for r in srows]
    stack_ids = _thread_stacks(coll, prefixes, sframes, frame_ids, where)
    pschema, prows = _rows(thread.get("samples"), where, "samples")
    stacks = np.asarray([stack_ids[s] if s >= 0 else -1 for s in (_index(_cell(r, pschema, "stack"), nstack, f"{where}: sample stack") for r in prows)], np.int32)
    times = np.asarray([_number(_cell(r, pschema, "time"), f"{where}: sample time") for r in prows], np.float64) + offset_ms
    interval = _number(meta.get("interval", 1.0), f"{where}: meta.interval") or 1.0
    cpu = np.full(len(prows), -1.0)
    factor = _cpu_factor(meta)
    if factor is not None and "threadCPUDelta" in pschema:
        vals = [_cell(r, pschema, "threadCPUDelta") for r in prows]
        cpu = np.asarray([float(v) * factor if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else -1.0 for v in vals])
        if len(cpu):
            cpu[0] = -1.0
    tid_raw = thread.get("tid")
    native = tid_raw if isinstance(tid_raw, int) and not isinstance(tid_raw, bool) else None
    name = thread.get("name") if isinstance(thread.get("name"), str) else f"thread {index}"
    tid = coll.threads.get(("gecko", index, thread.get("pid"), tid_raw), native, name)
    coll.add(times, tid, stacks, np.full(len(prows), interval / 1000.0), cpu)


def _gecko(coll: _Collector, doc: dict[str, Any], where: str, base_ms: float | None, depth: int = 0) -> None:
    meta = doc.get("meta")
    if not isinstance(meta, dict):
        raise FormatError(f"{where}: no meta object")
    start = _number(meta.get("startTime", 0.0), f"{where}: meta.startTime") or 0.0
    offset = 0.0 if base_ms is None else start - base_ms
    threads = doc.get("threads")
    if not isinstance(threads, list):
        raise FormatError(f"{where}: no threads list")
    for i, thread in enumerate(threads):
        _gecko_thread(coll, meta, thread, offset, f"{depth}.{i}" if depth else i, where)
    processes = doc.get("processes", [])
    if not isinstance(processes, list):
        raise FormatError(f"{where}: processes is not a list")
    for sub in processes:
        if not isinstance(sub, dict):
            raise FormatError(f"{where}: a child process is not an object")
        if depth > 8:
            raise FormatError(f"{where}: child processes nested too deeply")
        _gecko(coll, sub, where, start if base_ms is None else base_ms, depth + 1)


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    doc = jsonload.load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("meta"), dict) or not isinstance(doc.get("threads"), list):
        raise FormatError(f"{path}: not a Firefox Profiler file (no meta and threads)")
    if progress:
        progress(0.3)
    meta = doc["meta"]
    processed = isinstance(meta.get("preprocessedProfileVersion"), (int, float))
    kinds = []
    if processed:
        for thread in doc["threads"]:
            samples = thread.get("samples") if isinstance(thread, dict) else None
            kinds.append(samples.get("weightType", "samples") if isinstance(samples, dict) else "samples")
    in_bytes = bool(kinds) and all(k == "bytes" for k in kinds)
    if "bytes" in kinds and not in_bytes:
        raise FormatError(f"{path}: threads mix bytes with time samples")
    profile = Profile(UNIT_SAMPLES if in_bytes else UNIT_SECONDS, "firefox")
    if in_bytes:
        profile.meta["timeless"] = True
    coll = _Collector(profile)
    where = str(path)
    if processed:
        for i, thread in enumerate(doc["threads"]):
            _processed_thread(coll, doc, thread, i, where)
        profile.meta["firefox_format"] = f"processed {meta.get('preprocessedProfileVersion')}"
    else:
        _gecko(coll, doc, where, None)
        profile.meta["firefox_format"] = f"gecko {meta.get('version')}"
    coll.finish(path)
    interval = meta.get("interval")
    if isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval > 0:
        profile.meta["rate_hz"] = 1000.0 / float(interval)
    start = meta.get("startTime")
    if isinstance(start, (int, float)) and not isinstance(start, bool) and start > 0:
        profile.meta["start_wall"] = float(start) / 1000.0
    for key in ("product", "importedFrom"):
        if isinstance(meta.get(key), str):
            profile.meta[key] = meta[key]
    if progress:
        progress(1.0)
    return profile


# ---------------------------------------------------------------- export
class _Strings:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.items)
            self.items.append(text)
        return i


def _table(**columns: list[Any]) -> dict[str, Any]:
    length = len(next(iter(columns.values()))) if columns else 0
    return {**columns, "length": length}


def _thread_doc(profile: Profile, tid: int, rows: np.ndarray, strings: _Strings, seconds: bool, pid: str, main: bool) -> dict[str, Any]:
    parents = profile.stacks["parent"]
    frames_of_stack = profile.stacks["frame"]
    used = set()
    for s in np.unique(profile.samples["stack"][rows]).tolist():
        while s >= 0 and s not in used:
            used.add(s)
            s = int(parents[s])
    blocking = [b for b in profile.blocking if b.thread == tid and b.stack >= 0]
    for b in blocking:
        s = b.stack
        while s >= 0 and s not in used:
            used.add(s)
            s = int(parents[s])
    stack_list = sorted(used)  # parents have smaller ids than their children
    stack_map = {s: i for i, s in enumerate(stack_list)}
    frame_list = sorted({int(frames_of_stack[s]) for s in stack_list})
    frame_map = {f: i for i, f in enumerate(frame_list)}
    frame_func = profile.frames["func"]
    func_list = sorted({int(frame_func[f]) for f in frame_list})
    func_map = {f: i for i, f in enumerate(func_list)}
    frame_line = profile.frames["line"]

    weights = profile.samples["weight"][rows].astype(np.float64)
    times = profile.samples["time"][rows].astype(np.float64) * 1000.0
    cpu = profile.samples["cpu"][rows].astype(np.float64)
    samples: dict[str, Any] = {
        "stack": [stack_map[s] if s >= 0 else None for s in profile.samples["stack"][rows].tolist()],
        "time": [round(t, 6) for t in times.tolist()],  # ms since meta.startTime
        "weight": [round(w * 1000.0, 9) for w in weights.tolist()] if seconds else [float(w) for w in weights.tolist()],
        "weightType": "tracing-ms" if seconds else "samples",
    }
    if seconds and len(cpu) and bool((cpu >= 0).any()):
        samples["threadCPUDelta"] = [round(c * 1e6, 3) if c >= 0 else None for c in cpu.tolist()]
    samples["length"] = len(samples["stack"])

    def marker_times(b: Any) -> tuple[float, float]:
        return round(b.start * 1000.0, 6), round((b.start + b.duration) * 1000.0, 6)

    name_idx = strings("Event loop blocked") if blocking else 0
    markers = _table(
        data=[None] * len(blocking),
        name=[name_idx] * len(blocking),
        startTime=[marker_times(b)[0] for b in blocking],
        endTime=[marker_times(b)[1] for b in blocking],
        phase=[1] * len(blocking),
        category=[0] * len(blocking),
    )
    info = profile.threads.get(tid)
    return {
        "processType": "default",
        "processStartupTime": 0,
        "processShutdownTime": None,
        "registerTime": 0,
        "unregisterTime": None,
        "pausedRanges": [],
        "name": info.name if info else f"thread {tid}",
        "isMainThread": main,
        "processName": "Python",
        "pid": pid,
        "tid": info.native_id if info and info.native_id is not None else tid,
        "samples": samples,
        "markers": markers,
        "stackTable": _table(
            frame=[frame_map[int(frames_of_stack[s])] for s in stack_list],
            prefix=[stack_map[int(parents[s])] if parents[s] >= 0 else None for s in stack_list],
        ),
        "frameTable": _table(
            address=[-1] * len(frame_list),
            inlineDepth=[0] * len(frame_list),
            category=[CATEGORY_PYTHON] * len(frame_list),
            subcategory=[0] * len(frame_list),
            func=[func_map[int(frame_func[f])] for f in frame_list],
            nativeSymbol=[None] * len(frame_list),
            innerWindowID=[0] * len(frame_list),
            line=[int(frame_line[f]) or None for f in frame_list],
            column=[None] * len(frame_list),
        ),
        "funcTable": _table(
            name=[strings(profile.func_name[f]) for f in func_list],
            isJS=[True] * len(func_list),  # "JS" is the profiler's word for the interpreted language
            relevantForJS=[False] * len(func_list),
            resource=[-1] * len(func_list),
            fileName=[strings(profile.func_file[f]) if profile.func_file[f] else None for f in func_list],
            lineNumber=[profile.func_line[f] or None for f in func_list],
            columnNumber=[None] * len(func_list),
        ),
        "resourceTable": _table(lib=[], name=[], host=[], type=[]),
        "nativeSymbols": _table(libIndex=[], address=[], name=[], functionSize=[]),
    }


def build_document(profile: Profile, title: str = "") -> dict[str, Any]:
    """The processed-format (version 57) document for a profile."""
    if not len(profile.samples) and profile.func_stats is not None:
        raise FormatError("the Firefox Profiler shows stack samples; this profile has only call statistics (no samples)")
    seconds = profile.unit == UNIT_SECONDS
    rate = profile.meta.get("rate_hz")
    if isinstance(rate, (int, float)) and rate > 0:
        interval = 1000.0 / float(rate)
    elif seconds and len(profile.samples):
        interval = float(np.median(profile.samples["weight"])) * 1000.0 or 1.0
    else:
        interval = 1.0
    start = profile.meta.get("start_wall")
    start_ms = float(start) * 1000.0 if isinstance(start, (int, float)) and start > 0 else 0.0
    strings = _Strings()
    pid = str(profile.meta.get("pid", 0))
    thread_col = profile.samples["thread"]
    tids = sorted(set(thread_col.tolist()) | {b.thread for b in profile.blocking if b.stack >= 0})
    threads = []
    for n, tid in enumerate(tids):
        rows = np.flatnonzero(thread_col == tid)
        info = profile.threads.get(tid)
        main = (info is not None and info.name == "MainThread") or (n == 0 and not any((t.name == "MainThread") for t in profile.threads.values()))
        threads.append(_thread_doc(profile, tid, rows, strings, seconds, pid, main))
    meta = {
        "interval": interval,
        "startTime": start_ms,
        "processType": 0,
        "product": str(title or profile.meta.get("name") or "Python"),
        "stackwalk": 0,
        "debug": False,
        "version": GECKO_VERSION,
        "preprocessedProfileVersion": PROCESSED_VERSION,
        "categories": CATEGORIES,
        "markerSchema": [],
        "symbolicated": True,
        "importedFrom": f"pyrometer {__version__}",
        "usesOnlyOneStackType": True,
        "sourceCodeIsNotOnSearchfox": True,
        "keepProfileThreadOrder": True,
        "sampleUnits": {"time": "ms", "eventDelay": "ms", "threadCPUDelta": "µs"},
    }
    if profile.has_time:
        meta["profilingStartTime"] = 0
        meta["profilingEndTime"] = round(profile.duration() * 1000.0, 6)
    return {"meta": meta, "libs": [], "pages": [], "counters": [], "shared": {"stringArray": strings.items}, "threads": threads}


def _write(profile: Profile, path: Path) -> None:
    jsonload.write_bytes(path, jsonload.dumps(build_document(profile, path.name)))


IMPORTER = Importer("firefox", "Firefox Profiler profile", (".gecko.json", ".firefox.json", ".gecko.json.gz"), _sniff, _load)
EXPORTER = Exporter("firefox", "Firefox Profiler (processed format 57)", (".gecko.json", ".firefox.json", ".firefox.json.gz"), _write)
