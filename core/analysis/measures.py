"""What a profile's weights measure (wall time, CPU time, instructions...), as far as its file says.

Two profiles compare per function as shares of their totals; that means
something only when both totals are of one thing. A function that sleeps has
a large share of wall time and none of CPU time, so a CPU-clock baseline
against a wall-clock run shows it as a huge "regression" that is only the
clock. `measure_of` says what a profile measures, and whether that is a fact
of the file or the writing tool's default (the file does not record it);
`clock_warning` is the one line a diff shows when two profiles differ.

The importer's answer is kept in `profile.meta["measures"]` (the registry
sets it at load, so a conversion to .pyro carries it along); a live or
recorded Pyrometer session is wall time. Per format, from its spec and the
files its tools write:

- .pyro (our agent): samples of every thread, waiting or not: wall time.
- pstats: cProfile's default timer is time.perf_counter (wall); a custom
  timer (`cProfile.Profile(time.process_time)`) or yappi's clock is not in the
  file: wall time, *assumed*, unless time.sleep's own times show the clock (a
  sleep costs microseconds of CPU and, on a wall clock, what it slept).
- callgrind: valgrind's `Ir` counts instructions; yappi's `Ticks` are its
  clock, CPU by default and not recorded (CPU, assumed; time.sleep decides
  when yappi profiled built-ins); other time events name no clock (unknown).
- py-spy (speedscope, chrome trace): without `--idle` idle threads are not
  sampled (samples of running threads), with it every thread is (wall); the
  file does not say which, so samples in a waiting function (`Condition.wait`,
  `select`...) show `--idle`; without them py-spy's default is assumed.
- pyinstrument, V8 (.cpuprofile, DevTools), trace events (VizTracer): wall.
- pprof, Austin: the chosen sample type names it (`cpu`, `wall`, `*_space`...).
- collapsed stacks, other Firefox Profiler producers: unknown, unless samples
  caught threads waiting (then waits are counted: wall).
- our own exports say it where the format has room: callgrind's `desc:` line,
  a speedscope file's and a Chrome trace's `pyrometer_measures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pyrometer.core.model import Profile

WALL = "wall"
CPU = "cpu"
RUNNING = "running"  # samples of threads that were running: idle (waiting) threads left out
INSTRUCTIONS = "instructions"
MEMORY = "memory"
ALLOCATIONS = "allocations"
UNKNOWN = "unknown"

KIND_TEXT = {
    WALL: "wall time",
    CPU: "CPU time",
    RUNNING: "samples of running threads",
    INSTRUCTIONS: "instructions",
    MEMORY: "memory (bytes)",
    ALLOCATIONS: "allocations (counts)",
    UNKNOWN: "unknown",
}
# whether a function's time waiting (sleep, I/O, a lock) is in its weight; None: not a time
_COUNTS_WAITS = {WALL: True, CPU: False, RUNNING: False}

# Python functions a thread sits in while it waits: the innermost frame a sampler that also
# samples idle threads (py-spy --idle, a wall-clock sampler) sees there
_WAIT_FUNCTIONS = {
    "threading.py": ("Condition.wait", "Event.wait", "Thread.join", "Thread._wait_for_tstate_lock", "Semaphore.acquire",
                     "Barrier.wait", "wait", "join", "_wait_for_tstate_lock"),
    "selectors.py": ("select", "EpollSelector.select", "PollSelector.select", "SelectSelector.select",
                     "KqueueSelector.select", "DevpollSelector.select"),
    "queue.py": ("Queue.get", "get"),
    "socket.py": ("SocketIO.readinto", "readinto", "socket.accept", "accept"),
    "subprocess.py": ("Popen._try_wait", "Popen.wait", "Popen._wait", "_try_wait", "Popen.communicate"),
    "connection.py": ("_recv", "Connection._recv", "_poll", "Connection._poll"),
}
# at least this share of the weight (and 3 samples) innermost in waits: idle threads were sampled. A
# sampler of running threads catches a thread in a wait only as it wakes (py-spy's default: 1 of 38
# samples in tests/fixtures/formats/pyspy-waits.speedscope.json), --idle at every tick it waits (44%)
WAIT_SHARE = 0.1
EXPORT_KEY = "pyrometer_measures"  # where our speedscope and Chrome trace exports write `measure_tag`


@dataclass(frozen=True)
class Measure:
    """What the weights of one profile measure; `basis` says how we know, `assumed` that the file does not."""

    kind: str
    basis: str = ""
    assumed: bool = False

    @property
    def text(self) -> str:
        """`wall time`, `CPU time (assumed: ...)`: the kind, and why when it is not plain."""
        words = KIND_TEXT.get(self.kind, self.kind)
        if not self.basis:
            return words
        return f"{words} (assumed: {self.basis})" if self.assumed else f"{words} ({self.basis})"

    @property
    def short(self) -> str:
        """The kind in words, `(assumed)` when the file does not say it: for one-line warnings."""
        words = KIND_TEXT.get(self.kind, self.kind)
        return f"{words} (assumed)" if self.assumed else words

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "basis": self.basis, "assumed": self.assumed}


def measure_of(profile: Profile, on_cpu_only: bool = False) -> Measure:
    """What `profile`'s weights measure; `on_cpu_only`: as seen through the on-CPU filter (if it applied)."""
    if on_cpu_only:
        return Measure(RUNNING, "on-CPU samples only: the on-CPU filter")
    kept = _from_meta(profile.meta.get("measures"))
    return kept if kept is not None else derive_measure(profile)


