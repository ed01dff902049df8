"""The collector: handshake, verbatim recording readable while written, the feed to a Profile, output capture."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from wire_stream import small_stream

from pyrometer.core.agent import wire
from pyrometer.core.agent.transport import SocketSink
from pyrometer.core.capture.collector import Collector
from pyrometer.core.capture.feed import ProfileFeed
from pyrometer.core.formats.recording import RecordingReader, read_recording
from pyrometer.core.model import Profile


def _connect(coll: Collector) -> socket.socket:
    kind, _, rest = coll.address.partition(":")
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(rest)
    else:
        host, _, port = rest.rpartition(":")
        sock = socket.create_connection((host, int(port)))
    return sock


def _wait(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_private_directory_and_token(tmp_path: Path) -> None:
    with Collector(tmp_path / "out.pyro") as coll:
        assert coll.directory is not None
        assert stat.S_IMODE(os.stat(coll.directory).st_mode) == 0o700
        assert coll.address.startswith("unix:")
        assert len(coll.token) >= 32
        env = coll.agent_env({"rate_hz": 50.0})
        assert coll.token not in env["PYROMETER_AGENT"]  # /proc/PID/environ would show it for life
        config = Path(env["PYROMETER_AGENT"][1:])
        assert config.parent == coll.directory and coll.token in config.read_text()
        assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
        directory = coll.directory
    assert not directory.exists()  # removed on close


def test_frames_split_across_receives_are_recorded_verbatim_and_live(tmp_path: Path) -> None:
    out = tmp_path / "out.pyro"
    feed = ProfileFeed()
    stream = small_stream(20)
    with feed.collector(out) as coll:
        sock = _connect(coll)
        sock.sendall(b"PYROMETER " + coll.token.encode() + b"\n")
        data = wire.file_header() + stream
        half = len(data) // 2
        # dribble the first half in odd-sized pieces so frames straddle receives
        for i in range(0, half, 37):
            sock.sendall(data[i : min(i + 37, half)])
            if i % (37 * 20) == 0:
                time.sleep(0.002)
        assert coll.wait_connected(5)
        # the file is readable while the agent is still connected
        reader = RecordingReader(out)
        assert _wait(lambda: reader.poll() >= 0 and reader.profile.sample_count > 0)
        partial = reader.profile.sample_count
        sock.sendall(data[half:])
        sock.sendall(wire.json_frame(wire.END, {"t": 2.0, "exit_status": 0, "reason": "exit"}))
        sock.close()
        assert coll.wait_finished(5)
        reader.poll()
        reader.finish()
    assert 0 < partial < 200
    assert reader.profile.sample_count == 200
    written = wire.file_header() + stream + wire.json_frame(wire.END, {"t": 2.0, "exit_status": 0, "reason": "exit"})
    body = out.read_bytes()
    assert body[: len(written)] == written  # verbatim, then the index kept while writing (the window's too)
    assert wire.FRAME_HEADER.unpack_from(body, len(written))[1] == wire.INDEX
    assert feed.ended.is_set() and feed.end_info == {"t": 2.0, "exit_status": 0, "reason": "exit"}
    live = Profile()
    feed.apply(live)
    assert live.sample_count == 200 and not live.notices
    assert coll.stats.samples == 200 and coll.stats.by_kind["samples"] == 20


def test_bad_stream_header_ends_the_session_but_keeps_the_file(tmp_path: Path) -> None:
    out = tmp_path / "out.pyro"
    with Collector(out) as coll:
        sock = _connect(coll)
        sock.sendall(b"PYROMETER " + coll.token.encode() + b"\nNOTAHEADER......" + small_stream(1))
        assert coll.wait_finished(5)
        sock.close()
    assert "bad header" in " ".join(coll.stats.problems)
    profile, report = read_recording(out)
    assert report.clean and profile.sample_count == 0


def test_corrupt_frame_stops_recording_at_the_last_good_frame(tmp_path: Path) -> None:
    out = tmp_path / "out.pyro"
    good = small_stream(2)
    bad = bytearray(wire.samples_frame([9.0], [0], [1], [-1], [0.01], [-1.0]))
    bad[-1] ^= 0xFF
    with Collector(out) as coll:
        sock = _connect(coll)
        sock.sendall(
            b"PYROMETER " + coll.token.encode() + b"\n" + wire.file_header() + good + bytes(bad)
        )
        assert coll.wait_finished(5)
        sock.close()
    profile, report = read_recording(out)
    assert report.clean and profile.sample_count == 20
    assert "checksum" in " ".join(coll.stats.problems)


def test_tcp_fallback(tmp_path: Path) -> None:
    feed = ProfileFeed()
    with feed.collector(tmp_path / "out.pyro", use_tcp=True) as coll:
        assert coll.address.startswith("tcp:127.0.0.1:")
        sink = SocketSink(coll.address, coll.token)
        sink.start()
        sink.send(small_stream(3))
        sink.close()
        assert coll.wait_finished(5)
    live = Profile()
    feed.apply(live)
    assert live.sample_count == 30


# 'é' arrives in two writes: the collector must not split the character
SPLIT_WRITER = """
import sys, time
out = sys.stdout.buffer
out.write(b"to out \\xc3"); out.flush()
time.sleep(0.1)
out.write(b"\\xa9\\n"); out.flush()
print("to err", file=sys.stderr)
"""


def test_pipe_mode_records_the_targets_output(tmp_path: Path) -> None:
    feed = ProfileFeed()
    out = tmp_path / "out.pyro"
    with feed.collector(out) as coll:
        proc = subprocess.Popen(
            [sys.executable, "-c", SPLIT_WRITER],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        threads = [coll.pump_output(proc.stdout, "stdout"), coll.pump_output(proc.stderr, "stderr")]
        proc.wait(10)
        for th in threads:
            th.join(5)
    profile, report = read_recording(out)
    assert report.clean
    texts = {
        name: "".join(text for _t, stream, text in profile.output if stream == name)
        for name in ("stdout", "stderr")
    }
    assert texts == {"stdout": "to out \u00e9\n", "stderr": "to err\n"}
    live = Profile()
    feed.apply(live)
    assert {s for _t, s, _x in live.output} == {"stderr", "stdout"}


def test_frames_reach_the_feed_from_the_thread_that_read_them(tmp_path: Path) -> None:
    """One hop: the socket thread hands frames on itself (no forwarding thread in between)."""
    threads: list[str] = []
    feed = ProfileFeed()

    def put(frames: list[tuple[int, bytes]]) -> None:
        threads.append(threading.current_thread().name)
        feed.put(frames)

    with Collector(tmp_path / "out.pyro", on_frames=put, on_end=feed.end) as coll:
        sink = SocketSink(coll.address, coll.token)
        sink.start()
        sink.send(small_stream(2))
        sink.close()
        assert coll.wait_finished(5)
    assert threads and set(threads) == {"pyrometer-collector"}
    profile = Profile()
    feed.apply(profile)
    assert profile.sample_count == 20


def test_output_after_the_end_still_reaches_the_feed(tmp_path: Path) -> None:
    """A pump thread can lag behind the agent's END: its last lines reach the Profile, not a dead queue."""
    feed = ProfileFeed()
    with feed.collector(tmp_path / "out.pyro") as coll:
        coll.add_output("stdout", "before the end\n")
        coll._finish()  # the stream ends (END, or the agent went away)
        assert coll.wait_finished(5) and feed.ended.is_set()
        coll.add_output("stderr", "after the end\n")  # a pump thread, late
    profile = Profile()
    feed.apply(profile)
    assert [(s, t) for _t, s, t in profile.output] == [("stdout", "before the end\n"), ("stderr", "after the end\n")]
    recorded, _report = read_recording(tmp_path / "out.pyro")
    assert [t for _t, _s, t in recorded.output] == ["before the end\n", "after the end\n"]


