"""`pyrometer.profile()` blocks join the run history (history=False opts out)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

import pyrometer
from pyrometer.core.history.store import HistoryStore


def spin_in_block(seconds: float) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        pass
    return time.perf_counter() - t0


def test_a_profile_block_adds_a_run_with_what_it_measured(tmp_path: Path) -> None:
    out = tmp_path / "block.pyro"
    with pyrometer.profile(out, name="block"):
        truth = spin_in_block(0.4)
    with pyrometer.profile(tmp_path / "quiet.pyro", history=False):
        spin_in_block(0.05)
    with HistoryStore() as store:
        keys = store.program_keys()
        (run,) = store.runs("block")
    assert keys == ["block"]  # the history=False block added nothing
    assert run.path == str(out.resolve()) and run.exit_status is None and run.samples
    spin = next(f for f in run.functions if f.name == "spin_in_block")
    assert spin.self == pytest.approx(truth, rel=0.25)


def test_the_default_name_is_this_program() -> None:
    from pyrometer.core.history.runs import program_key_here

    key = program_key_here()
    if sys.argv[0] in ("", "-c"):  # pytest-xdist's workers run as `python -c`
        assert key == "-c"
    else:
        assert key.startswith("-m ") or Path(key).is_absolute()
