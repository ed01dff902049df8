"""Callgrind profile format (valgrind `--tool=callgrind`, `yappi.save(type="callgrind")`, KCachegrind).

Spec: valgrind's "Callgrind Format Specification". A header of `key: value`
lines (`events:` names the cost columns, `positions:` the position columns,
default `line`), then position specifications (`ob= fl= fi= fe= fn= cob= cfi=
cfl= cfn= calls=`) that set context for the cost lines that follow
(`<positions> <costs...>`). Names may be compressed as `(id) name` and later
`(id)`, and valgrind sometimes uses `(id)` before the line that defines it
(resolved at the end, as gprof2dot and KCachegrind accept it); positions may
be relative (`+n`, `-n`) or repeated (`*`). lsprofcalltree never writes
`fl=`, only `fi=` before each `fn=`: until a file has an `fl=`, `fi=` names the
function's file (else a function and the calls into it would be two
functions, and self-recursion would go unseen). A cost line
right after `calls=N ...` is the inclusive cost of that call, not self cost.

What we take: the first event is the cost (its name is kept in
`meta["cost_unit"]`, all names in `meta["events"]`). A function is
(object, file, name), shown with its file, or its object file when the
file is unknown (`???`); its line is the line given in a yappi-style
`name file:line` suffix, else the smallest line of its own cost lines. Self
cost = its cost lines; inclusive = self + its call lines (self-recursive
calls excluded, since their cost is already inside; for yappi files at least
the sum of the calls into it, because yappi's self time leaves out unprofiled
built-ins such as `time.sleep`); calls = the `calls=`
counts into it (0 for roots: the format does not say). The profile's total is
the sum of self costs (what gprof2dot counts; the `summary:`/`totals:` line
agrees up to rounding, and a notice says when it does not by more than 1%). Per-edge self cost is
not in the format and is estimated from the callee's self share.

Unit: yappi writes `events: Ticks` with microseconds of its clock (CPU by
default) as integers, and events named like `Time_(ns)`, `us`, `ms` are
times too; those load as seconds. Anything else (valgrind's `Ir`
instruction counts, ...) loads with `profile.unit = "samples"` and the event
counts as weights. Export writes `events: Time_(ns)` for seconds profiles,
the cost event's name otherwise, from the function statistics (or the
samples' call tree when there are none). Where a function's exact inclusive
cost differs from self + calls (yappi's unprofiled built-ins, pstats data),
a `# pyrometer-inclusive: N` comment after its `fn=` line keeps it for our
own reader; other tools see a comment.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import zlib
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import IO, TypeVar

from pyrometer.core.analysis.measures import exported_measure, from_tag, measure_tag
from pyrometer.core.formats import bounded
from pyrometer.core.formats.deterministic import CallGraph, graph_from_profile, profile_from_graph
from pyrometer.core.formats.registry import (
    Exporter,
    FormatError,
    Importer,
    ProgressFn,
    check_readable,
)
from pyrometer.core.model import UNIT_SAMPLES, UNIT_SECONDS, Profile

MAX_LINE = 1 << 20
INCLUSIVE_COMMENT = "# pyrometer-inclusive:"
_HEADER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ()]*:")
_SPEC_RE = re.compile(r"^([a-z]{2,6})=(.*)$")
_LINE_SUFFIX_RE = re.compile(r"^(.*):(\d{1,9})$", re.DOTALL)
MEASURES_DESC = "Pyrometer measures:"  # our exports' `desc:` line: what the costs measure (analysis.measures)
_SNIFF_FIRST = ("version:", "creator:", "cmd:", "fn=")
_TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
_TIME_RE = re.compile(r"^(?:time)?[_ ]?\(?(\d*)(ns|us|µs|ms|s)\)?$")
_FORWARD = "\x00forward:"  # stands for a compressed name used before its definition
_SUMMARY_SLACK = 0.01  # self costs may differ from the summary line by rounding (0.04% seen): warn above 1%
_POS_SPECS = {"ob", "fl", "fi", "fe", "fn", "cob", "cfi", "cfl", "cfn", "calls", "rcalls", "jump", "jcnd", "jfi", "jfn"}


def event_scale(event: str, creator: str) -> float | None:
    """Seconds per unit of a cost event, or None when the event is not a time."""
    low = event.strip().lower()
    if low == "ticks" and creator.lower().startswith("yappi"):
        return 1e-6
    for word, scale in (("nanoseconds", 1e-9), ("microseconds", 1e-6), ("milliseconds", 1e-3), ("seconds", 1.0)):
        if low in (word, f"time_({word})"):
            return scale
    m = _TIME_RE.match(low)
    if m and (m.group(1) or low.startswith("time") or low in _TIME_UNITS):
        return _TIME_UNITS[m.group(2)] * (int(m.group(1)) if m.group(1) else 1)
    return None


# ---------------------------------------------------------------- sniff
def _sniff(head: bytes, path: Path) -> bool:
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", "replace")
    seen = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if seen == 0 and line.lower().startswith("# callgrind format"):
                return True
            continue
        if seen == 0 and line.startswith(_SNIFF_FIRST):
            return True
        if line.startswith("events:"):
            return True
        seen += 1
        if seen >= 20:
            break
    return False


# ---------------------------------------------------------------- parse
class _Func:
    __slots__ = ("calls", "file", "inclusive", "min_line", "name", "prim_calls", "self_cost", "yappi_line")

    def __init__(self, name: str, file: str) -> None:
        self.name = name
        self.file = file
        self.self_cost = 0
        self.calls = 0
        self.prim_calls = 0
        self.min_line: int | None = None
        self.yappi_line: int | None = None
        self.inclusive: int | None = None  # from our own exports' "# pyrometer-inclusive:" comment


class _Parser:
    """One pass over the lines; keeps per-function and per-edge sums (memory ~ distinct functions)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lineno = 0
        self.header: dict[str, str] = {}
        self.events: list[str] | None = None
        self.positions = ["line"]
        self.line_pos: int | None = 0
        self.names: dict[str, dict[int, str]] = {"file": {}, "fn": {}, "ob": {}}
        self.ob = ""
        self.fl = ""  # file of the current function
        self.fi = ""  # file of the following cost lines (inlined code)
        self.fl_seen = False  # lsprofcalltree writes only fi=: then fi= names the function's file
        self.forward_names = False  # a compressed name was used before its definition
        self.cob: str | None = None
        self.cfl: str | None = None
        self.cfn: str | None = None
        self.call_count: int | None = None
        self.func: tuple[str, str, str] | None = None
        self.last: list[int] = [0]
        self.funcs: dict[tuple[str, str, str], _Func] = {}
        self.edges: dict[tuple[tuple[str, str, str], tuple[str, str, str]], list[int]] = {}
        self.summary: list[str] | None = None

    def fail(self, why: str) -> FormatError:
        return FormatError(f"{self.path}: not a valid callgrind file (line {self.lineno}: {why})")

    def name(self, kind: str, value: str) -> str:
        value = value.strip()
        if value.startswith("("):
            close = value.find(")")
            if close > 1 and value[1:close].isdigit():
                ident = int(value[1:close])
                rest = value[close + 1 :].strip()
                table = self.names[kind]
                if rest:
                    table[ident] = rest
                    return rest
                if ident not in table:  # defined further down (valgrind does this): resolved at the end
                    self.forward_names = True
                    return f"{_FORWARD}{kind}:{ident}"
                return table[ident]
        return value

    def resolve_forward_names(self) -> None:
        """Replace names used before their definition by the definition, merging what then coincides."""
        if not self.forward_names:
            return

        def real(value: str) -> str:
            if not value.startswith(_FORWARD):
                return value
            kind, _, ident = value[len(_FORWARD) :].partition(":")
            name = self.names[kind].get(int(ident))
            if name is None:
                if kind == "fn":  # a function needs a name
                    raise FormatError(f"{self.path}: not a valid callgrind file (function id ({ident}) is never defined)")
                return ""  # an object or file never named (callgrind 0.10.1 does this): unknown, as gprof2dot reads it
            return name

        def key_of(key: tuple[str, str, str]) -> tuple[str, str, str]:
            return (real(key[0]), real(key[1]), real(key[2]))

        old_funcs, old_edges = self.funcs, self.edges
        self.funcs, self.edges = {}, {}
        for key, f in old_funcs.items():
            g = self.get_func(key_of(key))
            g.self_cost += f.self_cost
            g.calls += f.calls
            g.prim_calls += f.prim_calls
            if f.min_line is not None and (g.min_line is None or f.min_line < g.min_line):
                g.min_line = f.min_line
            if f.inclusive is not None:
                g.inclusive = f.inclusive
        for (a, b), (calls, cost) in old_edges.items():
            ka, kb = key_of(a), key_of(b)
            if ka == kb and a != b:  # a call that turns out to be self-recursive is not a first call
                self.funcs[kb].prim_calls -= calls
            e = self.edges.setdefault((ka, kb), [0, 0])
            e[0] += calls
            e[1] += cost

    def get_func(self, key: tuple[str, str, str]) -> _Func:
        f = self.funcs.get(key)
        if f is None:
            ob, fl, name = key
            file = fl if fl not in ("", "???") else (ob if ob not in ("", "???") else "")
            f = self.funcs[key] = _Func(name, file)
            m = _LINE_SUFFIX_RE.match(name)
            if m and fl and m.group(1).endswith(" " + fl):  # yappi (and our exporter on a clash): "name file:line"
                f.name = m.group(1)[: -len(fl) - 1]
                f.yappi_line = int(m.group(2))
        return f

    def feed(self, line: str) -> None:
        self.lineno += 1
        line = line.strip()
        if not line:
            return
        if line[0] == "#":
            if line.startswith(INCLUSIVE_COMMENT) and self.func is not None and self.own_export():
                value = line[len(INCLUSIVE_COMMENT) :].strip()
                if value.isdigit() and len(value) <= 20:
                    self.get_func(self.func).inclusive = int(value)
            return
        c = line[0]
        if c.isdigit() or c in "+-*":
            self.cost_line(line)
            return
        m = _SPEC_RE.match(line)
        if m and m.group(1) in _POS_SPECS:
            self.spec(m.group(1), m.group(2))
            return
        if _HEADER_RE.match(line):
            key, _, value = line.partition(":")
            self.header_line(key.strip(), value.strip())
            return
        if m:
            return  # an unknown `key=value` specification: ignore, as KCachegrind does
        raise self.fail(f"unrecognised line {line[:60]!r}")

    def own_export(self) -> bool:
        return self.header.get("creator", "").startswith("pyrometer")

    def header_line(self, key: str, value: str) -> None:
        if key == "events":
            events = value.split()
            if not events:
                raise self.fail("empty events: line")
            if self.events is not None and events != self.events:
                raise self.fail("a second events: line with other events is not supported")
            self.events = events
        elif key == "positions":
            pos = value.split()
            if not pos or any(p not in ("line", "instr") for p in pos):
                raise self.fail(f"unsupported positions: {value[:40]!r}")
            self.positions = pos
            self.line_pos = pos.index("line") if "line" in pos else None
            self.last = [0] * len(pos)
        elif key in ("summary", "totals"):
            self.summary = value.split()
        elif key == "desc" and value.startswith(MEASURES_DESC):
            self.header["measures"] = value[len(MEASURES_DESC) :].strip()
        else:
            self.header.setdefault(key, value)

    def spec(self, key: str, value: str) -> None:
        if key == "fl":
            self.fl = self.fi = self.name("file", value)
            self.fl_seen = True
        elif key in ("fi", "fe"):
            self.fi = self.name("file", value)
            if not self.fl_seen:  # no fl= in the whole file so far (lsprofcalltree): fi= is the function's file
                self.fl = self.fi
        elif key == "fn":
            self.fi = self.fl
            # the function itself is created by its first cost line: yappi defines all names up front
            self.func = (self.ob, self.fl, self.name("fn", value))
        elif key == "ob":
            self.ob = self.name("ob", value)
        elif key == "cob":
            self.cob = self.name("ob", value)
        elif key in ("cfi", "cfl"):
            self.cfl = self.name("file", value)
        elif key == "cfn":
            self.cfn = self.name("fn", value)
        elif key in ("calls", "rcalls"):
            parts = value.split()
            if not parts or not parts[0].isdigit() or len(parts[0]) > 20:
                raise self.fail(f"bad calls= line {value[:40]!r}")
            if self.cfn is None:
                raise self.fail("calls= without a cfn=")
            self.call_count = int(parts[0])
        elif key == "jfi":
            self.name("file", value)  # only to learn a compressed name that later lines may use
        elif key == "jfn":
            self.name("fn", value)
        # jump=/jcnd= describe jumps; their position line is read as a zero-cost line

    def number(self, tok: str) -> int:
        try:
            return int(tok, 16) if tok[:2].lower() == "0x" else int(tok)
        except ValueError:
            raise self.fail(f"bad number {tok[:30]!r}") from None

    def cost_line(self, line: str) -> None:
        if self.events is None:
            raise self.fail("cost line before the events: header")
        toks = line.split()
        npos = len(self.positions)
        if len(toks) < npos:
            raise self.fail("cost line with too few positions")
        for i in range(npos):
            tok = toks[i]
            if tok == "*":
                continue
            if tok[0] in "+-":
                delta = self.number(tok[1:])
                self.last[i] += delta if tok[0] == "+" else -delta
            else:
                self.last[i] = self.number(tok)
        for tok in toks[npos:]:
            if not tok.isdigit() or len(tok) > 20:  # 64-bit counters
                raise self.fail(f"bad cost {tok[:30]!r}")
        cost = int(toks[npos]) if len(toks) > npos else 0
        if self.func is None:
            self.func = (self.ob, self.fl, "(unknown)")
        caller = self.get_func(self.func)
        if self.line_pos is not None and self.fi == self.fl:  # lines of inlined files say nothing of ours
            ln = self.last[self.line_pos]
            if 0 < ln < 1 << 31 and (caller.min_line is None or ln < caller.min_line):
                caller.min_line = ln
        if self.call_count is None:
            caller.self_cost += cost
            return
        assert self.cfn is not None
        ob = self.cob if self.cob is not None else self.ob
        fl = self.cfl if self.cfl is not None else self.fi
        callee_key = (ob, fl, self.cfn)
        callee = self.get_func(callee_key)
        callee.calls += self.call_count
        if callee_key != self.func:
            callee.prim_calls += self.call_count
        e = self.edges.setdefault((self.func, callee_key), [0, 0])
        e[0] += self.call_count
        e[1] += cost
        self.call_count = None
        self.cob = self.cfl = None


