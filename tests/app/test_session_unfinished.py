"""The Session pane of a recording without its end mark says so (it said "loaded", as for a finished one).

Such a file is a recording opened while `record` still writes it, or one whose recorder was killed: a
user replaying it should know the session went on past what it shows.
"""

from __future__ import annotations

from pathlib import Path

from cli_runs import run_cli_process

from pyrometer.app.document import Document
from pyrometer.app.panes.session import session_facts
from pyrometer.core.formats.registry import load_profile

TARGET = "import time\nfor _ in range(40):\n    sum(range(20000)); time.sleep(0.005)\n"


def record(tmp_path: Path) -> Path:
    script = tmp_path / "work.py"
    script.write_text(TARGET)
    out = tmp_path / "run.pyro"
    done = run_cli_process("record", "--no-history", "-o", out, "--", script)
    assert done.returncode == 0, done.stderr
    return out


def test_an_unfinished_recording_says_it_has_no_end(qapp, tmp_path) -> None:
    path = record(tmp_path)
    finished = load_profile(path)
    assert finished.end is not None
    assert session_facts(Document(finished, path))["State"].startswith("the program exited")
    data = path.read_bytes()
    cut = tmp_path / "cut.pyro"
    for share in (0.6, 0.4, 0.25):  # what a reader finds while the recorder still writes (the end mark and index are last)
        cut.write_bytes(data[: int(len(data) * share)])
        unfinished = load_profile(cut)
        if unfinished.end is None:
            break
    assert unfinished.end is None and unfinished.sample_count > 0
    assert session_facts(Document(unfinished, cut))["State"].startswith("no end mark")
