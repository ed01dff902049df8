"""Sinks that carry the agent's event stream out of the target (standard library only, 3.9+).

A sink never blocks the profiled program: `send` appends to a bounded buffer
and a sender thread writes batches (at most ``BATCH_S`` after the first byte
is queued). When the buffer is full, droppable frames (samples, probes) are
dropped and counted; definitions are always kept, so the stream stays
decodable. The sender blocks on a condition while idle -- no polling.

`SocketSink` talks to the collector (Unix socket or 127.0.0.1 TCP) and
authenticates with the per-session token. A control thread blocks on the
socket's read side: end-of-file (the collector went away) or a ``stop`` line
(detach) ends the session, and the target runs on. `FileSink` writes the same
stream straight to a ``.pyro`` file (in-process `pyrometer.profile`).
"""

from __future__ import annotations

import _socket  # the C module: socket.py's enum set-up alone costs the target ~3.5 ms
import os
import threading
import time
from collections import deque

from . import wire

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Callable, Deque, Dict, List, Optional

    Callback = Callable[[], None]

BATCH_S = 0.02  # latency budget of one batch (the design allows 50 ms)
BATCH_BYTES = 256 * 1024  # send at once when this much is queued
MAX_BUFFER = 8 * 1024 * 1024  # droppable frames are dropped beyond this
FLUSH_TIMEOUT_S = 5.0  # how long flush() may hold the caller (the target's exit)
CONNECT_TIMEOUT_S = 10.0
HANDSHAKE = b"PYROMETER "
STOP_COMMAND = b"stop"
THREAD_PREFIX = "pyrometer-"  # every agent thread's name starts with this