def note_measure(profile: Profile) -> Measure:
    """Keep what the profile measures in its meta (unless the file already said), for views and conversions."""
    measure = measure_of(profile)
    profile.meta["measures"] = measure.as_dict()
    return measure


def exported_measure(profile: Profile) -> Measure:
    """What a function-statistics export (pstats, callgrind) of `profile` holds: a trace-mode
    recording exports yappi's exact times, in its trace clock, not its wall-clock samples."""
    stats = profile.func_stats
    if stats is not None and len(stats.func) and "agent_version" in profile.meta and stats.clock in (CPU, WALL):
        return Measure(stats.clock, f"yappi's {stats.clock} clock in Pyrometer's trace mode")
    return measure_of(profile)


def measure_tag(measure: Measure) -> str:
    """How an export writes what it holds, where its format has a slot for it: `cpu`, `wall (assumed)`."""
    return f"{measure.kind} (assumed)" if measure.assumed else measure.kind


def from_tag(tag: object) -> Measure | None:
    """The measure an export of ours wrote (`measure_tag`), None for anything else."""
    words = tag.split() if isinstance(tag, str) else []
    if not words or words[0] not in KIND_TEXT or words[1:] not in ([], ["(assumed)"]):
        return None
    assumed = len(words) > 1
    return Measure(words[0], "Pyrometer's export carried the assumption over" if assumed else "Pyrometer's export says so", assumed)


def _from_meta(value: Any) -> Measure | None:
    """A kept answer (from a .pyro's meta: untrusted), or None."""
    if not isinstance(value, dict) or value.get("kind") not in KIND_TEXT:
        return None
    basis = value.get("basis", "")
    return Measure(str(value["kind"]), basis if isinstance(basis, str) else "", value.get("assumed") is True)


def clock_warning(base: Measure, new: Measure) -> str | None:
    """One line when base and new measure different things ('this profile' is new); None when alike or unknown."""
    if base.kind == new.kind or UNKNOWN in (base.kind, new.kind):
        return None
    head = f"base measures {base.short}, this profile {new.short}"
    b_waits, n_waits = _COUNTS_WAITS.get(base.kind), _COUNTS_WAITS.get(new.kind)
    if b_waits is None or n_waits is None:
        return f"{head}: the shares are of different things; compare like with like"
    if b_waits == n_waits:
        return None  # CPU time and samples of running threads: a wait is in neither
    where = "slower" if n_waits else "faster"
    return f"{head}: a function that waits (sleep, I/O, a lock) will look {where} here; compare like with like"


def unknown_note(base: Measure, new: Measure) -> str | None:
    """One line when exactly one side does not say what it measures (no warning can be given)."""
    if (base.kind == UNKNOWN) == (new.kind == UNKNOWN):
        return None
    side, other = ("base", new) if base.kind == UNKNOWN else ("this profile", base)
    return f"{side} does not say what it measures: if not {other.short}, its differences may come from the clock"