def _lines(fh: IO[bytes]) -> Iterator[bytes]:
    while True:
        raw = fh.readline(MAX_LINE)
        if not raw:
            return
        if len(raw) >= MAX_LINE and not raw.endswith(b"\n"):
            raise ValueError(f"a line longer than {MAX_LINE} bytes")
        yield raw


def parse_file(path: Path, progress: ProgressFn | None = None) -> _Parser:
    check_readable(path)
    parser = _Parser(path)
    size = max(os.path.getsize(path), 1)
    with open(path, "rb") as raw_fh:
        gz = raw_fh.read(2) == b"\x1f\x8b"
        raw_fh.seek(0)
        if gz:
            bounded.check_gzip(path)  # a bomb or damaged gzip is refused before parsing starts
        fh: IO[bytes] = gzip.GzipFile(fileobj=raw_fh) if gz else raw_fh  # type: ignore[assignment]
        try:
            for i, raw in enumerate(_lines(fh)):
                parser.feed(raw.decode("utf-8", "replace"))
                if progress is not None and not gz and i % 65536 == 65535:
                    progress(min(0.9, 0.9 * raw_fh.tell() / size))
        except (OSError, EOFError, zlib.error) as exc:  # what a damaged gzip stream raises
            raise FormatError(f"{path}: cannot read callgrind data ({exc})") from None
        except ValueError as exc:
            raise parser.fail(str(exc)) from None
    return parser


