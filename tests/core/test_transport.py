"""The agent's sinks against a real collector (or a real socket that refuses to read)."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from pyrometer.core.agent import wire
from pyrometer.core.agent.transport import FileSink, SocketSink
from pyrometer.core.capture.collector import Collector
from pyrometer.core.formats.recording import iter_raw_frames, read_recording


def _notice(text: str) -> bytes:
    return wire.json_frame(wire.NOTICE, {"t": 0.0, "level": "info", "message": text})


def _sample(t: float, pad: int = 0) -> bytes:
    n = 1 + pad
    return wire.samples_frame([t] * n, [0] * n, [0] * n, [-1] * n, [0.01] * n, [-1.0] * n)


def _definitions() -> list[bytes]:
    return [
        wire.json_frame(wire.META, {"pid": os.getpid(), "start_wall": time.time()}),
        wire.frames_frame([(0, "x.py", 3, "main", 1)]),
        wire.stacks_frame(0, [-1], [0]),
        wire.json_frame(wire.THREADS, [[0, "MainThread", None]]),
    ]


class _Frames:
    """Collects what the collector hands to its consumer."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, bytes]] = []
        self.arrived = threading.Condition()
        self.end: dict | None = None
        self.ended = threading.Event()

    def on_frames(self, frames: list[tuple[int, bytes]]) -> None:
        with self.arrived:
            self.frames.extend(frames)
            self.arrived.notify_all()

    def on_end(self, end: dict | None) -> None:
        self.end = end
        self.ended.set()

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.frames) >= count, timeout)


def test_stream_arrives_in_order_within_the_batch_window(tmp_path: Path) -> None:
    got = _Frames()
    with Collector(tmp_path / "out.pyro", on_frames=got.on_frames, on_end=got.on_end) as coll:
        sink = SocketSink(coll.address, coll.token)
        sink.start()
        assert coll.wait_connected(5)
        defs = _definitions()
        for data in defs:
            assert sink.send(data)
        assert got.wait_for(4)
        latencies = []
        for i in range(5):  # the best of five, so a loaded machine's scheduling does not count
            t0 = time.monotonic()
            sink.send(_notice("ping"), droppable=True)
            assert got.wait_for(5 + i)
            latencies.append(time.monotonic() - t0)
        sink.send(wire.json_frame(wire.END, {"t": 1.0, "exit_status": 0, "reason": "exit"}))
        sink.close()
        assert coll.wait_finished(5)
    assert min(latencies) < 0.05, latencies  # the batch window is 20 ms; the design allows 50
    assert [k for k, _ in got.frames] == [
        wire.META,
        wire.FRAMES,
        wire.STACKS,
        wire.THREADS,
        *[wire.NOTICE] * 5,
        wire.END,
    ]
    assert got.ended.is_set() and got.end == {"t": 1.0, "exit_status": 0, "reason": "exit"}
    kinds = [k for k, _ in iter_raw_frames(tmp_path / "out.pyro")]
    assert kinds[-1] == wire.INDEX  # a clean close appends the recording's index
    assert kinds[:-1] == [k for k, _ in got.frames]
    end = wire.json_frame(wire.END, {"t": 1.0, "exit_status": 0, "reason": "exit"})
    assert sink.bytes_sent == sum(map(len, defs)) + 5 * len(_notice("ping")) + len(end)


def test_wrong_token_is_rejected_and_the_right_one_still_accepted(tmp_path: Path) -> None:
    with Collector(tmp_path / "out.pyro") as coll:
        intruder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        intruder.connect(coll.address.partition(":")[2])
        intruder.sendall(
            b"PYROMETER " + b"0" * 32 + b"\n" + wire.file_header() + _notice("intruder")
        )
        intruder.settimeout(5)
        assert intruder.recv(100) == b""  # the collector hung up on us
        intruder.close()
        assert not coll.connected
        deadline = time.monotonic() + 5
        while coll.stats.rejected < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert coll.stats.rejected == 1
        sink = SocketSink(coll.address, coll.token)
        sink.start()
        assert coll.wait_connected(5)
        sink.send(_notice("welcome"))
        sink.close()
        assert coll.wait_finished(5)
    messages = [wire.decode_json(p)["message"] for k, p in iter_raw_frames(tmp_path / "out.pyro") if k == wire.NOTICE]
    assert messages == ["welcome"]


