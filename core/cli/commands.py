"""The headless commands `stats`, `convert`, `diff` and `report` (never imports Qt).

Each `run_*` takes the argparse namespace built in pyrometer.cli and returns
the exit status: 0 done, 2 bad input or usage (a file that cannot be read, an
unknown thread, an empty time range), 1 anything else. Failures are one line
on stderr naming the file and what is wrong, never a traceback: a user piping
`pyrometer stats` into a script needs a clear reason and a status, not a
stack dump from our internals.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyrometer.core.agent import wire
from pyrometer.core.cli.output_guard import export_output_problem
from pyrometer.core.cli.pretty_json import dumps
from pyrometer.core.cli.progress import terminal_progress
from pyrometer.core.cli.terminal_text import printable
from pyrometer.core.formats import registry
from pyrometer.core.formats.recording import RecordingError
from pyrometer.core.formats.safe_output import replaced_when_done
from pyrometer.core.model import Profile

if TYPE_CHECKING:
    from pyrometer.core.formats.recording_index import IndexedSamples

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A one-line reason why the command line cannot be honoured (exit status 2)."""


def _say(message: str) -> None:
    """One line on stderr, prefixed like other command-line tools do."""
    text = printable(" ".join(str(message).split()))  # one line, no terminal escapes from file contents
    try:
        print(f"pyrometer: {text}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _oserror_line(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else ""
    what = exc.strerror or str(exc)
    return f"{where}: {what}" if where else what


def guarded(fn: Handler) -> Handler:
    """Turn every failure of a command into one stderr line and an exit status."""

    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except (registry.FormatError, RecordingError, UsageError) as exc:
            _say(str(exc))
            return EXIT_USAGE
        except BrokenPipeError:
            # `pyrometer stats f | head`: the reader left; that is not our failure.
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            return EXIT_OK
        except OSError as exc:
            _say(_oserror_line(exc))
            return EXIT_USAGE
        except MemoryError:
            _say("out of memory")
            return EXIT_FAILURE
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # the promise is: never a traceback
            _say(f"internal error: {type(exc).__name__}: {exc}")
            return EXIT_FAILURE

    return run


# ---------------------------------------------------------------- shared steps
def load(path: str, sample_type: str | None = None) -> Profile:
    """Load any supported file, with terminal progress, and warn about what the loader had to drop."""
    with terminal_progress(f"loading {Path(path).name}") as progress:
        profile = registry.load_profile(path, progress, sample_type)
    warn_notices(profile)
    return profile


def load_notices(profile: Profile) -> list[str]:
    """Warnings the loader attached (a damaged tail, skipped records), not the agent's own notices.

    Agent notices carry the session time `t`; loader notices do not.
    """
    out = []
    for note in profile.notices:
        if "t" in note or note.get("level", "warning") not in ("warning", "error"):
            continue
        message = str(note.get("message", "")).strip()
        if message and message not in out:
            out.append(message)
    return out


def warn_notices(profile: Profile) -> None:
    for message in load_notices(profile):
        _say(f"warning: {message}")


def settle_load_notices(profile: Profile, source: str) -> None:
    """Before saving a converted copy: the loader's warnings about the *source* become
    informational history, so reading the copy does not warn about a file it is not."""
    for note in profile.notices:
        if "t" not in note and note.get("level", "warning") in ("warning", "error"):
            note["level"] = "info"
            note["message"] = f"converted from {source}: {note.get('message', '')}"


def _check_top(top: int) -> int | None:
    """--top N: None means all rows (N = 0)."""
    if top < 0:
        raise UsageError(f"--top must be 0 (all) or a positive number, not {top}")
    return top or None


def resolve_thread(profile: Profile, path: str, wanted: str | None) -> int | None:
    """Map --thread NAME_OR_ID to a thread id; unknown or ambiguous names list the threads."""
    if wanted is None:
        return None
    threads = list(profile.threads.values())
    listing = ", ".join(f"{t.id} ({t.name})" for t in threads) or "none"
    text = wanted.strip()
    try:
        as_id = int(text, 0)
    except ValueError:
        as_id = None
    if as_id is not None and as_id in profile.threads:
        return as_id
    for t in threads:
        if t.native_id is not None and as_id is not None and t.native_id == as_id:
            return t.id
    exact = [t for t in threads if t.name == text]
    if len(exact) == 1:
        return exact[0].id
    loose = exact or [t for t in threads if t.name.lower() == text.lower()]
    if len(loose) == 1:
        return loose[0].id
    if len(loose) > 1:
        ids = ", ".join(str(t.id) for t in loose)
        raise UsageError(f"{path}: thread name {wanted!r} is ambiguous (ids {ids}); pass an id")
    raise UsageError(f"{path}: no thread {wanted!r}; threads: {listing}")


def check_range(t_from: float | None, t_to: float | None) -> None:
    for name, v in (("--from", t_from), ("--to", t_to)):
        if v is not None and v != v:  # NaN
            raise UsageError(f"{name} must be a number of seconds")
    if t_from is not None and t_to is not None and t_to <= t_from:
        raise UsageError(f"empty time range: --to {t_to:g} must be after --from {t_from:g}")


def check_range_inside(
    profile: Profile, path: str, t_from: float | None, t_to: float | None, bounds: tuple[float, float] | None = None
) -> None:
    """A --from/--to range that misses the whole run is a usage error, not an empty report.
    `bounds`: (start, end) when `profile` is an index's shell (its rows are not the samples)."""
    if t_from is None and t_to is None:
        return
    if not profile.sample_count and not len(profile.lag) and not profile.blocking:
        return  # no timeline: the caller says the range is ignored
    if not profile.has_time:  # collapsed stacks: sample "times" are only their order in the file
        raise UsageError(f"{path}: --from/--to need a time axis, and a {profile.source_format} file has none")
    if bounds is not None:
        start, end = bounds
    else:
        end = profile.duration()
        start = min(0.0, float(profile.samples["time"].min())) if len(profile.samples) else 0.0
    span = f"the profile covers {start:g}-{end:.3g} s"
    if t_from is not None and t_from >= end:
        raise UsageError(f"{path}: --from {t_from:g} s is outside the profile: {span}")
    if t_to is not None and t_to <= start:
        raise UsageError(f"{path}: --to {t_to:g} s is outside the profile: {span}")


def emit(text: str) -> None:
    """Write to stdout; a name the terminal's encoding cannot show is escaped, not fatal."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def emit_json(obj: Any) -> None:
    """json.dumps(finite(obj), indent=1, allow_nan=False): the same text, at the C encoder's speed."""
    emit(dumps(obj, indent=1))


# ---------------------------------------------------------------- commands
@guarded
def run_stats(args: argparse.Namespace) -> int:
    from pyrometer.core.cli import summary

    top = _check_top(args.top)
    check_range(args.t_from, args.t_to)
    opened = _open_indexed(args)
    profile, indexed = opened if opened is not None else (load(args.file, getattr(args, "sample_type", None)), None)
    thread = resolve_thread(profile, args.file, args.thread)
    check_range_inside(profile, args.file, args.t_from, args.t_to, None if indexed is None else indexed.bounds())
    if (args.t_from is not None or args.t_to is not None) and not profile.sample_count and not len(profile.lag) and not profile.blocking:
        _say(f"warning: {args.file}: --from/--to ignored: this profile has no timeline (call statistics only)")
    data = summary.build_summary(
        profile,
        source_path=args.file,
        top=top,
        thread=thread,
        t_from=args.t_from,
        t_to=args.t_to,
        by_task=getattr(args, "by_task", False),
        indexed=indexed,
        lists=bool(args.json),  # the text form prints counts and the first stalls: no row per task or stall
    )
    if args.json:
        emit_json(data)
    else:  # the loader's warnings were said on stderr already: not again as notices
        said = set(load_notices(profile))
        emit(summary.render_text({**data, "notices": [n for n in data.get("notices") or [] if n.strip() not in said]}))
    return EXIT_OK


def _open_indexed(args: argparse.Namespace) -> tuple[Profile, IndexedSamples] | None:
    """A `.pyro` recording's summary from its index (built and cached on first use), without reading
    its samples (of a time range: its edges only); None (a full load) for by-task stacks (built from every
    sample) or any other file."""
    if getattr(args, "sample_type", None) or getattr(args, "by_task", False):
        return None
    try:
        with open(args.file, "rb") as fh:
            if fh.read(len(wire.MAGIC)) != wire.MAGIC:
                return None
    except OSError:
        return None  # the loader says what is wrong, as for any file
    from pyrometer.core.analysis.measures import note_measure
    from pyrometer.core.formats.recording_index import open_for_stats

    with terminal_progress(f"indexing {Path(args.file).name}") as progress:
        opened = open_for_stats(args.file, progress, task_rows=bool(args.json),  # the text form counts them
                                t_from=args.t_from, t_to=args.t_to)
    if opened is not None:
        note_measure(opened[0])  # as load_profile does: the index's shell says what it measures too
        warn_notices(opened[0])
    return opened


@guarded
def run_convert(args: argparse.Namespace) -> int:
    exporter = registry.exporter_for(args.output, args.fmt)  # fail on a bad OUT before a slow load
    src, dst = Path(args.input), Path(args.output)
    if dst.is_dir():
        raise UsageError(f"{dst}: is a directory; give an output file name")
    if src.exists() and dst.exists() and src.resolve() == dst.resolve():
        raise UsageError(f"{dst}: output would overwrite the input")
    problem = export_output_problem(args.output, exporter.extensions, exporter.description)
    if problem is not None:
        raise UsageError(problem)
    profile = load(args.input, getattr(args, "sample_type", None))
    settle_load_notices(profile, args.input)
    with replaced_when_done(dst) as partial:  # a full disk leaves no empty or torn file
        registry.export_profile(profile, partial, exporter.name)
    from pyrometer.core.formats.export_notes import export_notes

    for note in export_notes(profile, exporter.name):
        _say(f"note: {note}")
    emit(f"wrote {dst} ({exporter.description})")
    return EXIT_OK


@guarded
def run_diff(args: argparse.Namespace) -> int:
    from pyrometer.core.cli import diff_summary

    top = _check_top(args.top)
    base = load(args.base)
    new = load(args.new)
    data = diff_summary.build_diff(base, new, base_path=args.base, new_path=args.new, top=top)
    emit_json(data) if args.json else emit(diff_summary.render_text(data))
    return EXIT_OK


@guarded
def run_report(args: argparse.Namespace) -> int:
    from pyrometer.core.formats import html_report

    out = Path(args.output)
    if out.is_dir():
        raise UsageError(f"{out}: is a directory; give a file name such as report.html")
    if out.suffix.lower() not in html_report.EXPORTER.extensions:
        raise UsageError(f"{out}: the report is an HTML page; give a name ending in .html or .htm (e.g. {out.stem or 'report'}.html)")
    t_from, t_to = getattr(args, "t_from", None), getattr(args, "t_to", None)
    check_range(t_from, t_to)
    profile = load(args.file)
    check_range_inside(profile, args.file, t_from, t_to)
    try:
        with replaced_when_done(out) as partial:
            html_report.write_report(profile, partial, title=Path(args.file).name, t_from=t_from, t_to=t_to)
    except OSError as exc:
        raise registry.FormatError(f"{out}: cannot write ({exc.strerror or exc})") from exc
    emit(f"wrote {out}")
    return EXIT_OK
