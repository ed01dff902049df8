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
