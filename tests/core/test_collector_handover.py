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

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


def test_give_to_hands_over_the_entries_then_the_directory(tmp_path: Path) -> None:
    with Collector(tmp_path / "out.pyro") as coll:
        assert coll.directory is not None
        (coll.directory / "attach.py").write_text("pass\n")
        coll.give_to(NOBODY, NOBODY)
        for path in (coll.directory, coll.directory / "attach.py", Path(coll.address[5:])):
            assert os.lstat(path).st_uid == NOBODY, path


def test_a_link_planted_in_the_directory_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("root's\n")
    with Collector(tmp_path / "out.pyro") as coll:
        assert coll.directory is not None
        os.symlink(victim, coll.directory / "attach.py")  # swapped in before the chown
        coll.give_to(NOBODY, NOBODY)
        assert os.stat(victim).st_uid == 0
        assert os.lstat(coll.directory / "attach.py").st_uid == NOBODY


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
