"""`stats` keeps its columns under their headings when amounts are wide.

Callgrind files count instructions in billions (gprof2dot's xapian sample: 1,958,907,374 Ir
self, 33,913,912 calls): the fixed 10-wide columns overflowed and every row after the first
wide value was shifted off its heading.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runs import run_cli

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def _table(stdout: str) -> tuple[str, list[str]]:
    lines = stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.lstrip().startswith("self") and "function" in line)
    rows = []
    for line in lines[head + 1 :]:
        if not line.strip():
            break
        rows.append(line)
    return lines[head], rows


def _assert_aligned(head: str, rows: list[str]) -> None:
    # right-aligned columns: each value ends where its heading ends
    ends = [head.index(name) + len(name) for name in ("self", "self%", "total", "total%", "calls")]
    for row in rows:
        fields = row.split()
        cursor = 0
        for end, field in zip(ends, fields, strict=False):
            at = row.index(field, cursor) + len(field)
            assert at == end, f"{field!r} ends at {at}, its heading at {end}:\n{head}\n{row}"
            cursor = at


def test_wide_counts_stay_under_their_headings(tmp_path: Path) -> None:
    path = tmp_path / "perf.collapsed"  # flamegraph.pl's input: counts as perf sums them
    # counts a float32 holds exactly (sample weights are float32 columns)
    path.write_text("main;parse 1958907392\nmain;render 215529712\nmain 71122392\n")
    proc = run_cli("stats", path)
    assert proc.returncode == 0, proc.stderr
    head, rows = _table(proc.stdout)
    assert any("1,958,907,392" in r for r in rows)
    _assert_aligned(head, rows)


def test_callgrind_with_billions_of_instructions_and_calls() -> None:
    path = CORPUS / "callgrind" / "gprof2dot-xapian" / "xapian.callgrind"
    if not path.exists():
        pytest.skip("the shared corpus is not on this machine")
    proc = run_cli("stats", path, "--top", "8")
    assert proc.returncode == 0, proc.stderr
    head, rows = _table(proc.stdout)
    assert "33,913,912" in rows[0]  # next_in_chunk's calls, as the file's calls= lines sum
    _assert_aligned(head, rows)