def test_collector_gone_closes_the_sink_and_calls_back(tmp_path: Path) -> None:
    coll = Collector(tmp_path / "out.pyro").start()
    sink = SocketSink(coll.address, coll.token)
    gone = threading.Event()
    sink.on_close = gone.set
    sink.start()
    assert coll.wait_connected(5)
    assert sink.send(_notice("before"))
    sink.flush()
    coll.close()  # drops the connection, as a killed collector would
    assert gone.wait(5), "the control thread must notice EOF even while the agent is idle"
    assert sink.closed
    assert not sink.send(_notice("after"))
    sink.close()


def test_stop_request_reaches_the_agent(tmp_path: Path) -> None:
    with Collector(tmp_path / "out.pyro") as coll:
        sink = SocketSink(coll.address, coll.token)
        asked = threading.Event()

        def stop() -> None:
            sink.send(
                wire.json_frame(wire.END, {"t": 0.5, "exit_status": None, "reason": "detached"})
            )
            sink.close()
            asked.set()

        sink.on_stop_request = stop
        sink.start()
        assert coll.wait_connected(5)
        assert coll.request_stop()
        assert asked.wait(5)
        assert coll.wait_finished(5)
        assert coll.end == {"t": 0.5, "exit_status": None, "reason": "detached"}


