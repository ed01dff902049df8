"""When its collector dies the agent unloads itself completely (issue 11 item 7).

After a kill -9 of the collector in attach mode a `pyrometer-sender` thread
stayed in the target forever (11 of 13 sessions): the sink was marked broken
but its sender kept waiting for data that could never come.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from pyrometer.core.agent import wire
from pyrometer.core.agent.entry import start_agent
from pyrometer.core.agent.transport import SocketSink
from pyrometer.core.capture.collector import Collector


def _agent_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("pyrometer-") and t.is_alive()]


def _wait_gone(names: set[str], timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [n for n in _agent_threads() if n in names]
        if not left:
            return []
        time.sleep(0.02)
    return [n for n in _agent_threads() if n in names]


def test_a_lost_collector_ends_the_sinks_threads(tmp_path: Path) -> None:
    coll = Collector(tmp_path / "out.pyro").start()
    sink = SocketSink(coll.address, coll.token)
    sink.start()
    assert coll.wait_connected(5)
    assert sink.send(wire.json_frame(wire.NOTICE, {"t": 0.0, "level": "info", "message": "hi"}))
    sink.flush()
    threads = sink._threads()
    coll.close()  # what a killed collector looks like from the agent: EOF
    deadline = time.monotonic() + 5
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not [t.name for t in threads if t.is_alive()], "the sender must not wait forever"
    assert sink.closed


def test_an_attached_agent_unloads_when_its_collector_dies(tmp_path: Path) -> None:
    before = set(_agent_threads())
    coll = Collector(tmp_path / "out.pyro").start()
    session, sink = start_agent(coll.agent_config({"rate_hz": 200.0}), attached=True)
    try:
        assert coll.wait_streaming(5)
        mine = {n for n in _agent_threads() if n not in before and "collector" not in n and "consumer" not in n}
        assert mine, _agent_threads()
        coll.close()
        left = _wait_gone(mine)
        assert left == [], left
        assert session.stopped
    finally:
        session.stop("test")
        sink.close(0.5)


def test_a_collector_gone_before_the_session_started_leaves_nothing_running(tmp_path: Path) -> None:
    """A stalled attach: the target was stopped (SIGSTOP) after the agent connected and before its
    session started, and the recorder was killed meanwhile, before it ever accepted the connection.
    On resume the agent's control thread saw the end first, and `stop` did nothing (not started yet);
    then the session started anyway: hooks installed and the switch interval changed for good, with
    no collector. The agent must unload itself whatever the order."""
    import _socket
    import sys

    from pyrometer.core.agent import children

    path = str(tmp_path / "gone.sock")
    listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)  # connect() completes in the backlog; nobody ever accepts it
    before = set(_agent_threads())
    switch = sys.getswitchinterval()
    config = {"address": "unix:" + path, "token": "t" * 32, "options": {"rate_hz": 200.0, "switch_interval_ms": 1.0}}

    def collector_killed_while_stopped(session: object) -> None:
        sink = session.sink  # type: ignore[attr-defined]
        listener.close()  # the recorder's kill -9: the unaccepted connection is reset
        deadline = time.monotonic() + 5
        while not sink.closed and time.monotonic() < deadline:
            time.sleep(0.01)  # resumed: the control thread reads the end before the session starts
        assert sink.closed

    session, sink = start_agent(config, attached=True, prepare=collector_killed_while_stopped)
    try:
        mine = {n for n in _agent_threads() if n not in before}
        assert _wait_gone(mine) == [], _agent_threads()
        assert session.stopped
        assert sys.getswitchinterval() == switch  # changed for the session, or restored
        assert children._report is None  # the child-process hook does nothing
    finally:
        session.stop("test")
        sink.close(0.5)
        sys.setswitchinterval(switch)
