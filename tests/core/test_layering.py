"""The layering rules of DESIGN.md, checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _core_modules() -> list[str]:
    mods = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        rel = path.relative_to(ROOT / "core").with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        mods.append(".".join(["pyrometer", "core", *parts]))
    return mods


def _loaded_after(code: str, *flags: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, *flags, "-c", probe], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_core_never_imports_qt() -> None:
    modules = _core_modules()
    assert len(modules) > 5
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    loaded = _loaded_after(code)
    assert not loaded & {"PySide6", "pyqtgraph", "shiboken6"}


def test_agent_imports_only_stdlib_under_isolated_mode() -> None:
    agent_modules = [m for m in _core_modules() if m.startswith("pyrometer.core.agent")]
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in agent_modules)
    loaded = _loaded_after(code, "-I")
    assert not loaded & {"numpy", "PySide6", "pyqtgraph", "shiboken6", "yappi", "orjson"}


def test_cli_headless_commands_do_not_import_qt() -> None:
    loaded = _loaded_after("import pyrometer.cli as c; c.build_parser(); import pyrometer.core.cli.commands")
    assert not loaded & {"PySide6", "pyqtgraph"}


def test_record_command_does_not_import_numpy() -> None:
    """`pyrometer record` only copies frames: numpy would add ~70 ms to every launch."""
    loaded = _loaded_after("import pyrometer.cli, pyrometer.core.cli.record_command")
    assert "numpy" not in loaded
