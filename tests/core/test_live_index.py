"""The index a recorder keeps while writing equals the index read back from its file (issue 15).

A real asyncio program (tasks, a worker thread, a stall that lags the loop)
is recorded by `pyrometer record`; the index frame appended at its clean close
must be byte for byte the one `recording_index.index_frame` builds by reading
the file. The same frames are then written again through a RecordingWriter
in small odd-sized writes with tiny chunks and read blocks, so that many
chunk and block boundaries fall inside the run. A recorder killed with
SIGKILL leaves a file without an index that still opens (index built on first
open).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pyrometer.core.agent import wire
from pyrometer.core.capture.writer import RecordingWriter
from pyrometer.core.formats import recording, recording_index
from pyrometer.core.formats.recording import iter_raw_frames, read_recording
from pyrometer.core.formats.recording_index import (
    LiveIndexer,
    build_index,
    index_frame,
    load_index,
    read_index_frame,
)

PROGRAM = """
import asyncio, os, sys, threading, time

def spin(seconds):
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        x += 1

async def job(i):
    await asyncio.sleep(0.01 * (i % 5))
    spin(0.001)
    return i

async def main(rounds):
    for r in range(rounds):
        await asyncio.gather(*(asyncio.create_task(job(i), name=f"job-{r}-{i}") for i in range(20)))
        if r % 10 == 5:
            time.sleep(0.08)  # blocks the loop: lag and a blocking event

with open(sys.argv[1], "w") as fh:
    fh.write(str(os.getpid()))
