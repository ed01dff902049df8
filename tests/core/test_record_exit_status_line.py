"""`record` says when the program failed: its status is ours, and a traceback may be screens above.

`record -- job.py` of a program ending with sys.exit(3) exited 3 and said only
"pyrometer: recorded 17 samples ... to e3.pyro", as after a clean run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _record(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "job.py"
    script.write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "--no-history", "-o", str(tmp_path / "job.pyro"), "--", str(script)],
        capture_output=True, text=True, timeout=60,
    )


def test_a_failing_program_is_named_as_such(tmp_path: Path) -> None:
    res = _record(tmp_path, "import sys\nsum(range(100000))\nsys.exit(3)\n")
    assert res.returncode == 3, res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines[-2].startswith("pyrometer: recorded "), lines
    assert lines[-1] == "pyrometer: the program exited with status 3", lines


def test_a_clean_run_says_nothing_more(tmp_path: Path) -> None:
    res = _record(tmp_path, "sum(range(100000))\n")
    assert res.returncode == 0, res.stderr
    assert "exited with status" not in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("pyrometer: recorded "), res.stderr