def graph_from_parser(p: _Parser) -> tuple[CallGraph, float | None]:
    """The parsed sums as a CallGraph in the file's cost unit scaled to seconds if it is a time."""
    assert p.events is not None
    p.resolve_forward_names()
    scale = event_scale(p.events[0], p.header.get("creator", ""))
    k = scale if scale is not None else 1.0
    g = CallGraph()
    row: dict[tuple[str, str, str], int] = {}
    call_cost: dict[tuple[str, str, str], int] = {}
    called_cost: dict[tuple[str, str, str], int] = {}
    for (a, b), (_, cost) in p.edges.items():
        if a != b:
            call_cost[a] = call_cost.get(a, 0) + cost
            called_cost[b] = called_cost.get(b, 0) + cost
    # yappi leaves time in unprofiled built-ins out of both self and calls; its callers' call
    # lines still include it, so for yappi the inclusive cost is the larger of the two views
    from_callers = p.header.get("creator", "").lower().startswith("yappi")
    totals: dict[tuple[str, str, str], int] = {}
    for key, f in p.funcs.items():
        line = f.yappi_line if f.yappi_line is not None else (f.min_line or 0)
        total = f.self_cost + call_cost.get(key, 0)
        if f.inclusive is not None:
            total = f.inclusive
        elif from_callers:
            total = max(total, called_cost.get(key, 0))
        totals[key] = total
        row[key] = g.add_function(f.name, f.file, line, f.calls, f.prim_calls, f.self_cost * k, total * k)
    for (a, b), (calls, cost) in p.edges.items():
        callee = p.funcs[b]
        tb = totals[b]
        est_self = min(float(cost), callee.self_cost * cost / tb) if tb > 0 else 0.0
        g.add_edge(row[a], row[b], calls, est_self * k, cost * k)
    return g, scale


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    p = parse_file(path, progress)
    if p.events is None:
        raise FormatError(f"{path}: not a valid callgrind file (no events: line)")
    if not p.funcs:
        raise FormatError(f"{path}: callgrind file lists no functions")
    graph, scale = graph_from_parser(p)
    unit = UNIT_SECONDS if scale is not None else UNIT_SAMPLES
    creator = p.header.get("creator", "")
    clock = "cpu" if creator.lower().startswith("yappi") else ("unknown" if scale is not None else p.events[0])
    profile = profile_from_graph(graph, "callgrind", unit=unit, clock=clock)
    measure = from_tag(p.header.get("measures")) if p.own_export() else None
    if measure is not None:
        profile.meta["measures"] = measure.as_dict()
    profile.meta["cost_unit"] = p.events[0]
    profile.meta["events"] = list(p.events)
    for key in ("creator", "cmd", "pid"):
        if key in p.header:
            profile.meta[key] = p.header[key]
    if p.summary and p.summary[0].isdigit():
        want = int(p.summary[0])
        have = sum(f.self_cost for f in p.funcs.values())
        if abs(want - have) > _SUMMARY_SLACK * max(want, 1):
            profile.notices.append(
                {"level": "warning", "message": f"{path}: costs add up to {have} {p.events[0]}, the file's summary says {want} (truncated file?)"}
            )
    if progress:
        progress(1.0)
    return profile