worker = threading.Thread(target=spin, args=(float(sys.argv[3]),), name="spinner", daemon=True)
worker.start()
asyncio.run(main(int(sys.argv[2])))
"""


def _record(tmp: Path, rounds: int, worker_s: float) -> tuple[subprocess.Popen[str], Path, Path]:
    script = tmp / "prog.py"
    script.write_text(PROGRAM)
    out, pidfile = tmp / "prog.pyro", tmp / "pid"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyrometer", "record", "--no-history", "--rate", "500", "-o", str(out), "--",
         str(script), str(pidfile), str(rounds), str(worker_s)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, TMPDIR=str(tmp), PYROMETER_HOME=str(tmp / "home")),
    )
    return proc, out, pidfile


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("live")
    proc, out, _ = _record(tmp, 30, 0.4)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def _split(path: Path) -> tuple[bytes, bytes]:
    """(the bytes the index covers, the index frame after them)."""
    index = read_index_frame(path)
    assert index is not None, "a cleanly closed recording ends with its index"
    data = path.read_bytes()
    return data[: index.covers], data[index.covers :]


def _built_by_reading(body: bytes, where: Path) -> bytes:
    where.write_bytes(body)
    with open(where, "rb") as fh:
        frame = index_frame(where, fh, len(body))
    assert frame is not None
    return frame


def test_the_index_written_while_recording_is_the_one_read_from_the_file(recorded: Path, tmp_path: Path) -> None:
    body, kept = _split(recorded)
    assert kept == _built_by_reading(body, tmp_path / "copy.pyro")
    index = read_index_frame(recorded)
    assert index is not None
    # a real run: samples on two threads, lag probes, tasks, a blocking event, all in the index
    profile, report = read_recording(recorded)
    assert report.clean and index.samples == profile.sample_count > 100
    assert len(index.thread_counts()) >= 2 and index.lag == len(profile.lag) > 50
    assert index.spans == len(profile.task_spans) and len(profile.tasks) >= 600
    assert index.lag_stats["all"]["max"] >= 0.05  # the 80 ms sleeps lagged the loop


def test_many_chunks_and_blocks_sum_alike_written_or_read(
    recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording_index, "CHUNK_ROWS", 13)  # many chunks even from a starved sampler
    monkeypatch.setattr(recording_index, "_READ_BLOCK", 4099)
    monkeypatch.setattr(recording, "_READ_BLOCK", 4099)
    frames = [wire.frame(kind, payload) for kind, payload in iter_raw_frames(recorded) if kind != wire.INDEX]
    out = tmp_path / "again.pyro"
    writer = RecordingWriter(out, index=True)
    rng = random.Random(15)
    at = 0
    while at < len(frames):  # what one socket read brought: 1 to 40 whole frames
        step = rng.randint(1, 40)
        writer.write_raw(b"".join(frames[at : at + step]))
        at += step
    size = writer.bytes_written
    writer.close(index=True)
    data = out.read_bytes()
    assert data[size:] == _built_by_reading(data[:size], tmp_path / "copy.pyro")
    index = read_index_frame(out)
    assert index is not None and index.chunks >= 10
    # and the sums are the samples': per chunk, per (thread, stack)
    profile, _ = read_recording(out)
    s = profile.samples
    a = index.arrays
    for k in range(index.chunks):
        lo, hi = int(a["chunk_row"][k]), int(a["chunk_row"][k + 1])
        p0, p1 = int(a["pair_start"][k]), int(a["pair_start"][k + 1])
        key = s["thread"][lo:hi].astype(np.int64) * 1_000_000 + s["stack"][lo:hi]
        want = {int(u): int(c) for u, c in zip(*np.unique(key, return_counts=True), strict=True)}
        got = {int(t) * 1_000_000 + int(st): int(c)
               for t, st, c in zip(a["pair_thread"][p0:p1], a["pair_stack"][p0:p1], a["pair_count"][p0:p1], strict=True)}
        assert got == want
        assert float(a["pair_weight"][p0:p1].sum()) == pytest.approx(float(s["weight"][lo:hi].astype(np.float64).sum()))


def test_a_writer_that_cannot_follow_leaves_the_index_to_the_first_open(tmp_path: Path) -> None:
    out = tmp_path / "bad.pyro"
    writer = RecordingWriter(out, index=True)
    writer.write_raw(wire.json_frame(wire.META, {"pid": 1}))
    writer.write_raw(wire.frame(wire.STACKS, b"\x01\x00"))  # too short to be a stacks batch
    writer.close(index=True)
    assert read_index_frame(out) is None
    indexer = LiveIndexer(out)
    indexer.feed(out.read_bytes())
    assert indexer.index_frame(out.stat().st_size) is None and indexer.failed


def test_a_recorder_killed_with_sigkill_leaves_a_file_that_opens(tmp_path: Path) -> None:
    proc, out, pidfile = _record(tmp_path, 100_000, 60.0)
    deadline = time.monotonic() + 30
    target = 0
    try:
        while time.monotonic() < deadline:
            if pidfile.exists() and pidfile.read_text().strip() and out.exists() and out.stat().st_size > 20_000:
                target = int(pidfile.read_text())
                break
            time.sleep(0.05)
        assert target, "the recording never grew"
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        if target:
            os.kill(target, signal.SIGKILL)  # a killed recorder leaves its target running (by design)
    assert read_index_frame(out) is None
    index = load_index(out)  # built on first open (and cached), as for any torn recording
    assert index is not None and index.samples > 0
    assert bytes(index.encode()) == bytes(build_index(out).encode())
    res = subprocess.run([sys.executable, "-m", "pyrometer", "stats", str(out)], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, PYROMETER_HOME=str(tmp_path / "home")))
    assert res.returncode == 0, res.stderr
    assert "spin" in res.stdout


@pytest.mark.parametrize("loop_id", [99, 1 << 30])  # looked up in a table / too sparse for one
def test_the_index_lag_figures_are_lag_stats_to_the_last_bit(recorded: Path, loop_id: int) -> None:
    from pyrometer.core.analysis.loop import lag_stats
    from pyrometer.core.analysis.selection import Selection
    from pyrometer.core.formats.recording_index import _lag_figures_per_thread
    from pyrometer.core.model import LoopInfo

    profile, _ = read_recording(recorded)
    # a second loop on another thread, its probes interleaved out of time order with the first's
    rng = np.random.default_rng(15)
    n = len(profile.lag)
    other = max(profile.threads) + 1
    profile.loops[loop_id] = LoopInfo(loop_id, other, "second loop")
    profile.add_lag(rng.uniform(0.0, float(profile.lag["time"].max()), n), np.full(n, loop_id, np.int32),
                    rng.exponential(0.003, n).astype(np.float32))
    threads = sorted({*profile.threads, other})

    def before(tid: int | None) -> dict[str, float]:
        st = lag_stats(profile, None if tid is None else Selection(threads=frozenset([tid])))
        return {"probes": st.probes, "p50": st.p50, "p95": st.p95, "p99": st.p99, "max": st.max, "mean": st.mean}

    assert _lag_figures_per_thread(profile, threads) == {"all": before(None), **{str(t): before(t) for t in threads}}


def test_with_the_live_model_the_index_keeps_no_probe_nor_task_and_is_the_same(
    recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window's writer reads the lag probes and tasks from the live model at the end instead of holding
    copies (a day's 7.5M probes, 114 MB, and 150k tasks were held twice): the index is still the one a
    read of the file builds."""
    from pyrometer.core.formats.recording import apply_message
    from pyrometer.core.model import Profile

    monkeypatch.setattr(recording, "_READ_BLOCK", 4099)
    monkeypatch.setattr(recording_index, "_READ_BLOCK", 4099)
    frames = [(kind, payload) for kind, payload in iter_raw_frames(recorded) if kind != wire.INDEX]
    live = Profile()
    out = tmp_path / "again.pyro"
    writer = RecordingWriter(out, index=True, model=live)
    held = tasks = 0
    for kind, payload in frames:
        writer.write_raw(wire.frame(kind, payload))
        apply_message(live, kind, payload)  # what the window's GUI thread does with the same frames
        if writer._indexer is not None:
            held = max(held, len(writer._indexer.profile.lag))
            tasks = max(tasks, len(writer._indexer.profile.tasks))
    assert len(live.lag) > 50 and held < len(live.lag) // 4  # probes of one 4 kB block at most
    assert len(live.tasks) >= 600 and tasks == 0
    size = writer.bytes_written
    writer.close(index=True)
    data = out.read_bytes()
    assert data[size:] == _built_by_reading(data[:size], tmp_path / "copy.pyro")
    # a model that did not get every probe, or every task: no index (the first open builds it), the recording whole
    for missed in (wire.LAG, wire.TASKS_END):
        live2 = Profile()
        out2 = tmp_path / "short.pyro"
        writer = RecordingWriter(out2, index=True, model=live2)
        last = max(j for j, f in enumerate(frames) if f[0] == missed)
        for i, (kind, payload) in enumerate(frames):
            writer.write_raw(wire.frame(kind, payload))
            if i != last:
                apply_message(live2, kind, payload)
        writer.close(index=True)
        assert read_index_frame(out2) is None and out2.stat().st_size == size, missed


