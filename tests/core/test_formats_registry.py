"""Registry-level behaviour that every importer relies on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_runs import run_cli

from pyrometer.core.formats.registry import FormatError, load_profile


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "profile.json"
    os.mkfifo(fifo)
    with pytest.raises(FormatError, match="not a regular file"):
        load_profile(fifo)


def test_collapsed_stacks_have_no_duration(tmp_path: Path) -> None:
    path = tmp_path / "stacks.collapsed"
    path.write_text("main;work;leaf 30\nmain;work 10\n")
    out = run_cli("stats", path, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["unit"] == "samples" and data["duration_s"] is None
    assert data["samples"] == 40
    text = run_cli("stats", path)
    assert text.returncode == 0, text.stderr
    assert " s," not in text.stdout.splitlines()[0]