# ---------------------------------------------------------------- export

K = TypeVar("K", bound=Hashable)


def _compressed_names(label: Callable[[K], str]) -> Callable[[K], str]:
    """Callgrind name compression: the first mention of a key is "(id) label", later ones just "(id)"."""
    ids: dict[K, int] = {}

    def ref(key: K) -> str:
        if key in ids:
            return f"({ids[key]})"
        ids[key] = len(ids) + 1
        return f"({ids[key]}) {label(key)}"

    return ref


def write_callgrind(profile: Profile, out: IO[str]) -> None:
    g = graph_from_profile(profile)
    if profile.unit == UNIT_SECONDS:
        event, k = "Time_(ns)", 1e9
    else:
        event = str(profile.meta.get("cost_unit") or "Samples")
        event = re.sub(r"[^A-Za-z0-9_()]", "_", event) or "Samples"
        k = 1.0

    def cost(v: float) -> int:
        return max(0, round(v * k)) if math.isfinite(v) else 0

    # callgrind identifies a function by (file, name): disambiguate clashes yappi-style
    seen: dict[tuple[str, str], int] = {}
    for f, n in zip(g.files, g.names, strict=True):
        seen[(f, n)] = seen.get((f, n), 0) + 1
    fn_names = [
        f"{n} {f}:{ln}" if seen[(f, n)] > 1 else n for n, f, ln in zip(g.names, g.files, g.lines, strict=True)
    ]
    total = sum(cost(v) for v in g.self_cost)
    w = out.write
    w("# callgrind format\nversion: 1\ncreator: pyrometer\n")
    if profile.meta.get("cmd"):
        w(f"cmd: {profile.meta['cmd']}\n")
    measure = exported_measure(profile)  # a description line (the format's `desc: Type: value`): what the costs are
    w(f"desc: {MEASURES_DESC} {measure_tag(measure)}\n")
    w(f"positions: line\nevents: {event}\nsummary: {total}\n\n")
    fl: Callable[[str], str] = _compressed_names(lambda file: file or "???")
    fn: Callable[[int], str] = _compressed_names(fn_names.__getitem__)

    out_edges: list[list[int]] = [[] for _ in g.names]
    for e, a in enumerate(g.edge_caller):
        out_edges[a].append(e)
    for i in range(len(g.names)):
        line = max(0, g.lines[i])
        w(f"fl={fl(g.files[i])}\nfn={fn(i)}\n")
        inclusive = cost(g.total_cost[i])
        if inclusive != cost(g.self_cost[i]) + sum(cost(g.edge_total[e]) for e in out_edges[i] if g.edge_callee[e] != i):
            w(f"{INCLUSIVE_COMMENT} {inclusive}\n")  # a total the cost lines cannot express (yappi, pstats)
        w(f"{line} {cost(g.self_cost[i])}\n")
        for e in out_edges[i]:
            b = g.edge_callee[e]
            w(f"cfl={fl(g.files[b])}\ncfn={fn(b)}\ncalls={max(0, g.edge_calls[e])} {max(0, g.lines[b])}\n")
            w(f"{line} {cost(g.edge_total[e])}\n")
        w("\n")


def _write(profile: Profile, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        write_callgrind(profile, fh)


IMPORTER = Importer("callgrind", "callgrind profile", (".callgrind", "callgrind.out.*"), _sniff, _load)
EXPORTER = Exporter("callgrind", "callgrind profile", (".callgrind", "callgrind.out.*"), _write)