def _listening(path: str) -> socket.socket:
    """A Unix socket listening at `path` that the test accepts on (or never reads) itself."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    return server


def test_full_buffer_drops_samples_but_never_definitions(tmp_path: Path) -> None:
    path = str(tmp_path / "slow.sock")
    server = _listening(path)
    try:
        sink = SocketSink("unix:" + path, "t" * 32, max_buffer=64 * 1024)
        conn, _ = server.accept()  # a collector that is too slow: it reads nothing for now
        sink.start()
        defs = _definitions()
        for data in defs:
            assert sink.send(data)
        accepted = dropped = 0
        for i in range(400):  # ~4 MB of samples against a 64 KiB buffer
            if sink.send(_sample(float(i), pad=400), droppable=True):
                accepted += 1
            else:
                dropped += 1
            assert sink.send(_notice(f"def {i}"))  # never dropped, even when full
        assert dropped > 0 and accepted > 0
        assert sink.frames_dropped == dropped
        received = bytearray()
        reader = threading.Thread(target=lambda: _drain(conn, received), daemon=True)
        reader.start()
        assert sink.flush(10)
        sink.close()
        reader.join(10)
    finally:
        server.close()
    data = bytes(received)
    line, _, stream = data.partition(b"\n")
    assert line == b"PYROMETER " + b"t" * 32
    frames = list(wire.iter_frames(stream))
    notices = [wire.decode_json(p)["message"] for k, _f, p in frames if k == wire.NOTICE]
    assert notices == [f"def {i}" for i in range(400)]
    assert sum(1 for k, _f, _p in frames if k == wire.SAMPLES) == accepted
    assert [k for k, _f, _p in frames[:4]] == [wire.META, wire.FRAMES, wire.STACKS, wire.THREADS]


def _drain(conn: socket.socket, out: bytearray) -> None:
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        out += chunk
    conn.close()


def test_idle_sender_does_not_spin(tmp_path: Path) -> None:
    with Collector(tmp_path / "out.pyro") as coll:
        sink = SocketSink(coll.address, coll.token)
        sink.start()
        assert coll.wait_connected(5)
        sink.send(_notice("one"))
        sink.flush()
        threads = {t.ident: t for t in threading.enumerate()}
        clocks = [
            time.pthread_getcpuclockid(ident) for ident in sink.thread_idents() if ident in threads
        ]
        assert len(clocks) == 2  # sender and control
        before = [time.clock_gettime(c) for c in clocks]
        time.sleep(0.5)
        after = [time.clock_gettime(c) for c in clocks]
        sink.close()
    assert all(a - b < 0.002 for a, b in zip(after, before, strict=True)), (before, after)
    assert all(
        t.name.startswith("pyrometer-") for t in threads.values() if t.ident in sink.thread_idents()
    )


def test_forked_child_never_writes_to_the_parents_socket(tmp_path: Path) -> None:
    got = _Frames()
    with Collector(tmp_path / "out.pyro", on_frames=got.on_frames) as coll:
        sink = SocketSink(coll.address, coll.token)
        sink.start()
        assert coll.wait_connected(5)
        sink.send(_notice("parent before"))
        sink.flush()
        pid = os.fork()
        if pid == 0:  # child: the sink must be inert
            ok = sink.closed and not sink.send(_notice("child"), droppable=False)
            sink.close(0.1)
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        sink.send(_notice("parent after"))
        sink.close()
        assert coll.wait_finished(5)
    assert os.waitstatus_to_exitcode(status) == 0
    messages = [wire.decode_json(p)["message"] for k, p in got.frames if k == wire.NOTICE]
    assert messages == ["parent before", "parent after"]


def test_file_sink_writes_a_readable_recording(tmp_path: Path) -> None:
    path = tmp_path / "file.pyro"
    sink = FileSink(str(path))
    sink.start()
    for data in _definitions():
        sink.send(data)
    for i in range(10):
        sink.send(_sample(i * 0.01), droppable=True)
    sink.send(wire.json_frame(wire.END, {"t": 0.1, "exit_status": 0, "reason": "exit"}))
    sink.close()
    profile, report = read_recording(path)
    assert report.clean
    assert profile.sample_count == 10
    assert profile.end == {"t": 0.1, "exit_status": 0, "reason": "exit"}
    assert sink.closed and not sink.send(_notice("late"))


def test_a_stuck_collector_never_holds_the_target_for_long(tmp_path: Path) -> None:
    path = str(tmp_path / "stuck.sock")
    server = _listening(path)
    try:
        sink = SocketSink("unix:" + path, "s" * 32)
        conn, _ = server.accept()  # accepts, then never reads: a frozen collector
        sink.start()
        for i in range(100):
            sink.send(_notice(f"definition {i}" + "x" * 40000))  # ~4 MB, more than the socket holds
        t0 = time.monotonic()
        assert not sink.flush(0.3)
        sink.flush()  # a second flush does not wait the full timeout again
        sink.close()
        elapsed = time.monotonic() - t0
        assert sink.closed
        assert elapsed < 2.0, elapsed
        conn.close()
    finally:
        server.close()


def test_file_sink_in_a_forked_child_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "fork.pyro"
    sink = FileSink(str(path))
    sink.start()
    sink.send(_notice("parent before"))
    sink.flush()
    pid = os.fork()
    if pid == 0:
        ok = sink.closed and not sink.send(_notice("child"))
        os._exit(0 if ok else 1)  # no flush of anything the parent queued
    _, status = os.waitpid(pid, 0)
    sink.send(_notice("parent after"))
    sink.close()
    assert os.waitstatus_to_exitcode(status) == 0
    messages = [wire.decode_json(p)["message"] for k, p in iter_raw_frames(path) if k == wire.NOTICE]
    assert messages == ["parent before", "parent after"]


def test_held_sends_wait_for_release_then_go_out_in_one_write(tmp_path: Path) -> None:
    """A producer's burst (samples, probes, telemetry) wakes the sender once, at release."""
    path = tmp_path / "held.pyro"
    sink = FileSink(str(path))
    sink.start()
    header = path.stat().st_size
    sink.hold()
    for data in _definitions():
        sink.send(data)
    sink.send(_sample(0.0), droppable=True)
    time.sleep(0.2)  # ten batch windows: an unheld send would have been written by now
    assert path.stat().st_size == header and sink.bytes_sent == 0
    sink.release()
    deadline = time.monotonic() + 5
    while sink.bytes_sent == 0 and time.monotonic() < deadline:
        time.sleep(0.002)
    assert path.stat().st_size > header
    sink.close()
    profile, report = read_recording(path)
    assert report.clean and profile.sample_count == 1
