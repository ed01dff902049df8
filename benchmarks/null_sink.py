"""A transport sink that counts bytes and keeps nothing: what the agent costs without its transport."""

from __future__ import annotations


class NullSink:
    """Counts bytes and keeps nothing: the agent's own cost only (no sender thread, no file)."""

    closed = False

    def __init__(self) -> None:
        self.bytes_sent = 0

    def send(self, data: bytes, droppable: bool = False) -> bool:
        self.bytes_sent += len(data)
        return True

    def flush(self) -> None:
        pass
