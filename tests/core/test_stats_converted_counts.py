"""`stats` of a .pyro converted from a count profile counts samples, not rows.

`convert pyspy.collapsed out.pyro` then `stats out.pyro` said "12 samples" and
"MainThread 9, thread 16546 3" for py-spy's 140 samples (116 and 24): the recording's
index counts rows, and a collapsed row stands for its count.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_runs import run_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "pyspy-threads.collapsed.txt"


def _truth() -> tuple[int, dict[str, int]]:
    """Samples per thread as py-spy wrote them: `...;thread (TID)...;frames COUNT`."""
    per_thread: dict[str, int] = {}
    for line in FIXTURE.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        tid = re.search(r";thread \((\d+)\)", stack)
        assert tid is not None, line
        per_thread[tid.group(1)] = per_thread.get(tid.group(1), 0) + int(count)
    return sum(per_thread.values()), per_thread


def test_converted_collapsed_recording_counts_its_samples(tmp_path: Path) -> None:
    total, per_thread = _truth()
    assert total == 140  # the file py-spy wrote
    out = tmp_path / "spy.pyro"
    assert run_cli("convert", FIXTURE, out).returncode == 0
    for path in (FIXTURE, out):  # the file itself, then its recording (read through its index)
        proc = run_cli("stats", path, "--json")
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["samples"] == total, (path.name, data["samples"])
        got = {str(t["id"]): t["samples"] for t in data["threads"]}
        assert got == per_thread, (path.name, got)
