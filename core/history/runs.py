"""Turn a profile into a history run, name its program, and add it without ever failing the caller.

A recording is worth more than its history entry: `add_profile` and
`add_recording` catch every failure (locked or corrupt database, unreadable
file, a bug of ours) and say it in one warning line on stderr.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from pyrometer.core.history.store import FunctionAggregate, HistoryStore, RunRecord
from pyrometer.core.model import UNIT_SECONDS, Profile


def _ident(key: tuple[str, str, int]) -> str:
    file_key, name_key, line = key
    return f"{file_key}\x1f{name_key}\x1f{line}"


def _key(ident: str) -> tuple[str, str, int] | None:
    parts = ident.split("\x1f")
    if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
        return None
    return parts[0], parts[1], int(parts[2])


def match_history(run: RunRecord, known: list[tuple[str, int]]) -> None:
    """Rename the run's keys to the ones the program's history already uses for the same functions.

    A key grows (more path, a def line) only when two functions of one profile
    would share it, so one function can be keyed differently in two runs;
    `match_keys` pairs those up, as diff does between two profiles.
    """
    from pyrometer.core.analysis.identity import match_keys

    base: dict[tuple[str, str, int], int] = {}
    for ident, line in known:
        k = _key(ident)
        if k is not None:
            base.setdefault(k, line)
    new: dict[tuple[str, str, int], int] = {}
    for f in run.functions:
        k = _key(f.ident)
        if k is not None:
            new.setdefault(k, f.line)
    if not base or not new:
        return
    pairs = match_keys(base, new)
    for f in run.functions:
        k = _key(f.ident)
        if k is not None and k in pairs and pairs[k] != k:
            f.ident = _ident(pairs[k])


def program_key_for_target(kind: str, target: str, name: str | None = None) -> str:
    """`--name NAME`, else the resolved script path, `-m module` or `-c CODE` (first line, shortened)."""
    if name:
        return name
    if kind == "module":
        return f"-m {target}"
    if kind == "code":
        first = target.strip().splitlines()[0] if target.strip() else ""
        return "-c " + (first if len(first) <= 60 else first[:57] + "...")
    return str(Path(target).resolve())


def program_key_here() -> str:
    """The program key of the running process (for `pyrometer.profile()` blocks)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None):
        name = str(spec.name)
        return f"-m {name[: -len('.__main__')] if name.endswith('.__main__') else name}"
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if argv0 in ("", "-c"):
        return "-c"
    return str(Path(argv0).resolve())


def program_key_from_meta(meta: dict[str, Any], fallback: str) -> str:
    """An attached process: the script it was started with, when the agent reported one
    (argv[0] when absolute, else the agent's absolute `main_file`: `python3 service.py` run
    from its directory has a relative argv[0])."""
    argv = meta.get("argv")
    if isinstance(argv, list) and argv and isinstance(argv[0], str) and argv[0] not in ("", "-c"):
        path = Path(argv[0])
        if path.is_absolute():
            return str(path)
        main_file = meta.get("main_file")
        if isinstance(main_file, str) and Path(main_file).is_absolute():
            return main_file
    return fallback


def run_duration(profile: Profile) -> float | None:
    """How long the run took as its file says it; None when the file does not say.

    A file without timestamps (pstats, callgrind, pprof, collapsed stacks) is laid out
    as back-to-back samples for the views; that layout's length is no duration. A
    deterministic profile in seconds (cProfile/yappi pstats, yappi callgrind) has its
    own total: the sum of every function's self time (pstats' `total_tt`); one counted
    in instructions or samples (valgrind's Ir) has no time at all.
    """
    if profile.has_time:
        return float(profile.duration())
    stats = profile.func_stats
    if stats is not None and profile.meta.get("deterministic") and profile.unit == UNIT_SECONDS:
        return float(np.clip(stats.self_time, 0.0, None).sum())
    return None


