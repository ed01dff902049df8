"""Command-line entry: one argparse table, each command run by a lazily imported module.

Headless commands (stats, convert, diff, report, record) live in
pyrometer.core and never import Qt; GUI commands (open, run, attach, demo and
no command at all) import pyrometer.app only when chosen.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Callable

from pyrometer._version import __version__
from pyrometer.core.agent import defaults

# command name -> "module:function" taking the parsed namespace, returning an exit status
HANDLERS: dict[str, str] = {
    "stats": "pyrometer.core.cli.commands:run_stats",
    "convert": "pyrometer.core.cli.commands:run_convert",
    "diff": "pyrometer.core.cli.commands:run_diff",
    "report": "pyrometer.core.cli.commands:run_report",
    "record": "pyrometer.core.cli.record_command:run_record",
    "history": "pyrometer.core.cli.history_command:run_history",
    "open": "pyrometer.app.launcher:run_open",
    "run": "pyrometer.app.launcher:run_live",
    "attach": "pyrometer.app.launcher:run_attach",
    "demo": "pyrometer.app.launcher:run_demo",
    "": "pyrometer.app.launcher:run_window",
}


class _StoreGiven(argparse.Action):
    """Store the value and remember that it was given (`--clock` means nothing without --mode trace)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def _add_collect_options(p: argparse.ArgumentParser, launches: bool = True) -> None:
    """Options shared by `record`, `run` and `attach` (how the agent collects); `--python` only
    where a program is launched (an attached process runs its own interpreter)."""
    p.add_argument("--rate", type=float, default=defaults.RATE_HZ, metavar="HZ", help=f"stack samples per second (default {defaults.RATE_HZ:g})")
    p.add_argument("--mode", choices=("sample", "trace"), default=defaults.MODE, help="sample stacks, or trace every call with yappi")
    p.add_argument("--clock", choices=("wall", "cpu"), default=defaults.CLOCK, action=_StoreGiven, help=f"yappi clock in --mode trace (default {defaults.CLOCK})")
    p.add_argument("--loop-interval", type=float, default=defaults.LOOP_INTERVAL_MS, metavar="MS", help=f"event-loop lag probe interval (default {defaults.LOOP_INTERVAL_MS:g} ms)")
    p.add_argument("--block-threshold", type=float, default=defaults.BLOCK_THRESHOLD_MS, metavar="MS", help=f"report the loop as blocked after this long (default {defaults.BLOCK_THRESHOLD_MS:g} ms)")
    p.add_argument(
        "--every-task", action="store_true",
        help=f"record every asyncio task in full; by default a loop creating over {defaults.TASK_SAMPLING_RATE:,.0f} tasks "
        f"per second of its busy time has about 1 in {defaults.TASK_SAMPLE_EVERY} recorded and the rest counted by coroutine",
    )
    p.add_argument(
        "--main-signal", action="store_true",
        help="sample the main thread from a SIGALRM timer, so its short CPU bursts are seen where they run, not at "
        "its next wait (off by default: SIGALRM is the program's; one that uses it is left alone, with a notice)",
    )
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop profiling after this many seconds of it; the program runs on (a launched one to its end; an attached one is detached)")
    if launches:
        p.add_argument("--python", default=None, metavar="PATH", help="interpreter for the target (default: the one after --, or this one)")


def _add_history_options(p: argparse.ArgumentParser) -> None:
    """Every recording joins its program's run history (`pyrometer history`) unless told otherwise."""
    p.add_argument("--no-history", dest="history", action="store_false", help="do not add this run to the run history")
    p.add_argument("--name", default=None, metavar="NAME", help="the program's name in the run history (default: the script's path or -m MODULE)")


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 200 or int(h) < 150:
        raise argparse.ArgumentTypeError(f"not a size WxH of at least 200x150 (e.g. 1366x768): {text!r}")
    return int(w), int(h)


def _add_screenshot_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--screenshot", default=None, metavar="PNG", help="save the main window to PNG once loaded, then exit")
    p.add_argument("--screenshot-after", type=float, default=None, metavar="SECONDS", help="wait this long in a live session before the screenshot")
    p.add_argument("--screenshot-size", type=_size, default=None, metavar="WxH", help="render the window at this size (default 1440x900), e.g. 1366x768")
    p.add_argument("--screenshot-pane", default=None, metavar="PANE", help="capture only this pane, by id or title (e.g. flame_graph or 'Flame graph'), shown alone in the window")


