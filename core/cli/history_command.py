"""`pyrometer history`: list programs, show one program's runs and regressions, import and forget runs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pyrometer.core.cli.commands import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    _say,
    emit,
    emit_json,
    guarded,
    load,
)
from pyrometer.core.history.store import HistoryError, HistoryStore, default_db_path


def resolve_program(store: HistoryStore, wanted: str) -> str:
    """An exact key, a script path that exists, or the one key ending in what was typed."""
    keys = store.program_keys()
    if wanted in keys:
        return wanted
    if os.path.exists(wanted):
        resolved = str(Path(wanted).resolve())
        if resolved in keys:
            return resolved
    tail = [k for k in keys if k.endswith("/" + wanted) or Path(k).name == wanted or k == f"-m {wanted}"]
    if len(tail) == 1:
        return tail[0]
    if len(tail) > 1:
        raise UsageError(f"{wanted!r} matches several programs: {', '.join(tail)}; give the whole key")
    listing = ", ".join(keys[:10]) or "none yet"
    raise UsageError(f"no program {wanted!r} in the history; programs: {listing}")


def _import(store: HistoryStore, files: list[str], name: str | None) -> int:
    from pyrometer.core.history.runs import match_history, run_from_profile

    if not name:
        raise UsageError("--import needs --name NAME: the program these profiles belong to")
    for path in files:
        run = run_from_profile(load(path), name, path)
        match_history(run, store.program_idents(name))
        run_id = store.add_run(run)
        emit(f"added run {run_id} of {name} from {path}")
    return EXIT_OK


def _forget(store: HistoryStore, program: str | None, ids: list[int]) -> int:
    if ids:
        missing = [i for i in dict.fromkeys(ids) if store.run(i) is None]
        if missing:
            which = ", ".join(str(i) for i in missing)
            raise UsageError(f"no run {which} in the history (`pyrometer history PROGRAM` lists run ids); nothing forgotten")
        n = store.forget(run_ids=ids)
    elif program is not None:
        key = resolve_program(store, program)
        n = store.forget(program=key)
    else:
        raise UsageError("--forget needs RUN_IDs or a PROGRAM (all its runs)")
    emit(f"forgot {n} run{'s' * (n != 1)}")
    return EXIT_OK


@guarded
def run_history(args: argparse.Namespace) -> int:
    from pyrometer.core.history import render

    if getattr(args, "module", None):  # `history -m pkg.mod`: the key `record -- -m pkg.mod` files runs under
        if args.program is not None:
            raise UsageError(f"give the program once: {args.program!r} or -m {args.module}")
        args.program = f"-m {args.module.strip()}"  # the quoted "-m pkg.mod" reaches here as " pkg.mod"
    if args.last is not None and args.last < 1:
        raise UsageError(f"--last must be 1 or more, not {args.last}")
    if not args.import_files and not default_db_path().exists():  # reading never creates the history
        if args.forget:
            raise UsageError(f"no run {', '.join(map(str, args.forget))} in the history: no runs recorded yet ({default_db_path()})")
        if args.program is not None:
            raise UsageError(f"no program {args.program!r} in the history: no runs recorded yet ({default_db_path()})")
        emit(render.render_programs([], default_db_path()))
        return EXIT_OK
    try:
        with HistoryStore() as store:
            if args.import_files:
                return _import(store, args.import_files, args.name or args.program)
            if args.forget is not None:
                return _forget(store, args.program, args.forget)
            if args.program is None:
                if args.json or args.csv:
                    raise UsageError("--json and --csv need a PROGRAM")
                emit(render.render_programs(store.programs(), store.path))
                return EXIT_OK
            from pyrometer.core.history.analysis import build_report

            key = resolve_program(store, args.program)
            report = build_report(key, store.runs(key, args.last))
    except HistoryError as exc:
        _say(str(exc))
        return EXIT_FAILURE
    if args.json:
        emit_json(render.report_dict(report))
    elif args.csv:
        emit(render.render_csv(report))
    else:
        emit(render.render_text(report, args.top or None))
    return EXIT_OK