def run_from_profile(
    profile: Profile,
    program: str,
    path: str | os.PathLike[str] | None = None,
    exit_status: int | None = None,
) -> RunRecord:
    """Per-function self/total (and self samples, calls) of the whole profile, keyed by identity."""
    from pyrometer.core.analysis.cpu_time import cpu_time
    from pyrometer.core.analysis.functions import function_table
    from pyrometer.core.analysis.identity import profile_keys
    from pyrometer.core.formats.tables import is_deterministic

    table = function_table(profile)
    keys = profile_keys(profile)
    deterministic = is_deterministic(profile)
    cpu = None if deterministic else cpu_time(profile)
    cpu_self: dict[int, float] = {}
    if cpu is not None:  # each function's on-CPU self seconds: the same tree summed with CPU weights
        by_cpu = function_table(profile, stack_totals=(cpu.per_stack, cpu.count_per_stack))
        cpu_self = dict(zip(by_cpu.func.tolist(), by_cpu.self_weight.tolist(), strict=True))
    funcs = table.func.tolist()
    selfs = table.self_weight.tolist()
    totals = table.total_weight.tolist()
    self_samples = table.self_samples.tolist()
    calls = table.calls.tolist()
    functions = [
        FunctionAggregate(
            ident=_ident(keys[f]),
            name=profile.func_name[f],
            file=profile.func_file[f],
            self=float(selfs[i]),
            total=float(totals[i]),
            self_samples=None if deterministic else int(self_samples[i]),
            calls=int(calls[i]) if calls[i] >= 0 else None,
            line=int(profile.func_line[f]),
            cpu_self=None if cpu is None else float(cpu_self.get(f, 0.0)),
        )
        for i, f in enumerate(funcs)
    ]
    meta = profile.meta
    duration = run_duration(profile)
    before = duration or 0.0  # how long before the file was written the run started: unknown, so not at all
    started = meta.get("start_wall")
    resolved = str(Path(path).resolve()) if path is not None else None
    if not isinstance(started, (int, float)):
        try:
            started = os.path.getmtime(path) - before if path is not None else time.time() - before
        except OSError:
            started = time.time() - before
    if exit_status is None and profile.end and isinstance(profile.end.get("exit_status"), int):
        exit_status = int(profile.end["exit_status"])
    return RunRecord(
        program=program,
        started=float(started),
        duration_s=duration,
        total=float(table.total),
        exit_status=exit_status,
        samples=None if deterministic else int(sum(self_samples)),
        path=resolved,
        python=str(meta.get("python") or ""),
        host=str(meta.get("host") or ""),
        unit=profile.unit,
        source_format=profile.source_format,
        functions=functions,
        cpu_s=None if cpu is None else cpu.total_s,
        measures=_measures(profile),
    )


def _measures(profile: Profile) -> str | None:
    """What the run's weights measure (wall, cpu...), None when its file does not say."""
    from pyrometer.core.analysis.measures import UNKNOWN, measure_of

    kind = measure_of(profile).kind
    return None if kind == UNKNOWN else kind


def warn(message: str) -> None:
    """The one line a failed history write costs the user."""
    text = " ".join(str(message).split())
    try:
        sys.stderr.write(f"pyrometer: warning: run not added to the history: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def add_profile(
    profile: Profile,
    program: str,
    path: str | os.PathLike[str] | None = None,
    exit_status: int | None = None,
    db: str | os.PathLike[str] | None = None,
) -> int | None:
    """Add one run; its id, or None after one warning line (never raises)."""
    try:
        run = run_from_profile(profile, program, path, exit_status)
        with HistoryStore(db) as store:
            match_history(run, store.program_idents(program))
            return store.add_run(run)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # the recording is already safe on disk; the history is a bonus
        warn(str(exc))
        return None


def add_recording(
    path: str | os.PathLike[str],
    program: str | None,
    exit_status: int | None = None,
    db: str | os.PathLike[str] | None = None,
    fallback: str = "unknown",
) -> int | None:
    """Read a finished recording and add it as a run (never raises; one warning line on failure).

    `program` None: the script the recording's agent saw (an attached process), else `fallback`.
    """
    try:
        from pyrometer.core.formats import registry

        profile = registry.load_profile(os.fspath(path))
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        text = str(exc)
        warn(text if os.fspath(path) in text else f"{path}: {text}")
        return None
    if not profile.sample_count and profile.func_stats is None:
        return None  # nothing was recorded (the agent never connected): no run to compare
    key = program if program else program_key_from_meta(profile.meta, fallback)
    return add_profile(profile, key, path, exit_status, db)
