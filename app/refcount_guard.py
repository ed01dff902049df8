"""Guard against PySide6 reference-count bugs that can abort the app on Python < 3.12.

PySide6 6.12.0 (not 6.11.3) drops references to `True`/`False` when they travel through a
`Signal(object)` (pyqtgraph emits `[True, False]` masks on every view-range
change, so a live flame graph loses hundreds per second), and somewhere also
to `None`. On Python 3.12+ these singletons are immortal and nothing happens;
on 3.11 the count reaches zero and CPython aborts with "Fatal Python error:
bool_dealloc" / "none_dealloc" (seen in a live session and at interpreter
exit). They are static objects that are never freed, so giving them a huge
reference count is harmless and makes the bug unreachable, whichever PySide6 the user has.
"""

from __future__ import annotations

import ctypes
import sys

PAD = 1 << 40


def install() -> bool:
    """Pad the reference counts of None, True and False once; True if it was needed and done."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if getattr(sys, "_pyrometer_bool_pad", False):
        return False
    for obj in (None, True, False):
        cell = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field of PyObject
        cell.value += PAD
    sys._pyrometer_bool_pad = True  # type: ignore[attr-defined]
    return True
