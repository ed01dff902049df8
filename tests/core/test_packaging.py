"""The wheel installs only `pyrometer/`, and every package folder is declared."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAPPING = {"pyrometer": "pyrometer", "core": "pyrometer.core", "app": "pyrometer.app", "resources": "pyrometer.resources"}


def _declared_packages() -> set[str]:
    # A regex, not tomllib: the app supports Python 3.10, which has no tomllib.
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^packages = \[(.*?)\]", text, re.S | re.M)
    assert block is not None
    return set(re.findall(r'"([\w.]+)"', block.group(1)))


def test_every_package_folder_is_declared() -> None:
    found = set()
    for top, name in MAPPING.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    assert found == _declared_packages()


@pytest.mark.slow
def test_wheel_installs_nothing_but_pyrometer(tmp_path: Path) -> None:
    # Build isolation fetches setuptools from the package registry, as a fresh machine would.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("pyrometer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"pyrometer", next(t for t in tops if t.endswith(".dist-info"))}
    assert "pyrometer/core/agent/wire.py" in names
    assert "pyrometer/core/model.py" in names
    assert not any(n.startswith(("core/", "app/")) for n in names)


def test_version_from_both_entry_points() -> None:
    for cmd in ([sys.executable, "-m", "pyrometer", "--version"], [str(Path(sys.executable).parent / "pyrometer"), "--version"]):
        out = subprocess.run(cmd, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("pyrometer ")
