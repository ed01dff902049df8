"""PyInstaller's entry script for the bundle: the `pyrometer` command, or Python when asked.

`python_mode` comes first so a bundle started as the demo's interpreter
(PYROMETER_AS_PYTHON=1) never imports the CLI or Qt; its code runs right
here, so profiled stacks start with this one `<module>` frame only.
"""

import sys

from pyrometer.core.capture.frozen import python_mode

_python = python_mode()
if _python is not None:
    exec(_python[0], _python[1])
    sys.exit(0)

from pyrometer.__main__ import main  # noqa: E402  (after the interpreter check on purpose)

sys.exit(main())
