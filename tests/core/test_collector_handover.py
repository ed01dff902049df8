"""Root attaching to another user's process hands the session directory over without link races.

Issue 11 item 8: `give_to` and attach.py's chown followed symlinks in a
directory the target's user already owned, and the cleanup listed and
unlinked through the directory's name: the user could swap in links and have
root chown or delete files elsewhere. Everything now goes through a descriptor.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyrometer.core.capture.collector import Collector

NOBODY = 65534

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@ROOT_ONLY
def test_give_to_hands_over_the_entries_then_the_directory(tmp_path: Path) -> None:
    with Collector(tmp_path / "out.pyro") as coll:
        assert coll.directory is not None
        (coll.directory / "attach.py").write_text("pass\n")
        coll.give_to(NOBODY, NOBODY)
        for path in (coll.directory, coll.directory / "attach.py", Path(coll.address[5:])):
            assert os.lstat(path).st_uid == NOBODY, path


@ROOT_ONLY
def test_a_link_planted_in_the_directory_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("root's\n")
    with Collector(tmp_path / "out.pyro") as coll:
        assert coll.directory is not None
        os.symlink(victim, coll.directory / "attach.py")  # swapped in before the chown
        coll.give_to(NOBODY, NOBODY)
        assert os.stat(victim).st_uid == 0
        assert os.lstat(coll.directory / "attach.py").st_uid == NOBODY


@ROOT_ONLY
def test_cleanup_never_goes_through_a_swapped_directory(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("keep me\n")
    (elsewhere / "agent.sock").write_text("keep me too\n")
    coll = Collector(tmp_path / "out.pyro").start()
    assert coll.directory is not None
    directory = coll.directory
    coll.give_to(NOBODY, NOBODY)
    moved = tmp_path / "moved"
    os.rename(directory, moved)  # what the directory's new owner may do...
    os.symlink(elsewhere, directory)  # ...and put a link in its place
    coll.close()
    assert sorted(os.listdir(elsewhere)) == ["agent.sock", "precious"]
    assert os.path.islink(directory)
    assert os.listdir(moved) == []  # what we made was removed, through the descriptor


def test_folders_left_by_a_killed_recorder_are_removed_by_the_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    child = subprocess.run(  # a recorder that is killed: its folder (and socket) stay behind
        [sys.executable, "-c", "import os; from pyrometer.core.capture.collector import Collector\n"
         "c = Collector(None).start(); print(c.directory, flush=True); os.kill(os.getpid(), 9)"],
        capture_output=True, text=True, timeout=30, env=dict(os.environ, TMPDIR=str(tmp_path)))
    stale = Path(child.stdout.strip())
    assert stale.is_dir() and os.listdir(stale) in ([], ["agent.sock"])  # (long paths use TCP)
    alive = tmp_path / f"pyrometer-{os.getppid()}-{'a' * 12}"  # a live process's folder is kept
    alive.mkdir()
    other = tmp_path / "pyrometer-notes"  # not ours by name
    other.mkdir()
    with Collector(tmp_path / "out.pyro") as coll:
        assert coll.directory is not None and coll.directory.parent == tmp_path
        assert not stale.exists()
        assert alive.is_dir() and other.is_dir()
