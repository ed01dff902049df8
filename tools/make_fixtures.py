"""Regenerate tests/fixtures/formats/: profile files written by the real tools.

The format tests read these files instead of running py-spy, pyinstrument,
VizTracer, valgrind (and, for the fuzz seeds, cProfile and yappi) on every run (slow, needs ptrace, and each run differs).
Each test checks our reader against what the file itself says, so any run of
the tools makes valid fixtures. Run after upgrading a tool or changing
script.py, then commit the files:

    .venv/bin/python tools/make_fixtures.py            # everything
    .venv/bin/python tools/make_fixtures.py pyspy      # only some
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "formats"
BIN = Path(sys.executable).parent
RATE = "250"  # py-spy samples per second: enough samples, small files


def _tool(name: str) -> str:
    exe = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if exe is None:
        sys.exit(f"make_fixtures: {name} is not installed (pip install -e '.[test]', apt-get install valgrind)")
    return exe


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        sys.exit(f"make_fixtures: {' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return proc


def _keep(cmd: list[str], work: Path, out: Path, name: str, functions: tuple[str, ...]) -> None:
    """Run cmd until its output names every function of script.py it should, then keep it as `name`.

    Sampling tools are not deterministic (pyinstrument 5.1 now and then writes a
    speedscope file of the interpreter's start-up only): the fixtures are fixed
    so that the tests are.
    """
    for _ in range(5):
        out.unlink(missing_ok=True)
        _run(cmd, work)
        text = out.read_text()
        if all(re.search(rf"\b{f}\b", text) for f in functions):
            shutil.copyfile(out, OUT / name)
            return
    sys.exit(f"make_fixtures: {name}: five runs of {cmd} never showed all of {functions}")


ALL = ("leaf_busy", "middle", "sleeper", "worker", "main")


def _pyspy(work: Path, fmt: str, name: str, *flags: str, functions: tuple[str, ...] = ALL) -> None:
    out = work / name
    cmd = [_tool("py-spy"), "record", "-r", RATE, "--format", fmt, "-o", str(out), *flags, "--", sys.executable, "script.py"]
    _keep(cmd, work, out, name, functions)


def pyspy(work: Path) -> None:
    """py-spy: speedscope, chrometrace and raw (collapsed) output, the last also per thread and idle."""
    busy = ("leaf_busy", "middle", "worker", "main")  # without --idle a sleeping thread is not sampled
    _pyspy(work, "speedscope", "pyspy.speedscope.json", functions=busy)
    _pyspy(work, "chrometrace", "pyspy.chrometrace.json", functions=busy)
    _pyspy(work, "raw", "pyspy.collapsed.txt", functions=busy)
    _pyspy(work, "raw", "pyspy-threads.collapsed.txt", "--threads", "--subprocesses", "--idle")


def pyspy_idle(work: Path) -> None:
    """py-spy with and without --idle over waits_script.py (spin 0.4 s, then wait 0.4 s): what the clock changes."""
    shutil.copyfile(OUT / "waits_script.py", work / "waits_script.py")
    for name, flags, functions in (
        ("pyspy-waits.speedscope.json", (), ("spin",)),
        ("pyspy-waits-idle.speedscope.json", ("--idle",), ("spin", "wait_for_event")),
    ):
        out = work / name
        cmd = [_tool("py-spy"), "record", "-r", "100", "--format", "speedscope", "-o", str(out), *flags, "--",
               sys.executable, "waits_script.py"]
        _keep(cmd, work, out, name, functions)


def pyinstrument(work: Path) -> None:
    """pyinstrument's speedscope renderer (evented profile of the main thread)."""
    cmd = [sys.executable, "-m", "pyinstrument", "-r", "speedscope", "-o", "out.json", "script.py"]
    _keep(cmd, work, work / "out.json", "pyinstrument.speedscope.json", ("leaf_busy", "middle", "sleeper", "main"))


def viztracer(work: Path) -> None:
    """VizTracer's Chrome trace (complete X events, thread names)."""
    cmd = [sys.executable, "-m", "viztracer", "-o", "out.json", "script.py"]
    _keep(cmd, work, work / "out.json", "viztracer.trace.json", ALL)


def viztracer_calls(work: Path) -> None:
    """VizTracer's trace of viztracer_calls_script.py, whose call counts are known (recursion, two threads)."""
    shutil.copyfile(OUT / "viztracer_calls_script.py", work / "viztracer_calls_script.py")
    cmd = [sys.executable, "-m", "viztracer", "--quiet", "-o", "calls.json", "viztracer_calls_script.py"]
    _keep(cmd, work, work / "calls.json", "viztracer.calls.json", ("leaf", "fa", "fb", "rec", "worker"))


# plain; and with instruction positions (hex, relative), jump lines and nine cache events
VALGRIND = {"plain": [], "instr-jumps-cache": ["--dump-instr=yes", "--collect-jumps=yes", "--cache-sim=yes"]}


def valgrind(work: Path) -> None:
    """callgrind on /bin/true, gzipped; beside it valgrind's own count of instructions (`I refs`)."""
    for name, flags in VALGRIND.items():
        out = work / f"callgrind.out.{name}"
        proc = _run([_tool("valgrind"), "--tool=callgrind", *flags, f"--callgrind-out-file={out}", "/bin/true"], work)
        refs = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
        if refs is None:
            sys.exit(f"make_fixtures: no 'I refs' in valgrind's output:\n{proc.stderr[-2000:]}")
        (OUT / f"callgrind.out.{name}.gz").write_bytes(gzip.compress(out.read_bytes(), mtime=0))
        (OUT / f"callgrind.out.{name}.irefs").write_text(refs.group(1).replace(",", "") + "\n")


def cprofile_yappi(work: Path) -> None:
    """cProfile's pstats and yappi's pstat and callgrind files (mutual recursion, self-recursion)."""
    shutil.copyfile(OUT / "deterministic_workload.py", work / "deterministic_workload.py")
    _run([sys.executable, "deterministic_workload.py", str(work)], work)
    for name in ("run.prof", "run.pstat", "run.callgrind"):
        shutil.copyfile(work / name, OUT / name)


STEPS: dict[str, Callable[[Path], None]] = {
    "pyspy": pyspy, "pyspy_idle": pyspy_idle, "pyinstrument": pyinstrument, "viztracer": viztracer, "viztracer_calls": viztracer_calls, "valgrind": valgrind,
    "cprofile_yappi": cprofile_yappi,
}  # fmt: skip


def main(argv: list[str]) -> int:
    names = argv or list(STEPS)
    unknown = set(names) - set(STEPS)
    if unknown:
        sys.exit(f"make_fixtures: unknown step(s) {sorted(unknown)}; choose from {list(STEPS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        # one fixed folder keeps the paths recorded in the files the same from run to run
        work = Path(tempfile.gettempdir()) / "pyrometer-fixture"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            shutil.copyfile(OUT / "script.py", work / "script.py")
            STEPS[name](work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"make_fixtures: {name} done")
    total = sum(f.stat().st_size for f in OUT.iterdir())
    print(f"make_fixtures: {OUT} holds {total / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