_FORMATS_EPILOG = "\0formats"  # replaced by the registry's writers, only when help is printed


class _ConvertHelp(argparse.RawDescriptionHelpFormatter):
    """`convert --help` lists the names `--to` accepts, read from the format registry when
    the help is shown (building the parser for any command imports no format module)."""

    def add_text(self, text: str | None) -> None:
        if text == _FORMATS_EPILOG:
            from pyrometer.core.formats.registry import exporters

            rows = [f"  {ex.name:<16} {ex.description} ({', '.join(ex.extensions)})" for ex in exporters()]
            text = "formats for --to:\n" + "\n".join(rows)
        super().add_text(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyrometer",
        description="Profile Python programs: stack samples, event-loop lag, blocking stacks and asyncio tasks, live and replayable.",
    )
    parser.add_argument("--version", action="version", version=f"pyrometer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("stats", help="print the top functions of a profile (any supported format)")
    p.add_argument("file", help="a recording or a profile of another tool")
    p.add_argument("--top", type=int, default=20, metavar="N", help="functions to print (default 20; 0 = all)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--thread", default=None, metavar="NAME_OR_ID", help="only this thread, by name or id (stats lists them)")
    p.add_argument("--from", dest="t_from", type=float, default=None, metavar="SECONDS", help="only the part of the run from this time (seconds since the start)")
    p.add_argument("--to", dest="t_to", type=float, default=None, metavar="SECONDS", help="only the part of the run up to this time (seconds since the start)")
    p.add_argument("--sample-type", default=None, metavar="NAME", help="which value of a pprof sample to show (e.g. cpu, alloc_space; default wall or cpu time)")
    p.add_argument("--by-task", action="store_true", help="also the time of each asyncio task, rolled up along its task chain: under the task seen awaiting it in a stall, else its creator; a task seen awaited by several under <several awaiters>")

    p = sub.add_parser("convert", help="convert a profile to another format", epilog=_FORMATS_EPILOG, formatter_class=_ConvertHelp)
    p.add_argument("input", help="the profile to read (any supported format)")
    p.add_argument("output", help="the file to write; its extension chooses the format unless --to")
    p.add_argument("--to", dest="fmt", default=None, metavar="FORMAT", help="output format, one of the names below (default: from OUTPUT's extension)")
    p.add_argument("--sample-type", default=None, metavar="NAME", help="which value of a pprof sample to convert (default wall or cpu time)")

    p = sub.add_parser("diff", help="compare two profiles per function")
    p.add_argument("base", help="the profile before (any supported format)")
    p.add_argument("new", help="the profile after")
    p.add_argument("--top", type=int, default=20, metavar="N", help="functions to print per list (default 20; 0 = all)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")

    p = sub.add_parser("report", help="write a self-contained HTML report")
    p.add_argument("file", help="a recording or a profile of another tool")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.html", help="the HTML page to write (.html or .htm)")
    p.add_argument("--from", dest="t_from", type=float, default=None, metavar="SECONDS", help="report only this part of the run")
    p.add_argument("--to", dest="t_to", type=float, default=None, metavar="SECONDS", help="report only up to this time")

    p = sub.add_parser("record", help="profile a program (or --pid) headless into a .pyro recording")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pyro", help="the recording to write (.pyro; an existing file must be a recording)")
    p.add_argument("--pid", type=int, default=None, help="attach to a running process instead of launching")
    _add_collect_options(p)
    _add_history_options(p)
    p.add_argument("target", nargs=argparse.REMAINDER, help="-- SCRIPT [ARGS] | -- -m MODULE [ARGS] | -- python SCRIPT [ARGS]")

    p = sub.add_parser("open", help="open profiles or recordings in the window")
    p.add_argument("files", nargs="*", help="profiles or recordings, each in a tab (none: the start page, what the desktop menu entry runs)")
    p.add_argument("--baseline", default=None, metavar="BASE", help="compare with this profile (the 'before'): the Compare pane and the flame graph's colours")
    _add_screenshot_options(p)
    p.add_argument("--screenshot-first-frame", action="store_true",
                   help="with --screenshot: a huge recording's first frame (drawn from its index), not its full detail")

    p = sub.add_parser("run", help="launch a program and profile it live in the window")
    _add_collect_options(p)
    _add_history_options(p)
    _add_screenshot_options(p)
    p.add_argument("--save", default=None, metavar="OUT.pyro", help="also keep the recording here")
    p.add_argument("target", nargs=argparse.REMAINDER, help="-- SCRIPT [ARGS] | -- -m MODULE [ARGS] | -- python SCRIPT [ARGS]")

    p = sub.add_parser("attach", help="attach to a running Python process and profile it live")
    p.add_argument("pid", type=int, help="the process id of a running Python program")
    _add_collect_options(p, launches=False)
    _add_history_options(p)
    _add_screenshot_options(p)

    p = sub.add_parser("demo", help="profile the bundled demo program live")
    _add_history_options(p)
    _add_screenshot_options(p)
    p.add_argument("--duration", type=float, default=None, metavar="S", help="run the demo for this long (default: until closed)")
    p = sub.add_parser("history", help="runs of a program over time: averages, bottlenecks, regressions")
    p.add_argument("program", nargs="?", default=None, help="none: list the programs; else a script path, -m MODULE or --name given when recording")
    p.add_argument("-m", dest="module", default=None, metavar="MODULE", help="the program recorded as -m MODULE (same as PROGRAM '-m MODULE')")
    p.add_argument("--last", type=int, default=20, metavar="N", help="the last N runs (default 20)")
    p.add_argument("--top", type=int, default=20, metavar="N", help="functions to print (0 = all; text output only)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object")
    fmt.add_argument("--csv", action="store_true", help="the function table as CSV")
    p.add_argument("--import", dest="import_files", nargs="+", default=None, metavar="FILE", help="add existing profiles (any readable format) as runs of --name")
    p.add_argument("--name", default=None, metavar="NAME", help="the program --import adds runs to")
    p.add_argument("--forget", nargs="*", type=int, default=None, metavar="RUN_ID", help="remove these runs (none given: all runs of PROGRAM)")
    return parser


def _resolve(spec: str) -> Callable[[argparse.Namespace], int]:
    module, _, func = spec.partition(":")
    handler: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), func)
    return handler