class Sink:
    """Buffering base: a bounded queue of frames drained by one sender thread.

    Subclasses implement `_write` (one batch, may block) and `_shutdown`.
    Callbacks: `on_close` runs once when the output breaks (collector gone);
    `on_stop_request` when the collector asks to detach. In a forked child the
    sink just goes inert (closed, buffer dropped) without calling back.
    Both run on an agent thread, outside the sink's lock.
    """

    def __init__(self, max_buffer: int = MAX_BUFFER) -> None:
        self.max_buffer = max_buffer
        self.closed = False
        self.bytes_sent = 0
        self.frames_dropped = 0
        self.bytes_dropped = 0
        self.close_reason = ""
        self.on_close: Optional[Callback] = None
        self.on_stop_request: Optional[Callback] = None
        # re-entrant: the session may stop (and send) from a signal handler
        self._cond = threading.Condition(threading.RLock())
        self._chunks: Deque[bytes] = deque()
        self._size = 0
        self._first_at = 0.0
        self._closing = False
        self._flush_wanted = False
        self._held = 0  # producers in a hold(): sends queue without waking the sender
        self._send_now = False  # a hold ended: write without waiting out the batch window
        self._in_flight = 0
        self._pid = os.getpid()
        self._thread: Optional[threading.Thread] = None
        self._close_notified = False
        self._stalled = False  # a flush timed out: the output is not draining

    # ------------------------------------------------------------ public API
    def start(self) -> None:
        """Start the sender thread (subclasses connect first)."""
        self._thread = threading.Thread(
            target=self._run, name=THREAD_PREFIX + "sender", daemon=True
        )
        self._thread.start()
        _register_fork_guard(self)

    def send(self, data: bytes, droppable: bool = False) -> bool:
        """Queue framed bytes; False if dropped (buffer full) or the sink is closed."""
        cond = self._cond
        with cond:
            if self.closed or self._closing:
                return False
            if droppable and self._size + len(data) > self.max_buffer:
                self.frames_dropped += 1
                self.bytes_dropped += len(data)
                return False
            was_empty = not self._chunks
            if was_empty:
                self._first_at = time.monotonic()
            self._chunks.append(data)
            self._size += len(data)
            if (was_empty and not self._held) or self._size >= BATCH_BYTES:
                cond.notify_all()
        return True

    def hold(self) -> None:
        """Queue the next sends without waking the sender, until `release`.

        A producer that sends several frames in a row (the sampler's batch, lag
        probes, task events, telemetry) wakes the sender once, at release, and
        it writes them at once: one wake-up per batch instead of two (the first
        frame's, then the batch window's), which is most of an idle target's
        cost. Nestable; a full buffer still wakes the sender.
        """
        with self._cond:
            self._held += 1

    def release(self) -> None:
        cond = self._cond
        with cond:
            self._held = max(0, self._held - 1)
            if not self._held and self._chunks:
                self._send_now = True
                cond.notify_all()

    def flush(self, timeout: float = FLUSH_TIMEOUT_S) -> bool:
        """Wait until everything queued is written (or the sink broke); True if drained."""
        if threading.current_thread() is self._thread:
            return False
        if self._stalled:
            timeout = min(timeout, 0.1)  # a collector that did not drain before will not now
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flush_wanted = True
            self._cond.notify_all()
            try:
                while (self._chunks or self._in_flight) and not self.closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._stalled = True
                        return False
                    self._cond.wait(left)
            finally:
                self._flush_wanted = False
            return not self._chunks and not self._in_flight

    def close(self, timeout: float = FLUSH_TIMEOUT_S) -> None:
        """Flush what is queued, then close the output; idempotent."""
        if self._thread is not None and self._pid == os.getpid():
            self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._shutdown()
        thread = self._thread
        if (
            thread is not None
            and thread is not threading.current_thread()
            and self._pid == os.getpid()
        ):
            thread.join(timeout)
        with self._cond:
            self.closed = True
            self._drop_buffer()

    def stats(self) -> Dict[str, Any]:
        """Counters for the telemetry message."""
        return {
            "bytes_sent": self.bytes_sent,
            "frames_dropped": self.frames_dropped,
            "bytes_dropped": self.bytes_dropped,
            "buffered_bytes": self._size,
        }

    def thread_idents(self) -> List[int]:
        """Idents of this sink's own threads (never to be sampled)."""
        return [t.ident for t in self._threads() if t.ident is not None]

    # ------------------------------------------------------------- internals
    def _threads(self) -> List[threading.Thread]:
        return [self._thread] if self._thread is not None else []

    def _write(self, data: bytes) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _shutdown(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _drop_buffer(self) -> None:
        self._chunks.clear()
        self._size = 0

    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while not self._chunks and not self._closing:
                    cond.wait()
                if not self._chunks:
                    return  # closing and drained
                # Data is pending: give producers the rest of the batch window.
                while not (self._closing or self._flush_wanted or self._send_now or self._size >= BATCH_BYTES):
                    left = self._first_at + BATCH_S - time.monotonic()
                    if left <= 0:
                        break
                    cond.wait(left)
                batch = b"".join(self._chunks)
                self._chunks.clear()
                self._size = 0
                self._send_now = False
                self._in_flight = len(batch)
            try:
                self._write(batch)
            except (OSError, ValueError) as exc:
                if not self._closing:
                    self._broken("output failed: %s" % (exc,))
                return
            with cond:
                self.bytes_sent += len(batch)
                self._in_flight = 0
                cond.notify_all()

    def _broken(self, reason: str) -> None:
        """The output is gone: discard the buffer, mark closed, tell the session once."""
        with self._cond:
            if self.closed:
                return
            self.closed = True
            self._closing = True  # the sender thread must end too (it waited forever: a leak in the target)
            self.close_reason = reason
            self._in_flight = 0
            self._drop_buffer()
            self._cond.notify_all()
        try:
            self._shutdown()
        except Exception:
            pass
        self._notify_closed()

    def _notify_closed(self) -> None:
        if self._close_notified:
            return
        self._close_notified = True
        callback = self.on_close
        if callback is not None:
            try:
                callback()
            except Exception:
                pass  # the target comes first

    def _after_fork_in_child(self) -> None:
        """In a forked child the agent is inert: never touch the parent's output."""
        self._cond = threading.Condition(threading.RLock())
        self.closed = True
        self.close_reason = "forked child"
        self._drop_buffer()
        self._thread = None
        self._close_notified = True  # the session unhooks itself in the child (no locks taken here)
        self._forget_output()

    def _forget_output(self) -> None:
        """Release the child's copy of the output without affecting the parent's."""


class SocketSink(Sink):
    """Stream to the collector over a Unix socket (``unix:PATH``) or TCP (``tcp:HOST:PORT``)."""

    def __init__(
        self,
        address: str,
        token: str,
        max_buffer: int = MAX_BUFFER,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        super().__init__(max_buffer)
        self.address = address
        self._sock = connect(address, connect_timeout)
        self._control: Optional[threading.Thread] = None
        try:
            self._sock.sendall(HANDSHAKE + token.encode("ascii") + b"\n" + wire.file_header())
        except OSError:
            self._sock.close()
            raise

    def start(self) -> None:
        super().start()
        self._control = threading.Thread(
            target=self._read_control, name=THREAD_PREFIX + "control", daemon=True
        )
        self._control.start()

    def _threads(self) -> List[threading.Thread]:
        return [t for t in (self._thread, self._control) if t is not None]

    def _write(self, data: bytes) -> None:
        self._sock.sendall(data)

    def _shutdown(self) -> None:
        try:
            self._sock.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass

    def _forget_output(self) -> None:
        self._control = None
        try:
            self._sock.close()  # the child's descriptor only; no shutdown
        except OSError:
            pass

    def _read_control(self) -> None:
        """Block on the collector's side of the socket: a stop line, or EOF when it is gone."""
        pending = b""
        while True:
            try:
                data = self._sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                if not self._closing:
                    self._broken("collector closed the connection")
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip() == STOP_COMMAND:
                    callback = self.on_stop_request
                    if callback is None:
                        self._broken("stop requested")
                        return
                    try:
                        callback()
                    except Exception:
                        pass


class FileSink(Sink):
    """Write the stream to a recording file (header first), batched like the socket."""

    def __init__(self, path: str, max_buffer: int = MAX_BUFFER) -> None:
        super().__init__(max_buffer)
        self.path = path
        # Unbuffered: each batch is one write to the OS, and a forked child holds no
        # buffered bytes of ours that it could write out when it exits.
        self._fh: Optional[BinaryIO] = open(path, "wb", buffering=0)  # closed in _shutdown
        self._write(wire.file_header())

    def _write(self, data: bytes) -> None:
        fh = self._fh
        if fh is None:
            raise ValueError("file sink is closed")
        view = memoryview(data)
        while view:
            written = fh.write(view)
            if not written:
                raise OSError("short write to %s" % (self.path,))
            view = view[written:]

    def _shutdown(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                fh.close()
            except OSError:
                pass

    def _forget_output(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                fh.close()  # the child's descriptor only; unbuffered, so nothing is written
            except OSError:
                pass


def connect(address: str, timeout: float = CONNECT_TIMEOUT_S) -> _socket.socket:
    """Open a blocking stream socket to ``unix:PATH`` or ``tcp:HOST:PORT``."""
    kind, _, rest = address.partition(":")
    if kind == "unix":
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)  # type: ignore[attr-defined,unused-ignore]
        target: Any = rest
    elif kind == "tcp":
        host, _, port = rest.rpartition(":")
        sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        target = (host, int(port))
    else:
        raise ValueError("unknown collector address %r" % (address,))
    try:
        sock.settimeout(timeout)
        sock.connect(target)
        sock.settimeout(None)
    except OSError:
        sock.close()
        raise
    return sock


_fork_sinks: "List[Sink]" = []
_fork_lock = threading.Lock()
_fork_registered = False


def _register_fork_guard(sink: Sink) -> None:
    """Make every live sink inert in a forked child (os.register_at_fork, 3.7+)."""
    global _fork_registered
    with _fork_lock:
        _fork_sinks[:] = [s for s in _fork_sinks if not s.closed]
        _fork_sinks.append(sink)
        if not _fork_registered and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _fork_registered = True


def _after_fork_in_child() -> None:
    global _fork_lock
    _fork_lock = threading.Lock()  # may have been held by another thread at fork time
    sinks = list(_fork_sinks)
    del _fork_sinks[:]
    for sink in sinks:
        try:
            sink._after_fork_in_child()
        except Exception:
            pass