def test_the_feed_applies_in_slices_and_keeps_the_order(tmp_path: Path) -> None:
    """A backlog is applied within a time budget per call; the rest stays in front of newer frames."""
    from pyrometer.core.formats.recording import iter_raw_frames

    out = tmp_path / "s.pyro"
    with Collector(out) as coll:
        sink = SocketSink(coll.address, coll.token)
        sink.start()
        sink.send(small_stream(5))
        sink.close()
        assert coll.wait_finished(5)
    frames = list(iter_raw_frames(out))
    wakes: list[int] = []
    feed = ProfileFeed(wake=lambda: wakes.append(1))
    feed.put(frames[:3])
    feed.put(frames[3:])
    assert len(wakes) == 1  # one wake per burst
    ticks = iter(range(1000))
    profile = Profile()
    assert feed.apply(profile, budget_s=0.5, clock=lambda: float(next(ticks))) == 1  # each frame "takes" 1 s
    assert feed.pending == len(frames) - 1 and feed.backlog
    feed.put([])  # a worker adds during the backlog: no extra wake, the owner is already busy
    assert len(wakes) == 1
    while feed.backlog:
        feed.apply(profile, budget_s=0.5, clock=lambda: float(next(ticks)))
    assert feed.pending == 0
    whole, _report = read_recording(out)
    assert profile.sample_count == whole.sample_count == 50
    feed.put([(wire.SAMPLES, b"\x01")])  # a frame that does not fit its type: a notice, not an exception
    assert len(wakes) == 2
    feed.apply(profile)
    assert profile.notices and "bad samples frame" in profile.notices[-1]["message"]
