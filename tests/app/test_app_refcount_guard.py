"""The refcount guard keeps PySide6's Signal(object) bool bug from aborting the app (Python < 3.12)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    {guard}
    from PySide6.QtCore import QCoreApplication, QObject, Signal
    app = QCoreApplication([])
    class S(QObject):
        sig = Signal(object)
    s = S()
    s.sig.connect(lambda v: None)
    for _ in range(20000):
        s.sig.emit(True)
        s.sig.emit(False)
        s.sig.emit(None)
        s.sig.emit([True, False])
    print("survived")
    """
)


def test_emitting_bools_through_signal_object_does_not_abort_with_the_guard():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(guard="import pyrometer.app")],
        capture_output=True, text=True, timeout=60, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "survived" in out.stdout


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None/True/False are immortal on Python 3.12+")
def test_the_bug_is_still_there_without_the_guard():
    """When this starts passing (exit 0), PySide6 is fixed and app/refcount_guard.py can go."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(guard="")],
        capture_output=True, text=True, timeout=60, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode != 0 and "dealloc" in out.stderr