def test_the_index_lag_figures_of_one_loop_out_of_time_order_are_lag_stats_to_the_last_bit(recorded: Path) -> None:
    """All probes on one thread's loop (the common case, where the close sorts without copying them per thread)."""
    from pyrometer.core.analysis.loop import lag_stats
    from pyrometer.core.analysis.selection import Selection
    from pyrometer.core.formats.recording_index import _lag_figures_per_thread

    profile, _ = read_recording(recorded)
    assert len({profile.loops[int(lp)].thread for lp in np.unique(profile.lag["loop"])}) == 1
    rng = np.random.default_rng(16)
    n = len(profile.lag)
    loop = int(profile.lag["loop"][0])
    # a second batch interleaved in time with the first, of magnitudes so far apart that the mean's last bits
    # depend on the order the probes are summed in
    profile.add_lag(rng.uniform(0.0, float(profile.lag["time"].max()), n), np.full(n, loop, np.int32),
                    (rng.exponential(0.003, 4 * n) * 10.0 ** rng.uniform(-12, 3, 4 * n)).astype(np.float32)[:n])
    threads = sorted({*profile.threads, profile.loops[loop].thread})

    def before(tid: int | None) -> dict[str, float]:
        st = lag_stats(profile, None if tid is None else Selection(threads=frozenset([tid])))
        return {"probes": st.probes, "p50": st.p50, "p95": st.p95, "p99": st.p99, "max": st.max, "mean": st.mean}

    assert _lag_figures_per_thread(profile, threads) == {"all": before(None), **{str(t): before(t) for t in threads}}