def strip_separator(target: list[str]) -> list[str]:
    """argparse.REMAINDER keeps a leading `--`; the target command line is what follows."""
    return target[1:] if target and target[0] == "--" else target


def _positive(args: argparse.Namespace, attr: str, option: str, unit: str) -> str | None:
    value = getattr(args, attr, None)
    if value is None or (math.isfinite(value) and value > 0):
        return None
    return f"{option} must be a positive number of {unit}, not {value:g}"


def option_problem(args: argparse.Namespace) -> str | None:
    """Why the collect options cannot be honoured (None: fine), checked before anything launches:
    `--rate 0` used to record 0 samples and exit 0."""
    for attr, option, unit in (
        ("rate", "--rate", "samples per second (Hz)"),
        ("duration", "--duration", "seconds"),
        ("loop_interval", "--loop-interval", "milliseconds"),
        ("block_threshold", "--block-threshold", "milliseconds"),
    ):
        problem = _positive(args, attr, option, unit)
        if problem is not None:
            return problem
    shot = getattr(args, "screenshot", None)
    if shot is not None and not shot.lower().endswith(".png"):
        return f"{shot}: --screenshot writes a PNG image; give a name ending in .png"
    if getattr(args, "clock_given", False) and getattr(args, "mode", None) != "trace":
        return f"--clock {args.clock} chooses yappi's clock in --mode trace; stack sampling has no clock to choose (add --mode trace or drop --clock)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if hasattr(args, "target"):
        args.target = strip_separator(args.target)
    problem = option_problem(args)
    if problem is not None:
        print(f"pyrometer: {problem}", file=sys.stderr)
        return 2
    command = args.command or ""
    try:
        return int(_resolve(HANDLERS[command])(args) or 0)
    except KeyboardInterrupt:
        return 130
