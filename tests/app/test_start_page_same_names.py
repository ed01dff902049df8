"""The start page tells apart programs with one file name in two directories.

Two benchmarks named task_heavy.py in two directories were listed as two identical
"task_heavy.py — 3 runs ..." rows (only their tooltips differed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pyrometer.app.start_page import StartPage


def test_programs_with_one_file_name_show_their_directories(qtbot, tmp_path: Path) -> None:
    profile = tmp_path / "run.collapsed"
    profile.write_text("main;work 30\nmain;wait 10\n")
    env = dict(os.environ)
    for program in ("/srv/a/task_heavy.py", "/srv/b/task_heavy.py", "/srv/b/other.py"):
        res = subprocess.run(
            [sys.executable, "-m", "pyrometer", "history", "--import", str(profile), "--name", program],
            capture_output=True, text=True, env=env, timeout=60,
        )
        assert res.returncode == 0, res.stderr
    page = StartPage()
    qtbot.addWidget(page)
    texts = [page.programs.item(i).text() for i in range(page.programs.count())]
    names = [text.split("  —  ")[0] for text in texts]
    assert sorted(names) == ["other.py", "task_heavy.py (/srv/a)", "task_heavy.py (/srv/b)"], texts
