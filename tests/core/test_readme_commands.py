"""`.ci/run` runs exactly the README's two commands, so a fresh clone is tested the way a user starts."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```\n(.*?)```", text, flags=re.S)][:2]


def test_first_command_installs_only_what_running_needs() -> None:
    first = _readme_commands()[0]
    assert "[test]" not in first, "the first command must not install the test extras"
    assert first.endswith("pyrometer demo")


def test_ci_runs_the_readme_commands() -> None:
    first, second = _readme_commands()
    ci_lines = [
        line.replace(" -q ", " ")
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.startswith(("python3", ".venv"))
    ]
    install = first.removesuffix("&& .venv/bin/pyrometer demo").strip()
    assert ci_lines == [install, second]
