"""`pyrometer.profile` records a block of the calling program, as a context manager or a decorator."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

import pyrometer
from pyrometer.core.formats.recording import read_recording


def cm_spin(seconds: float) -> None:
    """Spin for this thread's CPU time: on a starved machine it runs (and is sampled) longer."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _labels(path: Path) -> set[str]:
    profile, _ = read_recording(path)
    return {profile.frame_label(f) for f in range(len(profile.frames))}


def test_context_manager_writes_a_readable_recording(tmp_path: Path) -> None:
    out = tmp_path / "cm.pyro"
    with pyrometer.profile(out, rate=200) as prof:
        worker = threading.Thread(target=cm_spin, args=(0.2,), name="cm-worker")
        worker.start()
        cm_spin(0.3)
        worker.join()
    assert isinstance(prof, pyrometer.profile)
    profile, report = read_recording(out)
    assert report.clean
    assert profile.meta["attached"] is True and profile.meta["rate_hz"] == 200.0
    assert profile.end is not None and profile.end["reason"] == "exit"
    assert profile.sample_count >= 5
    names = {t.name for t in profile.threads.values()}
    assert "cm-worker" in names and not any(n.startswith("pyrometer") for n in names)
    assert any("cm_spin" in lb for lb in _labels(out))
    deadline = time.monotonic() + 2.0
    while any(t.name.startswith("pyrometer") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the agent's threads must end with the block"
        time.sleep(0.01)


def test_decorator_records_each_call_and_passes_results_and_errors(tmp_path: Path) -> None:
    out = tmp_path / "deco.pyro"

    @pyrometer.profile(out)
    def compute(x: int) -> int:
        cm_spin(0.15)
        if x < 0:
            raise ValueError("negative")
        return x * 2

    assert compute(21) == 42
    assert compute.__name__ == "compute"
    first, report = read_recording(out)
    assert report.clean and first.sample_count > 2 and first.end is not None
    assert first.end["exit_status"] is None
    with pytest.raises(ValueError, match="negative"):
        compute(-1)
    second, report = read_recording(out)
    assert report.clean and second.end is not None and second.end["exit_status"] == 1
    assert compute(1) == 2  # reusable after a failure


def test_async_decorator_sees_tasks(tmp_path: Path) -> None:
    out = tmp_path / "async.pyro"

    async def child() -> None:
        await asyncio.sleep(0.05)

    @pyrometer.profile(out)
    async def main() -> int:
        await asyncio.gather(
            asyncio.create_task(child(), name="kid-1"), asyncio.create_task(child(), name="kid-2")
        )
        cm_spin(0.05)
        return 5

    assert asyncio.run(main()) == 5
    profile, report = read_recording(out)
    assert report.clean and profile.end is not None
    assert {"kid-1", "kid-2"} <= {t.name for t in profile.tasks.values()}


def test_one_recording_at_a_time(tmp_path: Path) -> None:
    with pyrometer.profile(tmp_path / "a.pyro"):
        with pytest.raises(RuntimeError, match="already recording"):
            with pyrometer.profile(tmp_path / "b.pyro"):
                pass
    with pyrometer.profile(tmp_path / "c.pyro"):  # free again afterwards
        cm_spin(0.02)
    assert read_recording(tmp_path / "c.pyro")[0].end is not None
