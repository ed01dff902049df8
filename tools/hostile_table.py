"""Run `stats`, `convert` and `report` over the hostile files and print what happened.

Usage: ``python tools/hostile_table.py DIR [PYTHON]`` where DIR was written by
tools/make_hostile.py and PYTHON is the interpreter whose `-m pyrometer` is
judged (default: this one). Each run is capped at 8 GB of address space and
TIMEOUT_S seconds. An outcome is one of: ok (did what MANIFEST expects),
clean-error (one line, exit 2, but the file should have opened), traceback
(or "internal error"), hang (timeout), oom, data-lost (a sample count short of
what the file holds), escape-leak (a control character reached the terminal),
slow (over SLOW_S), silent (a damaged file loaded without a warning),
wrong-reason (refused, but not for the reason the file was built to show).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from make_hostile import MANIFEST, REASONS

TIMEOUT_S = 20.0
SLOW_S = 5.0
MEMORY_CAP = 8 << 30
CONTROL = {chr(c) for c in range(32) if chr(c) not in "\n\t"} | {"\x7f"}
SAMPLES = {"deep.pyro": 30, "threads32k.pyro": 32000, "sparse2g.pyro": 50, "bitflip_first_frame.pyro": 197,
           "absurd.pyro": 1, "escapes.pyro": 20}


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_one(python: str, command: str, path: Path, scratch: Path) -> tuple[str, float, str]:
    args = {"stats": ["stats", "--json", str(path)] if path.name in SAMPLES else ["stats", str(path)],
            "convert": ["convert", str(path), str(scratch / "out.speedscope.json")],
            "report": ["report", str(path), "-o", str(scratch / "out.html")]}[command]
    t0 = time.monotonic()
    try:
        proc = subprocess.run([python, "-m", "pyrometer", *args], capture_output=True, timeout=TIMEOUT_S,
                              preexec_fn=_cap, cwd=scratch)
    except subprocess.TimeoutExpired:
        return "hang", time.monotonic() - t0, ""
    took = time.monotonic() - t0
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    line = err.strip().splitlines()[-1][:110] if err.strip() else ""
    if "Traceback" in err or "internal error" in err:
        return "traceback", took, line
    if "out of memory" in err or "MemoryError" in err or proc.returncode < 0:
        return "oom", took, line
    text = out if command == "stats" and path.name not in SAMPLES else ""
    if any(ch in CONTROL for ch in err + text):
        return "escape-leak", took, line
    expect = MANIFEST[path.name]
    if expect == "refuse":
        ok = proc.returncode == 2 and len(err.strip().splitlines()) == 1
        if ok and REASONS.get(path.name, "") not in err.replace(str(path), ""):
            return "wrong-reason", took, line
        return ("ok" if ok else f"exit-{proc.returncode}"), took, line
    if proc.returncode != 0:
        return ("clean-error" if proc.returncode == 2 else f"exit-{proc.returncode}"), took, line
    if command == "stats" and path.name in SAMPLES:
        got = json.loads(out).get("samples", 0)
        if got < SAMPLES[path.name]:
            return "data-lost", took, f"{got} of {SAMPLES[path.name]} samples; {line}"
    if expect == "warn" and "warning" not in err:
        return "silent", took, line
    if took > SLOW_S:
        return "slow", took, line
    return "ok", took, line


def main() -> None:
    folder = Path(sys.argv[1])
    python = sys.argv[2] if len(sys.argv) > 2 else sys.executable
    scratch = folder / "_scratch"
    scratch.mkdir(exist_ok=True)
    tally: Counter[str] = Counter()
    for name in MANIFEST:
        for command in ("stats", "convert", "report"):
            outcome, took, line = run_one(python, command, folder / name, scratch)
            tally[outcome] += 1
            print(f"{outcome:12} {took:6.1f}s  {command:8} {name:32} {line}", flush=True)
    print("tried", sum(tally.values()), dict(tally))


if __name__ == "__main__":
    main()
