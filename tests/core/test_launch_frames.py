"""A launched program's stacks start at its own `<module>`, not at our launcher."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pyrometer.core.formats.recording import read_recording

SCRIPT = """
def spin():
    s = 0
    for i in range(2_000_000):
        s += i
    return s

for _ in range(3):
    spin()
"""


def test_main_thread_stacks_have_no_launcher_frames(tmp_path: Path) -> None:
    script = tmp_path / "user_program.py"
    script.write_text(SCRIPT)
    out = tmp_path / "run.pyro"
    subprocess.run([sys.executable, "-m", "pyrometer", "record", "-o", str(out), "--", str(script)], check=True, capture_output=True)
    profile, _ = read_recording(out)
    roots = set()
    for stack in set(profile.samples["stack"].tolist()):
        if stack < 0:
            continue
        frames = profile.stack_frames(stack)
        root_func = profile.frame_func(frames[0])
        roots.add((profile.func_name[root_func], Path(profile.func_file[root_func]).name))
        names = {profile.func_name[profile.frame_func(f)] for f in frames}
        assert not names & {"_run_target", "run_path", "_run_module_code", "_run_code"}, names
    # Before the user's code runs, runpy reads and compiles it: those few samples
    # are rooted at the interpreter's own (frozen) runpy/importlib frames.
    assert ("<module>", "user_program.py") in roots
    assert all(root == ("<module>", "user_program.py") or root[1].startswith("<frozen") for root in roots), roots