# ---------------------------------------------------------------- per format
def derive_measure(profile: Profile) -> Measure:
    """What the file's format and contents say (see the module docstring)."""
    meta = profile.meta
    written = from_tag(meta.get(EXPORT_KEY))  # our own speedscope or Chrome trace export said it
    if written is not None:
        return written
    fmt = profile.source_format
    if fmt == "pyro":
        if "agent_version" in meta:
            traced = meta.get("trace_clock") if meta.get("mode") == "trace" else None
            also = f"; its traced call statistics are yappi's {traced} clock, shown beside them" if traced else ""
            return Measure(WALL, f"Pyrometer samples every thread, waiting or not{also}")
        return Measure(UNKNOWN, "a recording that does not say where its samples came from")
    if fmt in ("pstats", "callgrind"):
        slept = _sleep_evidence(profile)
        if slept is not None:
            return slept
    if fmt == "pstats":
        if _by_profile_module(profile):
            return Measure(CPU, "the profile module's default timer, time.process_time; a custom timer is not recorded in the file", True)
        return Measure(WALL, "cProfile's default timer; a custom timer or yappi's clock is not recorded in the file", True)
    if fmt == "callgrind":
        return _callgrind(meta)
    if fmt in ("pprof", "austin"):
        return _sample_type(str(meta.get("sample_type", "")), meta)
    if fmt in ("pyinstrument", "cpuprofile"):
        return Measure(WALL, "pyinstrument samples wall-clock time" if fmt == "pyinstrument" else "V8's sampler; idle time is its (idle) node")
    exporter = str(meta.get("exporter", "") or meta.get("producer", ""))
    if exporter.startswith("py-spy"):
        return _py_spy(profile)
    if fmt == "speedscope":
        if profile.unit != "seconds":
            return _waits_seen(profile) or Measure(UNKNOWN, "speedscope weights that are no time")
        if exporter.startswith("pyinstrument"):
            return Measure(WALL, "pyinstrument samples wall-clock time")
        return _waits_seen(profile) or Measure(UNKNOWN, f"exported by {exporter or 'an unnamed tool'}, which does not say")
    if fmt == "chrome_trace":
        if meta.get("traced"):
            return Measure(WALL, "trace events: start and end timestamps")
        return Measure(WALL, "the DevTools sampler; idle time is its (idle) node")
    if fmt == "firefox":
        if profile.unit != "seconds":
            return Measure(MEMORY, "the samples weigh bytes")
        if str(meta.get("product", "")).lower().startswith("firefox"):
            return Measure(WALL, "the Firefox Profiler samples every registered thread")
        return _waits_seen(profile) or Measure(UNKNOWN, "a Firefox Profiler file that does not say which clock its samples follow")
    if fmt == "collapsed":
        return _waits_seen(profile) or Measure(UNKNOWN, "collapsed stacks carry counts, not what was sampled")
    return Measure(UNKNOWN)


# time.sleep as each tracer names it: its calls' times say whether the clock counted the waits
_SLEEPS = {
    ("<built-in method time.sleep>", ""): "cProfile",
    ("sleep", "time"): "yappi",
    ("sleep", ""): "profile",
}
SLEPT_S = 1e-3  # a sleep's CPU is microseconds: 1 ms a call on the profile's clock is waiting counted
# a sleep's CPU with the tracer's hooks: 40-130 us a call on a loaded machine (cProfile with
# process_time or thread_time, yappi's cpu clock; 127 us the most seen, at load 7.7); on a wall
# clock only sleeps under ~0.45 ms (and Linux's 50 us of timer slack) are as short
AWAKE_S = 500e-6


def _sleep_evidence(profile: Profile) -> Measure | None:
    """What time.sleep's exact times in a deterministic profile (cProfile, yappi with builtins) show.

    A sleep costs microseconds of CPU whatever it sleeps; on a wall clock it costs what it
    slept. So up to AWAKE_S a call means the clock left the waits out (a CPU timer,
    unless every call slept under 0.5 ms), a millisecond or more that it counted them (cProfile's
    `process_time` timer counts other threads' CPU during a sleep too: then it is only likely).
    """
    stats = profile.func_stats
    if stats is None or profile.unit != "seconds":
        return None
    calls, spent, tool = 0, 0.0, ""
    for row, f in enumerate(stats.func.tolist()):
        who = _SLEEPS.get((profile.func_name[f], profile.func_file[f]))
        if who is not None:
            calls += int(stats.calls[row])
            spent += float(stats.self_time[row])
            tool = who
    if calls <= 0:
        return None
    each = spent / calls
    seen = f"time.sleep took {_short_time(each)} a call over {calls} call{'s' * (calls != 1)}"
    if each >= SLEPT_S:
        if tool == "yappi":  # yappi's CPU clock is the thread's own: a sleep never costs it a millisecond
            return Measure(WALL, f"{seen}: yappi's wall clock")
        default = "cProfile's default timer" if tool == "cProfile" else "a wall-clock timer, not the profile module's default"
        return Measure(WALL, f"{default}; {seen}, so waits are counted", True)
    if each <= AWAKE_S:
        clock = {"yappi": "yappi's CPU clock", "profile": "the profile module's default timer, time.process_time"}.get(
            tool, "a CPU timer, not cProfile's default")
        return Measure(CPU, f"{seen}: waits are not counted, so {clock} (or every sleep was under 0.5 ms)", True)
    return None


