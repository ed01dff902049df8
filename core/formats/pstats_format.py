"""cProfile / pstats files (`.prof`, `.pstats`, yappi `save(type="pstat")`): import and export.

A pstats file is one marshalled dict
`{(file, line, name): (cc, nc, tt, ct, {caller_key: (nc, cc, tt, ct)})}` where
cc counts primitive (non-recursive) calls, nc all calls, tt is self time and
ct cumulative time in seconds. It is decoded with `safe_marshal` (never the
`marshal` module; see there why) and then checked shape by shape.

Quirks handled: yappi writes the first two numbers the other way round
(`(ncall, nactualcall, ...)`), so calls = the larger and primitive calls = the
smaller of the two; the old `profile` module stores plain call counts as
caller values (their times are estimated from the callee's by call share);
cProfile names built-ins `('~', 0, '<built-in method time.sleep>')`, which
becomes a function of that name with an empty file (and `~` again on export);
the `profile` module of CPython 3.8-3.10 keys the code object it was asked to
run as `('profile', 0, <code>)`, which reads as the code's name (decoded as
plain data by `safe_marshal`, never constructed).
The function table is exact; the call tree is an estimate (see
`deterministic`). Export writes plain tuples and dicts with `marshal.dumps`,
so `pstats.Stats(path)` reads the result.

A sampled profile counts no calls. Its export writes 0 in every call-count
field (pstats' own way of printing no per-call time: `pstats.Stats` leaves
the percall columns blank), never the sample counts, which pstats would show
as calls. Reading back, a file in which no function and no edge has a call
count while time was spent is such a file: `meta["calls_unknown"]`, and the
function table says "unknown" (cProfile counts every function it lists).
"""

from __future__ import annotations

import marshal
import math
import zlib
from pathlib import Path
from typing import Any

from pyrometer.core.formats import safe_marshal
from pyrometer.core.formats.deterministic import CallGraph, graph_from_profile, profile_from_graph
from pyrometer.core.formats.registry import (
    Exporter,
    FormatError,
    Importer,
    ProgressFn,
    check_readable,
)
from pyrometer.core.model import Profile

MAX_FILE_BYTES = 256 << 20  # refuse (decompressed) pstats data above 256 MiB: far beyond real profiles
BUILTIN_FILE = "~"
MAX_SECONDS = 1e15  # larger "times" are not from a profiler
_INT63 = 1 << 63
_LINE_MAX = 1 << 31


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The whole file, gunzipped if it is gzip, refusing more than `limit` bytes."""
    check_readable(path)
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = d.decompress(data, limit + 1)
        except zlib.error as exc:
            raise FormatError(f"{path}: corrupt gzip data ({exc})") from None
    if len(data) > limit:
        raise FormatError(f"{path}: larger than {limit >> 20} MiB, refusing to load")
    return data


# ---------------------------------------------------------------- sniff
def _sniff(head: bytes, path: Path) -> bool:
    if len(head) < 2 or head[0] & 0x7F != ord("{"):
        return False
    if head[1] & 0x7F not in (ord("("), ord(")"), ord("0")):
        return False  # pstats keys are tuples; "{0" is the empty dict
    try:
        whole = path.stat().st_size == len(head)
    except OSError:
        whole = False
    if whole:  # the head is the whole file: it must parse completely
        try:
            safe_marshal.loads(head)
        except safe_marshal.MarshalError:
            return False
        return True
    return safe_marshal.read_prefix(head)


# ---------------------------------------------------------------- load
class _Shape(ValueError):
    pass


def _name(v: Any, what: str) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, safe_marshal.CodeInfo):  # `profile` module, 3.8-3.10: a code object as the name
        return v.name
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    raise _Shape(f"{what} is {type(v).__name__}, not a string")


def _count(v: Any, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < _INT63:
        raise _Shape(f"{what} {v!r} is not a call count")
    return v


def _time(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or abs(v) > MAX_SECONDS:
        raise _Shape(f"{what} {v!r} is not a finite time")
    return float(v)


def _key(k: Any) -> tuple[str, str, int]:
    if not isinstance(k, tuple) or len(k) != 3:
        raise _Shape(f"function key {k!r:.80} is not a (file, line, name) tuple")
    file = _name(k[0], "file")
    line = k[1]
    if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line < _LINE_MAX:
        raise _Shape(f"line number {line!r:.40} out of range")
    name = _name(k[2], "function name")
    if file == BUILTIN_FILE and line == 0:
        file = ""
    return name, file, line


def graph_from_pstats(obj: Any, work_budget: int) -> CallGraph:
    """Validate a decoded pstats dict and turn it into a CallGraph; `_Shape` (a ValueError) if wrong."""
    if not isinstance(obj, dict):
        raise _Shape(f"top level is {type(obj).__name__}, not a dict")
    g = CallGraph()
    row: dict[tuple[str, str, int], int] = {}
    callers_of: list[tuple[int, dict[Any, Any], int, float]] = []
    for k, v in obj.items():
        key = _key(k)
        if not isinstance(v, (tuple, list)) or len(v) != 5:
            raise _Shape(f"entry for {key[0]!r:.60} is not a (cc, nc, tt, ct, callers) tuple")
        a, b = _count(v[0], "call count"), _count(v[1], "call count")
        tt, ct = _time(v[2], "self time"), _time(v[3], "total time")
        callers = v[4]
        if not isinstance(callers, dict):
            raise _Shape(f"callers of {key[0]!r:.60} are {type(callers).__name__}, not a dict")
        if key in row:
            raise _Shape(f"function {key[0]!r:.60} listed twice")
        row[key] = g.add_function(key[0], key[1], key[2], max(a, b), min(a, b), tt, ct)
        callers_of.append((row[key], callers, max(a, b), ct))
    work = 0
    for callee, callers, ncalls, ct in callers_of:
        work += len(callers)
        if work > work_budget:
            raise _Shape("more caller entries than the file can hold (shared tables?)")
        for ck, cv in callers.items():
            ckey = _key(ck)
            caller = row.get(ckey)
            if caller is None:  # a caller without its own entry: keep it, with no statistics
                caller = row[ckey] = g.add_function(ckey[0], ckey[1], ckey[2], 0, 0, 0.0, 0.0)
            if isinstance(cv, int) and not isinstance(cv, bool):
                n = _count(cv, "caller call count")  # old `profile` module: counts only
                share = n / ncalls if ncalls else 0.0
                g.add_edge(caller, callee, n, 0.0, ct * share)
            elif isinstance(cv, (tuple, list)) and len(cv) == 4:
                n1, n2 = _count(cv[0], "caller call count"), _count(cv[1], "caller call count")
                g.add_edge(caller, callee, max(n1, n2), _time(cv[2], "caller self time"), _time(cv[3], "caller total time"))
            else:
                raise _Shape(f"caller entry {cv!r:.60} is not (nc, cc, tt, ct)")
    return g


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    data = read_bytes(path)
    if not data:
        raise FormatError(f"{path}: file is empty")
    try:
        obj = safe_marshal.loads(data)
    except safe_marshal.MarshalError as exc:
        raise FormatError(f"{path}: not a valid pstats file ({exc})") from None
    if progress:
        progress(0.5)
    try:
        graph = graph_from_pstats(obj, work_budget=len(data) // 2 + 16)
    except _Shape as exc:
        raise FormatError(f"{path}: not a valid pstats file ({exc})") from None
    if not len(graph):
        raise FormatError(f"{path}: pstats file lists no functions")
    profile = profile_from_graph(graph, "pstats", clock="unknown")
    if calls_unknown(graph):
        profile.meta["calls_unknown"] = True
    if progress:
        progress(1.0)
    return profile


def calls_unknown(graph: CallGraph) -> bool:
    """No call counted anywhere, yet time spent: a sampled profile's export (ours writes 0), not a count of 0."""
    no_calls = not any(graph.calls) and not any(graph.prim_calls) and not any(graph.edge_calls)
    return no_calls and any(t > 0 for t in graph.total_cost)


