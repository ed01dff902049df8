"""pprof (`profile.proto`, gzipped): import from any writer and export that `go tool pprof` reads.

pprof is what continuous profilers speak (Go's runtime/pprof, Grafana
Pyroscope, Parca, Google Cloud Profiler, Datadog, austin2pprof). A pprof
sample carries one value per *sample type* (`samples/count`, `cpu/nanoseconds`,
`alloc_space/bytes`...); the model keeps one weight per sample, so the import
picks one type: the file's `default_sample_type` when set, else a time type
(wall before cpu), else the last type (pprof's own default). `stats
--sample-type NAME` picks another. When both wall and cpu time are present the
cpu value fills the model's `cpu` column. Labels `thread_name`/`thread_id`
(and Datadog's `thread name`/`thread id`) become threads, `task_name` asyncio
tasks. pprof has no sample times, so each thread's samples are laid end to end
(the profile is marked timeless).

Decoding and encoding are the `protobuf` library's, with the message classes
generated once from `pprof_profile.proto` by tools/regenerate_pprof_pb2.sh);
it is imported only when a pprof file is read or written. The only
hand-written wire code is the sniffer, which merely checks that the head of a
file is a plausible sequence of `Profile` fields (pprof, gprof and pstats all
end in `.prof`).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer.core.formats import jsonload
from pyrometer.core.formats.registry import Exporter, FormatError, Importer, ProgressFn
from pyrometer.core.formats.stackbuild import (
    StackBuilder,
    ThreadIds,
    exclusive_cumsum,
    whole_counts,
)
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, Profile, TaskInfo

# austin2pprof writes "Wall time/μs" (Greek mu); others "µs" (micro sign) or "us"
TIME_UNITS = {
    "nanoseconds": 1e-9, "ns": 1e-9, "microseconds": 1e-6, "us": 1e-6, "µs": 1e-6, "μs": 1e-6,
    "milliseconds": 1e-3, "ms": 1e-3, "seconds": 1.0, "s": 1.0,
}
# label keys, compared lower-cased with "_" and "-" as spaces (Datadog "thread id", austin2pprof "Thread ID")
THREAD_NAME_KEYS = ("thread name",)
THREAD_ID_KEYS = ("thread id", "thread native id")
TASK_KEYS = ("task name",)
MAX_WEIGHT = 1e38  # a larger sample value is not a measurement
MAX_EXPANDED = 5_000_000  # records of count N become N samples up to this many in all

# Profile's fields (number -> protobuf wire type) for the sniffer: 2 = length-delimited, 0 = varint.
_FIELD_WIRE = {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 0, 8: 0, 9: 0, 10: 0, 11: 2, 12: 0, 13: 0, 14: 0}


def _pb2() -> Any:
    """The generated message module; imported lazily because protobuf is needed only here."""
    try:
        from pyrometer.core.formats import pprof_profile_pb2
    except ImportError as exc:  # protobuf missing or too old for the generated code
        raise FormatError(f"pprof needs the 'protobuf' package (pip install 'protobuf>=6.31'): {exc}") from exc
    return pprof_profile_pb2


# ---------------------------------------------------------------- sniffing
def _varint(data: bytes, i: int) -> tuple[int, int] | None:
    value = shift = 0
    while i < len(data) and shift < 64:
        b = data[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7
    return None


def _sniff(head: bytes, path: Path) -> bool:
    """The head is a run of valid Profile fields (Go writes time_nanos first, others sample_type)."""
    i, fields = 0, 0
    while i < len(head):
        tag = _varint(head, i)
        if tag is None:
            break  # cut by the end of the head
        number, wire = tag[0] >> 3, tag[0] & 7
        if _FIELD_WIRE.get(number) != wire and not (number == 13 and wire == 2):  # packed comments
            return False
        value = _varint(head, tag[1])
        if value is None:
            break
        i = value[1] + (value[0] if wire == 2 else 0)
        fields += 1
    return fields >= 2 or (fields == 1 and i == len(head))


# ---------------------------------------------------------------- import
def _parse(path: Path) -> Any:
    data = jsonload.read_bytes(path)  # gunzips, bounded in size, one-line errors
    if not data:
        raise FormatError(f"{path}: file is empty")
    from google.protobuf.message import DecodeError

    msg = _pb2().Profile()
    try:
        msg.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:  # RuntimeError: recursion limit in upb
        raise FormatError(f"{path}: not a valid pprof file ({exc})") from exc
    return msg


def _string(strings: list[str], index: int, path: Path) -> str:
    if not 0 <= index < len(strings):
        raise FormatError(f"{path}: string index {index} outside the string table ({len(strings)} strings)")
    return strings[index]


def sample_type_names(msg: Any, strings: list[str], path: Path) -> list[str]:
    return [f"{_string(strings, vt.type, path)}/{_string(strings, vt.unit, path)}" for vt in msg.sample_type]


def _default_type(msg: Any, names: list[str], strings: list[str], path: Path) -> int:
    if msg.default_sample_type:
        wanted = _string(strings, msg.default_sample_type, path)
        for i, name in enumerate(names):
            if name.split("/")[0] == wanted:
                return i
    timed = [i for i, n in enumerate(names) if n.rsplit("/", 1)[-1] in TIME_UNITS]
    for kind in ("wall", "cpu"):
        for i in timed:
            if _kind(names[i]) == kind:
                return i
    return timed[0] if timed else len(names) - 1


def _kind(name: str) -> str:
    """`wall`, `cpu` or the lower-cased type: "Wall time", "wall-time" and "wall" are one kind."""
    kind = name.rsplit("/", 1)[0].lower().replace("_", " ").replace("-", " ")
    for known in ("wall", "cpu"):
        if kind in (known, f"{known} time"):
            return known
    return kind


def _pick_type(names: list[str], wanted: str, path: Path) -> int:
    for i, name in enumerate(names):
        if wanted in (name, name.split("/")[0]) or _kind(wanted) == _kind(name):
            return i
    raise FormatError(f"{path}: no sample type {wanted!r}; this file has {', '.join(names)}")


def _frames(msg: Any, strings: list[str], profile: Profile, path: Path) -> dict[int, list[int]]:
    """Location id -> our frame ids, innermost first (pprof's order of inlined lines)."""
    functions: dict[int, tuple[str, str, int]] = {}
    for fn in msg.function:
        name = _string(strings, fn.name, path) or _string(strings, fn.system_name, path)
        functions[fn.id] = (name or f"function {fn.id}", _string(strings, fn.filename, path), int(fn.start_line))
    mappings = {m.id: _string(strings, m.filename, path) for m in msg.mapping}
    out: dict[int, list[int]] = {}
    for loc in msg.location:
        frames = []
        for ln in loc.line:
            func = functions.get(ln.function_id)
            if func is None:
                raise FormatError(f"{path}: location {loc.id} refers to undefined function {ln.function_id}")
            name, file, start = func
            line = int(ln.line) if 0 <= ln.line < 2**31 else 0
            frames.append(profile.intern_frame(name, file, line, start if 0 <= start < 2**31 else 0))
        if not frames:  # not symbolized: the address is all there is
            binary = mappings.get(loc.mapping_id, "")
            frames.append(profile.intern_frame(f"0x{loc.address:x}", binary, 0, 0))
        out[loc.id] = frames
    return out


def _labels(sample: Any, strings: list[str], path: Path) -> tuple[str | None, int | None, str | None]:
    thread_name = task = None
    thread_id = None
    for label in sample.label:
        key = _string(strings, label.key, path).lower().replace("_", " ").replace("-", " ")
        if key in THREAD_NAME_KEYS and label.str:
            thread_name = _string(strings, label.str, path)
        elif key in THREAD_ID_KEYS:
            thread_id = int(label.num) if not label.str else _int_or_none(_string(strings, label.str, path))
        elif key in TASK_KEYS and label.str:
            task = _string(strings, label.str, path)
    return thread_name, thread_id, task


def _int_or_none(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


def load_pprof(path: Path, progress: ProgressFn | None = None, sample_type: str | None = None) -> Profile:
    msg = _parse(path)
    if progress:
        progress(0.3)
    strings = list(msg.string_table)
    if strings and strings[0] != "":
        raise FormatError(f"{path}: not a valid pprof file (string_table[0] must be empty)")
    names = sample_type_names(msg, strings, path)
    if not names:
        raise FormatError(f"{path}: pprof file without sample types")
    chosen = _default_type(msg, names, strings, path) if sample_type is None else _pick_type(names, sample_type, path)
    unit = names[chosen].rsplit("/", 1)[-1]
    factor = TIME_UNITS.get(unit)
    cpu_index = next((i for i, n in enumerate(names) if _kind(n) == "cpu" and n.rsplit("/", 1)[-1] in TIME_UNITS), None)
    if cpu_index == chosen or factor is None:
        cpu_index = None
    # With a samples/count type, one pprof record of count N becomes N samples of 1/N
    # of the value each, so sample counts are the writer's (Go: 38 samples, not 12 records).
    count_index = next((i for i, n in enumerate(names) if n in ("samples/count", "sample/count")), None)
    if count_index == chosen:
        count_index = None

    profile = Profile(UNIT_SECONDS if factor is not None else UNIT_SAMPLES, "pprof")
    profile.meta["timeless"] = True  # pprof samples have no timestamps
    profile.meta["sample_types"] = names
    profile.meta["sample_type"] = names[chosen]
    if msg.period_type.type or msg.period_type.unit:
        profile.meta["period_type"] = f"{_string(strings, msg.period_type.type, path)}/{_string(strings, msg.period_type.unit, path)}"
    for key in ("period", "duration_nanos", "time_nanos"):
        if getattr(msg, key):
            profile.meta[key] = int(getattr(msg, key))
    comments = [_string(strings, c, path) for c in msg.comment]
    if comments:
        profile.meta["comments"] = comments
    if msg.time_nanos > 0:
        profile.meta["start_wall"] = msg.time_nanos / 1e9

    frames_of = _frames(msg, strings, profile, path)
    builder = StackBuilder(profile)
    threads = ThreadIds(profile)
    task_ids: dict[str, int] = {}
    per_thread: dict[int, tuple[list[int], list[float], list[float], list[int], list[int]]] = {}
    cpu_factor = TIME_UNITS[names[cpu_index].rsplit("/", 1)[-1]] if cpu_index is not None else 0.0
    # values are divided by the units in a second (ns / 1e9, not ns * 1e-9: 1e-9 is not exact), so a
    # value comes back as written when converted back (model.EXACT_WEIGHT keeps it as a float64)
    per_second = round(1.0 / factor) if factor is not None else 1
    cpu_per_second = round(1.0 / cpu_factor) if cpu_factor else 1
    stack_cache: dict[tuple[int, ...], int] = {}
    for n, sample in enumerate(msg.sample):
        values = sample.value
        if len(values) != len(names):
            raise FormatError(f"{path}: sample {n} has {len(values)} values for {len(names)} sample types")
        value = values[chosen]
        if value == 0:
            continue  # pprof's own views skip samples that are zero in the chosen type
        locs = tuple(sample.location_id)
        sid = stack_cache.get(locs)
        if sid is None:
            path_frames: list[int] = []
            for loc in reversed(locs):  # location_id[0] is the leaf
                fr = frames_of.get(loc)
                if fr is None:
                    raise FormatError(f"{path}: sample {n} refers to undefined location {loc}")
                path_frames.extend(reversed(fr))
            sid = builder.path(path_frames)
            stack_cache[locs] = sid
        thread_name, thread_id, task = _labels(sample, strings, path)
        tid = threads.get((thread_name, thread_id), thread_id, thread_name or (f"thread {thread_id}" if thread_id is not None else "all threads"))
        task_id = -1
        if task is not None:
            task_id = task_ids.get(task, -1)
            if task_id < 0:
                task_id = task_ids[task] = len(task_ids)
                profile.tasks[task_id] = TaskInfo(task_id, None, task, "")
        cols = per_thread.setdefault(tid, ([], [], [], [], []))
        cols[4].append(values[count_index] if count_index is not None else 1)
        cols[0].append(sid)
        cols[1].append(value / per_second)
        cols[2].append(values[cpu_index] / cpu_per_second if cpu_index is not None else -1.0)
        cols[3].append(task_id)
    if progress:
        progress(0.8)
    builder.flush()
    counts = np.asarray([c for cols in per_thread.values() for c in cols[4]], np.int64)
    expand = bool(len(counts)) and bool((counts >= 1).all()) and int(counts.sum()) <= MAX_EXPANDED
    for tid, (stacks, weights, cpu, tasks, count) in per_thread.items():
        w = np.asarray(weights, np.float64)
        c = np.asarray(cpu, np.float64)
        st, tk = np.asarray(stacks, np.int32), np.asarray(tasks, np.int32)
        if not (np.abs(w) <= MAX_WEIGHT).all():
            raise FormatError(f"{path}: sample values beyond any range")
        if expand:
            k = np.asarray(count, np.int64)
            w, c = np.repeat(w / k, k), np.repeat(np.where(c >= 0, c / k, -1.0), k)
            st, tk = np.repeat(st, k), np.repeat(tk, k)
        times = exclusive_cumsum(np.abs(w))
        profile.add_samples(times, np.full(len(w), tid, np.int32), st, task=tk, weight=w, cpu=c)
    if progress:
        progress(1.0)
    return profile


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    return load_pprof(path, progress)


def _load_type(path: Path, progress: ProgressFn | None, sample_type: str) -> Profile:
    return load_pprof(path, progress, sample_type)


# ---------------------------------------------------------------- export
class _Strings:
    def __init__(self) -> None:
        self.table: list[str] = [""]
        self.index: dict[str, int] = {"": 0}

    def __call__(self, text: str) -> int:
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.table)
            self.table.append(text)
        return i


def _period_ns(profile: Profile) -> int:
    rate = profile.meta.get("rate_hz")
    if isinstance(rate, (int, float)) and rate > 0:
        return round(1e9 / float(rate))
    w = profile.samples["weight"]
    return round(float(np.median(w)) * 1e9) if len(w) and profile.unit == UNIT_SECONDS else 0


def build_message(profile: Profile) -> Any:
    """The pprof Profile message of a profile: samples aggregated by (stack, thread, task)."""
    if not len(profile.samples):
        if profile.func_stats is not None:
            raise FormatError("pprof holds stack samples; this profile has only call statistics (no samples)")
    pb = _pb2()
    msg = pb.Profile()
    s = _Strings()
    seconds = profile.unit == UNIT_SECONDS
    cpu_col = profile.samples["cpu"]
    has_cpu = seconds and bool(len(cpu_col)) and bool((cpu_col >= 0).any())
    # A profile imported from a CPU-time source keeps calling its weights cpu time.
    kind = "cpu" if str(profile.meta.get("sample_type", "")).startswith("cpu/") else "wall"
    has_cpu = has_cpu and kind == "wall"
    types = [("samples", "count")] + ([(kind, "nanoseconds")] if seconds else [])
    if has_cpu:
        types.append(("cpu", "nanoseconds"))
    for t, u in types:
        msg.sample_type.add(type=s(t), unit=s(u))
    if seconds:
        msg.default_sample_type = s(kind)
        msg.period_type.type = s(kind)
        msg.period_type.unit = s("nanoseconds")
        msg.period = _period_ns(profile)
    else:
        msg.period_type.type = s("samples")
        msg.period_type.unit = s("count")
        msg.period = 1
    msg.duration_nanos = round(profile.duration() * 1e9) if profile.has_time and seconds else 0
    start = profile.meta.get("start_wall")
    if isinstance(start, (int, float)) and start > 0:
        msg.time_nanos = round(float(start) * 1e9)

    executable = profile.meta.get("executable")
    msg.mapping.add(id=1, filename=s(executable if isinstance(executable, str) else "python"),
                    has_functions=True, has_filenames=True, has_line_numbers=True)
    for f, (name, file, line) in enumerate(zip(profile.func_name, profile.func_file, profile.func_line, strict=True)):
        msg.function.add(id=f + 1, name=s(name), system_name=s(name), filename=s(file), start_line=line)
    for fr, (func, line) in enumerate(zip(profile.frames["func"].tolist(), profile.frames["line"].tolist(), strict=True)):
        loc = msg.location.add(id=fr + 1, mapping_id=1)
        loc.line.add(function_id=func + 1, line=line)

    n = len(profile.samples)
    if n:
        stack = profile.samples["stack"].astype(np.int64)
        thread = profile.samples["thread"].astype(np.int64)
        task = profile.samples["task"].astype(np.int64)
        keys = np.stack([stack, thread, task], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        count = np.bincount(inverse, minlength=len(uniq))
        weight = profile.samples["weight"].astype(np.float64)
        wall = np.bincount(inverse, weights=weight, minlength=len(uniq))
        cpu = np.bincount(inverse, weights=np.where(cpu_col >= 0, cpu_col, 0).astype(np.float64), minlength=len(uniq))
        # integers as the source stated them (a float64 weight column keeps them exactly), adding up to its total
        wall_values = whole_counts(wall * 1e9 if seconds else wall).tolist()
        cpu_values = whole_counts(cpu * 1e9).tolist() if has_cpu else []
        parents = profile.stacks["parent"].tolist()
        frames = profile.stacks["frame"].tolist()
        thread_key, task_key = s("thread_name"), s("task_name")
        for row, (sid, tid, task_id) in enumerate(uniq.tolist()):
            leaf_first = []
            while sid >= 0:
                leaf_first.append(frames[sid] + 1)
                sid = parents[sid]
            if seconds:
                values = [int(count[row]), wall_values[row]] + ([cpu_values[row]] if has_cpu else [])
            else:
                values = [wall_values[row]]
            sample = msg.sample.add(location_id=leaf_first, value=values)
            info = profile.threads.get(tid)
            sample.label.add(key=thread_key, str=s(info.name if info else f"thread {tid}"))
            if task_id >= 0:
                task_info = profile.tasks.get(task_id)
                sample.label.add(key=task_key, str=s(task_info.name if task_info else f"task {task_id}"))
    msg.string_table.extend(s.table)
    return msg


def _write(profile: Profile, path: Path) -> None:
    data = build_message(profile).SerializeToString()
    with open(path, "wb") as fh:
        fh.write(gzip.compress(data, compresslevel=6))  # profile.proto: "on-disk ... must be gzip-compressed"


IMPORTER = Importer("pprof", "pprof profile", (".pb.gz", ".pprof", ".pb"), _sniff, _load, _load_type)
EXPORTER = Exporter("pprof", "pprof profile (gzipped profile.proto)", (".pb.gz", ".pprof", ".pb"), _write)