def _by_profile_module(profile: Profile) -> bool:
    """A pstats file of the pure-Python `profile` module: its root entry `('profile', 0, 'profiler')`."""
    return any(name == "profiler" and file == "profile" for name, file in zip(profile.func_name, profile.func_file, strict=True))


def _short_time(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def _callgrind(meta: dict[str, Any]) -> Measure:
    event = str(meta.get("cost_unit", ""))
    creator = str(meta.get("creator", "")).lower()
    if event == "Ir":
        return Measure(INSTRUCTIONS, "valgrind's Ir: instructions executed")
    if creator.startswith("yappi"):
        return Measure(CPU, "yappi's default clock; yappi does not record its clock in the file", True)
    return Measure(UNKNOWN, f"callgrind event {event or '?'}, no clock named")


def _sample_type(chosen: str, meta: dict[str, Any]) -> Measure:
    """pprof's and Austin's `type/unit` of the chosen sample value."""
    kind = chosen.split("/", 1)[0].strip().lower()
    where = f"sample type {chosen}"
    if kind in ("cpu", "cpu time"):
        return Measure(CPU, where)
    if kind in ("wall", "wall time", "walltime"):
        return Measure(WALL, where)
    if kind in ("alloc_space", "inuse_space", "space", "memory", "alloc_bytes", "inuse_bytes"):
        return Measure(MEMORY, where)
    if kind in ("alloc_objects", "inuse_objects", "objects", "allocations"):
        return Measure(ALLOCATIONS, where)
    if kind == "samples" and str(meta.get("period_type", "")).lower().startswith("cpu/"):
        return Measure(CPU, f"{where}, period cpu")  # Go's CPU profile: SIGPROF ticks of CPU time
    return Measure(UNKNOWN, where)


def _py_spy(profile: Profile) -> Measure:
    waits = _waits_seen(profile, "py-spy --idle")
    if waits is not None:
        return waits
    return Measure(RUNNING, "py-spy's default leaves idle threads out; --idle is not recorded in the file", True)


def _waits_seen(profile: Profile, who: str = "") -> Measure | None:
    """Wall time when samples caught threads waiting (a sampler of running threads never does):
    at least 3 samples and WAIT_SHARE of the weight innermost in a standard-library wait."""
    n = profile.sample_count
    if n == 0 or profile.meta.get("deterministic") or (profile.meta.get("traced") and not who):
        return None
    wait_func = _wait_funcs(profile)
    if not wait_func.any():
        return None
    stacks = np.asarray(profile.samples["stack"])
    ok = stacks >= 0
    size = profile.stack_count
    count = np.bincount(stacks[ok], minlength=size)
    weight = np.bincount(stacks[ok], weights=np.asarray(profile.samples["weight"], np.float64)[ok], minlength=size)
    leaf_func = np.asarray(profile.frames["func"])[np.asarray(profile.stacks["frame"])[:size]]
    in_wait = wait_func[leaf_func]
    waiting = float(weight[in_wait].sum())
    total = float(weight.sum())
    if int(count[in_wait].sum()) < 3 or total <= 0 or waiting < WAIT_SHARE * total:
        return None
    per_func = np.bincount(leaf_func[in_wait], weights=weight[in_wait], minlength=len(wait_func))
    name = profile.func_name[int(np.argmax(per_func))]
    seen = f"{100.0 * waiting / total:.0f}% of the samples caught threads waiting, e.g. in {name}"
    return Measure(WALL, f"{who}: {seen}" if who else seen)


def _wait_funcs(profile: Profile) -> np.ndarray:
    """Per function id: whether it is a standard-library wait (`_WAIT_FUNCTIONS`)."""
    out = np.zeros(len(profile.func_name), bool)
    for f, (name, file) in enumerate(zip(profile.func_name, profile.func_file, strict=True)):
        names = _WAIT_FUNCTIONS.get(file.replace("\\", "/").rsplit("/", 1)[-1]) if file else None  # a Windows path too
        if names is not None and name in names:
            out[f] = True
    return out
