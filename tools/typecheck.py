"""Type-check the installed layout (`pyrometer.core`, `pyrometer.app`) with mypy.

The repository keeps core/ and app/ at the top level and maps them under
`pyrometer.` at install time; mypy cannot follow setuptools' editable finder, so
this builds a throw-away tree of symlinks shaped like the installed package and
checks that (`mypy -p pyrometer`). Exit status is mypy's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPED = {"core": "core", "app": "app", "resources": "resources"}


def build_link_farm(dest: Path) -> Path:
    """Create dest/pyrometer shaped like the installed package; returns dest."""
    pkg = dest / "pyrometer"
    pkg.mkdir(parents=True)
    for src in (ROOT / "pyrometer").glob("*.py"):
        (pkg / src.name).symlink_to(src)
    for name, folder in MAPPED.items():
        (pkg / name).symlink_to(ROOT / folder, target_is_directory=True)
    return dest


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="pyrometer-mypy-") as tmp:
        farm = build_link_farm(Path(tmp))
        env = dict(os.environ, MYPYPATH=str(farm))
        cmd = [
            sys.executable, "-m", "mypy",
            "--config-file", str(ROOT / "pyproject.toml"),
            "--cache-dir", str(ROOT / ".mypy_cache"),
            "-p", "pyrometer",
        ]
        return subprocess.call(cmd, cwd=farm, env=env)


if __name__ == "__main__":
    sys.exit(main())
