"""The refcount guard keeps PySide6 6.12's Signal(object) bool bug from aborting the app (Python < 3.12)."""

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


PAD_CHECK = textwrap.dedent(
    """
    import sys
    before = [sys.getrefcount(o) for o in (None, True, False)]
    import pyrometer.app
    from pyrometer.app import refcount_guard
    after = [sys.getrefcount(o) for o in (None, True, False)]
    print(min(a - b for a, b in zip(after, before)) >= refcount_guard.PAD - 1000)
    print(refcount_guard.install())  # a second install does nothing
    """
)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None/True/False are immortal on Python 3.12+: nothing to pad")
def test_importing_the_app_pads_the_singletons_once():
    out = subprocess.run([sys.executable, "-c", PAD_CHECK], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]