# ---------------------------------------------------------------- export
def pstats_dict(profile: Profile) -> dict[tuple[str, int, str], tuple[Any, ...]]:
    """The plain dict pstats expects, from the profile's function statistics (or its samples).

    Without call statistics every call count is 0 (unknown), not the sample counts."""
    g = graph_from_profile(profile)
    if not has_call_counts(profile):
        g.calls = [0] * len(g.calls)
        g.prim_calls = [0] * len(g.prim_calls)
        g.edge_calls = [0] * len(g.edge_calls)
    keys = [(f or BUILTIN_FILE, int(ln), n) for n, f, ln in zip(g.names, g.files, g.lines, strict=True)]
    acc: dict[tuple[str, int, str], list[Any]] = {}
    for i, k in enumerate(keys):
        e = acc.setdefault(k, [0, 0, 0.0, 0.0, {}])
        e[0] += g.prim_calls[i]
        e[1] += g.calls[i]
        e[2] += g.self_cost[i]
        e[3] += g.total_cost[i]
    for a, b, c, s, t in zip(g.edge_caller, g.edge_callee, g.edge_calls, g.edge_self, g.edge_total, strict=True):
        callers = acc[keys[b]][4]
        prev = callers.get(keys[a], (0, 0, 0.0, 0.0))
        callers[keys[a]] = (prev[0] + c, prev[1] + c, prev[2] + s, prev[3] + t)
    return {k: (int(v[0]), int(v[1]), float(v[2]), float(v[3]), v[4]) for k, v in acc.items()}


def has_call_counts(profile: Profile) -> bool:
    """Whether the profile counted calls (a tracer's statistics), not only sampled stacks."""
    fs = profile.func_stats
    return fs is not None and len(fs.func) > 0 and not profile.meta.get("calls_unknown")


def _write(profile: Profile, path: Path) -> None:
    data = marshal.dumps(pstats_dict(profile))
    with open(path, "wb") as fh:
        fh.write(data)


IMPORTER = Importer("pstats", "cProfile/pstats profile", (".prof", ".pstats", ".pstat", ".cprof"), _sniff, _load)
EXPORTER = Exporter("pstats", "cProfile/pstats profile", (".prof", ".pstats"), _write)
