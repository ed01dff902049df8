"""The collector: accepts one agent, records its stream, and hands decoded frames on.

No Qt here: `pyrometer record` uses it headless and the window reuses it live.
The collector listens on a Unix socket inside a private (0700) directory
(127.0.0.1 TCP where Unix sockets are unavailable), checks the per-session
token line (``PYROMETER <token>``, see docs/format.md), then writes every
received frame verbatim to the recording and flushes after each receive, so
the file is readable while it grows and a crash loses at most a frame in
flight. Decoded frames go to ``on_frames`` right after they are written, on
the thread that read them (the socket thread, or an output pump), and
``on_end`` is called once when the stream is over: both must only queue (see
`pyrometer.core.capture.feed.ProfileFeed`, what the window and the tests use),
so the file never waits for a consumer and there is no hop in between.

A recording that replaces an existing file is written under a temporary name
beside it and takes the output's name when the agent's first frame arrives,
so a session that never starts (a dead PID, a bad interpreter) leaves the
existing file intact.
A failed write (a full disk) ends the session: the file is cut back to its
last whole frame, the agent is disconnected (it unhooks itself; the target
runs on) and `failure` says why.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pyrometer.core.agent import wire
from pyrometer.core.agent.transport import HANDSHAKE, STOP_COMMAND
from pyrometer.core.capture.writer import RecordingWriter

# typing, dataclasses, hmac, secrets and shutil cost ~25 ms of imports that `pyrometer record`
# pays before the target starts: none of them is needed at run time here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

HANDSHAKE_TIMEOUT_S = 5.0
MAX_HANDSHAKE = 256
ABANDON_WAIT_S = 1.0  # a plain close waits this long for a background one that it told to skip the index
RECV_SIZE = 256 * 1024
ENV_VAR = "PYROMETER_AGENT"  # connection info for a launched target; the bootstrap removes it

Frames = list[tuple[int, bytes]]
if TYPE_CHECKING:
    FramesCallback = Callable[[Frames], None]
    EndCallback = Callable[[dict[str, Any] | None], None]


def _remove_stale_directories(base: str) -> None:
    """Remove our earlier session folders whose recorder died without cleaning up (kill -9).

    Names carry the owning process id; only folders of our own user whose
    process is gone are touched, through a descriptor, never following links.
    """
    import re

    pattern = re.compile(r"pyrometer-(\d+)-[0-9a-f]{12}")
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        m = pattern.fullmatch(name)
        if m is None or int(m.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue  # its recorder is alive (or not ours to signal): leave it
        except ProcessLookupError:
            pass
        except OSError:
            continue
        path = os.path.join(base, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if os.fstat(fd).st_uid != os.getuid():
                continue
            for entry in os.listdir(fd):
                with contextlib.suppress(OSError):
                    os.unlink(entry, dir_fd=fd)
            with contextlib.suppress(OSError):
                os.rmdir(path)
        except OSError:
            pass
        finally:
            os.close(fd)


def _private_directory() -> Path:
    """A new mode-0700 directory for the socket, like tempfile.mkdtemp (imported only if needed)."""
    base = os.environ.get("TMPDIR") or "/tmp"
    if os.name == "posix" and os.path.isdir(base):
        _remove_stale_directories(base)
        for _ in range(8):
            path = Path(base) / f"pyrometer-{os.getpid()}-{os.urandom(6).hex()}"
            try:
                os.mkdir(path, 0o700)
                return path
            except FileExistsError:
                continue
            except OSError:
                break
    import tempfile

    return Path(tempfile.mkdtemp(prefix="pyrometer-"))


def _same_token(given: bytes, expected: bytes) -> bool:
    """Constant-time comparison; hmac is imported here, after the target was started."""
    import hmac

    return hmac.compare_digest(given, expected)


class CollectorError(Exception):
    """The collector could not listen."""


class StreamStats:
    """What arrived from the agent so far."""

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0
        self.samples = 0
        self.by_kind: dict[str, int] = {}
        self.rejected = 0
        self.problems: list[str] = []


class _Pending:
    """A connection that has not yet authenticated."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buf = bytearray()
        self.deadline = time.monotonic() + HANDSHAKE_TIMEOUT_S


class Collector:
    """Listen for one agent, record its stream, feed a consumer; see the module docstring."""

    def __init__(
        self,
        output: str | os.PathLike[str] | None,
        on_frames: FramesCallback | None = None,
        on_end: EndCallback | None = None,
        use_tcp: bool = False,
        index_on_close: bool = True,
        model: Any = None,
    ) -> None:
        self.output = Path(output) if output is not None else None
        # a clean close appends the recording's index, kept while writing (recording_index.LiveIndexer):
        # closing costs the last block (<= 4 MB) and the index's own encoding, not a read of the file
        self.index_on_close = index_on_close
        self.on_frames = on_frames
        self.on_end = on_end
        self.use_tcp = use_tcp or not hasattr(socket, "AF_UNIX")
        self.token = os.urandom(16).hex()  # what secrets.token_hex does
        self.address = ""
        self.directory: Path | None = None
        self.stats = StreamStats()
        self.end: dict[str, Any] | None = None
        self.meta: dict[str, Any] = {}
        self.notices: list[dict[str, Any]] = []  # the agent's NOTICE messages, in order
        self._writer: RecordingWriter | None = None
        self._write_lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        self._pending: dict[int, _Pending] = {}
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        self._connected = threading.Event()
        self._streaming = threading.Event()  # the first frame arrived
        self._finished = threading.Event()
        self._end_lock = threading.Lock()
        self._end_told = False
        self._thread: threading.Thread | None = None
        self._connected_at = time.monotonic()
        self._buf = bytearray()
        self._header_seen = False
        self._dir_fd: int | None = None  # the session directory, held open: never re-resolved by name
        self.failure: str | None = None  # why recording stopped early (e.g. the disk is full)
        self.on_failure: Callable[[str], None] | None = None  # told once, from the thread that failed
        self._partial: Path | None = None  # where the recording is written until it is published
        self._published = False
        self._replaces_existing = False
        # close(background=True): the thread finishing the recording, its fraction done, and who hears of it
        self.closing: threading.Thread | None = None
        self.close_progress = 0.0
        self.on_close_progress: Callable[[float], None] | None = None  # told from the closing thread
        self.on_closed: Callable[[], None] | None = None  # told once from the closing thread, the file final
        self._closing_writer: RecordingWriter | None = None
        # a live Profile that gets every frame this stream carries (the index reads its lag probes and
        # tasks at the end instead of keeping copies), and what the caller does, on its thread, once the stream is over
        # and before the recording is finished: give that model the last frames (then it must not grow)
        self.model = model
        self.before_recording_closes: Callable[[], None] | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Collector:
        """Create the private directory, the listening socket and the recording; start the thread."""
        self.directory = _private_directory()
        if hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY"):
            with contextlib.suppress(OSError):
                self._dir_fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            self._listener = self._listen()
        except OSError as exc:
            self._remove_directory()
            raise CollectorError(f"cannot listen for the agent: {exc}") from exc
        if self.output is not None:
            try:
                self._replaces_existing = os.path.lexists(self.output)
                if self._replaces_existing and not self.output.is_file():
                    raise OSError(0, "not a regular file")
                if self._replaces_existing:
                    self._partial = self.output.with_name(f".{self.output.name}.{os.urandom(4).hex()}.part")
                self._published = not self._replaces_existing  # a new file is written in place
                self._writer = RecordingWriter(self._partial or self.output, index=self.index_on_close,
                                               model=self.model)
            except OSError as exc:
                self._listener.close()
                self._remove_directory()
                raise CollectorError(f"cannot write {self.output}: {exc.strerror or exc}") from exc
        self._listener.setblocking(False)
        self._sel.register(self._listener, selectors.EVENT_READ, "listen")
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, name="pyrometer-collector", daemon=True)
        self._thread.start()
        return self

    def _listen(self) -> socket.socket:
        assert self.directory is not None
        path = self.directory / "agent.sock"
        if not self.use_tcp and len(os.fsencode(path)) < 100:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(str(path))
            sock.listen(4)
            self.address = f"unix:{path}"
            return sock
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        self.address = f"tcp:127.0.0.1:{sock.getsockname()[1]}"
        return sock

    def agent_config(self, options: dict[str, Any]) -> dict[str, Any]:
        """What the bootstrap needs: where to connect, the token and the session options."""
        return {"address": self.address, "token": self.token, "options": dict(options)}

    def agent_env(self, options: dict[str, Any]) -> dict[str, str]:
        """Environment entry that tells a launched bootstrap how to connect.

        The token is not put in the environment itself: a process's initial
        environment stays readable in /proc/PID/environ for its whole life,
        whatever the bootstrap removes. It goes in a private file (in our 0700
        directory) that the bootstrap reads and deletes; the variable names it.
        """
        data = json.dumps(self.agent_config(options)).encode("utf-8")
        if self.directory is None or not hasattr(os, "O_NOFOLLOW"):
            return {ENV_VAR: data.decode("utf-8")}
        path = self.directory / f"agent-{os.urandom(4).hex()}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return {ENV_VAR: "@" + str(path)}

    def give_to(self, uid: int, gid: int) -> None:
        """Hand the private directory to the target's user (attaching as root to another user).

        Everything goes through the descriptor opened when the directory was
        made and never follows a link: the entries first, while the directory
        is still ours (the user cannot swap them for links yet), the directory last.
        """
        if self.directory is None:
            return
        fd = self._dir_fd
        if fd is None:
            raise CollectorError("cannot hand the session directory over safely on this system")
        for entry in os.listdir(fd):
            os.chown(entry, uid, gid, dir_fd=fd, follow_symlinks=False)
        os.fchown(fd, uid, gid)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def connected_at(self) -> float | None:
        """time.monotonic() when the agent authenticated (None before): where `--duration` counts from."""
        return self._connected_at if self._connected.is_set() else None

    def wait_connected(self, timeout: float | None = None) -> bool:
        """Block until an agent authenticated (True) or the timeout passed."""
        return self._connected.wait(timeout)

    def wait_streaming(self, timeout: float | None = None) -> bool:
        """Block until the agent's first frame (META, or END when it refused) arrived."""
        return self._streaming.wait(timeout)

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until the agent's stream ended (END or connection closed) and `on_end` was called."""
        return self._finished.wait(timeout)

    def request_stop(self) -> bool:
        """Ask the agent to stop (detach): it sends END, removes its hooks and disconnects."""
        conn = self._conn
        if conn is None or self.finished:
            return False
        try:
            conn.sendall(STOP_COMMAND + b"\n")
        except OSError:
            return False
        return True

    def close(self, background: bool = False) -> None:
        """Stop listening, drop the connection (the agent stops itself), close the recording.

        Closing appends the recording's index (seconds for a day's session). With
        `background` that runs on a worker thread (`closing`; `close_progress`,
        `on_close_progress`, `on_closed`), so a window stays responsive: every
        frame is already on disk and the file has its name before it starts. A
        plain close while that runs (the app quits) abandons the index and waits
        at most ABANDON_WAIT_S: the file stays a whole recording, indexed on first open.
        """
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        if self._thread is None or not self._thread.is_alive():
            self._close_connection()
            self._finish()
        if self.before_recording_closes is not None and self._writer is not None:
            with contextlib.suppress(Exception):
                self.before_recording_closes()
        with self._write_lock:
            writer, self._writer = self._writer, None
            if writer is not None and background:
                if self._partial_holds_data():
                    self._publish()  # the name now, not after the index (POSIX renames an open file)
                self._closing_writer = writer
                self.closing = threading.Thread(target=self._close_recording, args=(writer,), name="pyrometer-close", daemon=True)
                self.closing.start()
        if writer is not None and not background:
            self._close_recording(writer)
        elif not background and self.closing is not None and self.closing.is_alive():
            self.abandon_index()
            self.closing.join(ABANDON_WAIT_S)
            with self._write_lock:
                if self._partial_holds_data():
                    self._publish()
        elif writer is None and (self.closing is None or not self.closing.is_alive()):
            with self._write_lock:  # closed before (a failed write, a second close): settle the name as ever
                self._settle_output()
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._listener = None
        with contextlib.suppress(Exception):
            self._sel.close()
        self._remove_directory()

    def _close_recording(self, writer: RecordingWriter) -> None:
        """Append the index (the one kept while writing: the last block and its encoding) and give the file its name."""
        try:
            with contextlib.suppress(OSError):
                writer.close(index=self.index_on_close, progress=self._closed_part)  # a long recording opens fast
        finally:
            with self._write_lock:
                self._settle_output()
            self._closed_part(1.0)
            if self.on_closed is not None:
                with contextlib.suppress(Exception):
                    self.on_closed()

    def _closed_part(self, fraction: float) -> None:
        self.close_progress = fraction
        if self.on_close_progress is not None:
            with contextlib.suppress(Exception):
                self.on_close_progress(fraction)

    def abandon_index(self) -> None:
        """A background close stops short of appending the index (the file is whole without it)."""
        if self._closing_writer is not None:
            self._closing_writer.abandon_index()

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block until a background close finished the recording (True at once when none runs)."""
        if self.closing is not None:
            self.closing.join(timeout)
            return not self.closing.is_alive()
        return True

    def __enter__(self) -> Collector:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _remove_directory(self) -> None:
        if self.directory is None:
            return
        fd, self._dir_fd = self._dir_fd, None
        if fd is None:
            for entry in os.listdir(self.directory) if self.directory.is_dir() else ():
                with contextlib.suppress(OSError):
                    os.unlink(self.directory / entry)
            with contextlib.suppress(OSError):
                os.rmdir(self.directory)
            self.directory = None
            return
        # Through the descriptor: the target's user may have renamed the directory and put a
        # link in its place; we empty what we made and remove the name only if it is still it.
        try:
            with contextlib.suppress(OSError):
                for entry in os.listdir(fd):
                    with contextlib.suppress(OSError):
                        os.unlink(entry, dir_fd=fd)
            with contextlib.suppress(OSError):
                here = os.lstat(self.directory)
                mine = os.fstat(fd)
                if (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino):
                    os.rmdir(self.directory)
        finally:
            os.close(fd)
            self.directory = None

    # ------------------------------------------------------- target output
    def add_output(self, stream: str, text: str) -> None:
        """Record a piece of the target's console as an OUTPUT frame (pipe mode)."""
        start = self.meta.get("start_wall")
        if isinstance(start, (int, float)):
            t = time.time() - float(start)
        else:
            t = time.monotonic() - self._connected_at
        data = wire.json_frame(wire.OUTPUT, {"t": t, "stream": stream, "text": text})
        if not self._write(data):
            return
        self._hand_on([(wire.OUTPUT, data[wire.FRAME_HEADER_SIZE :])])

    def pump_output(
        self, pipe: IO[bytes], stream: str, echo: IO[bytes] | None = None
    ) -> threading.Thread:
        """Read the target's stdout/stderr pipe on a thread into OUTPUT frames (optionally echoing)."""

        def run() -> None:
            fd = pipe.fileno()
            decoder = codecs.getincrementaldecoder("utf-8")(
                errors="replace"
            )  # chunks split characters
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                if echo is not None:
                    with contextlib.suppress(OSError, ValueError):
                        echo.write(chunk)
                        echo.flush()
                text = decoder.decode(chunk)
                if text:
                    self.add_output(stream, text)
            tail = decoder.decode(b"", final=True)
            if tail:
                self.add_output(stream, tail)
            with contextlib.suppress(OSError):
                pipe.close()

        thread = threading.Thread(target=run, name=f"pyrometer-{stream}", daemon=True)
        thread.start()
        return thread

    @property
    def stop_reason(self) -> str | None:
        """Why the recording ended before the agent finished (a failed write, a damaged stream)."""
        if self.failure is not None:
            return self.failure
        return self.stats.problems[0] if self.stats.problems else None

    # ------------------------------------------------------------ internals
    def _write(self, data: bytes) -> bool:
        """Append to the recording; False (and the session ends) when that failed."""
        with self._write_lock:
            if self.failure is not None:
                return False
            if self._writer is not None:
                try:
                    self._writer.write_raw(data)
                    self._writer.flush()
                except OSError as exc:
                    self._write_failed(exc)
                    return False
        return True

    def _write_failed(self, exc: OSError) -> None:
        """Called with the write lock held: stop writing, keep what is whole, end the session."""
        self.failure = f"cannot write {self.output}: {exc.strerror or exc}"
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(OSError):
                writer.close()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")  # the collector thread drops the agent, which unhooks itself
        if self.on_failure is not None:
            with contextlib.suppress(Exception):
                self.on_failure(self.failure)

    def _publish(self) -> None:
        """Give the recording its real name (called with the write lock held)."""
        if self._published or self._partial is None or self.output is None:
            return
        try:
            os.replace(self._partial, self.output)
        except OSError:
            return  # e.g. Windows will not rename an open file: done at close
        self._published = True

    def _settle_output(self) -> None:
        """At close: publish a recording that holds anything; otherwise keep what was there."""
        if self._published or self._partial is None:
            return
        if self._partial_holds_data() or not self._replaces_existing:
            self._publish()
        if not self._published:
            with contextlib.suppress(OSError):
                os.unlink(self._partial)

    def _partial_holds_data(self) -> bool:
        """The recording written under a temporary name holds more than its header."""
        partial = self._partial
        return partial is not None and os.path.exists(partial) and os.path.getsize(partial) > wire.FILE_HEADER_SIZE

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # keep the recording usable whatever happened
            self.stats.problems.append(f"collector failed: {exc!r}")
        finally:
            self._close_connection()
            for pending in list(self._pending.values()):
                self._drop_pending(pending)
            self._finish()

    def _loop(self) -> None:
        while not self._stopping:
            timeout = None
            if self._pending:
                timeout = max(
                    0.0, min(p.deadline for p in self._pending.values()) - time.monotonic()
                )
            for key, _ in self._sel.select(timeout):
                tag = key.data
                if tag == "wake":
                    return
                if tag == "listen":
                    self._accept()
                elif isinstance(tag, _Pending):
                    if not self._read_handshake(tag):
                        return
                elif tag == "agent":
                    try:
                        data = self._conn.recv(RECV_SIZE) if self._conn is not None else b""
                    except OSError:
                        data = b""
                    if not data or not self._on_agent_data(data):
                        return
            now = time.monotonic()
            for pending in [p for p in self._pending.values() if p.deadline <= now]:
                self._reject(pending)

    def _on_agent_data(self, data: bytes) -> bool:
        """Append received bytes; check the stream header once, then take whole frames."""
        buf = self._buf
        buf += data
        if not self._header_seen:
            if len(buf) < wire.FILE_HEADER_SIZE:
                return True
            if wire.parse_file_header(bytes(buf[: wire.FILE_HEADER_SIZE])) is None:
                self.stats.problems.append("agent stream has a bad header")
                return False
            del buf[: wire.FILE_HEADER_SIZE]
            self._header_seen = True
        return self._take_frames(buf)

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(False)
        pending = _Pending(conn)
        self._pending[conn.fileno()] = pending
        self._sel.register(conn, selectors.EVENT_READ, pending)

    def _read_handshake(self, pending: _Pending) -> bool:
        """Read a candidate's token line; False only if the accepted agent's stream is already bad."""
        try:
            data = pending.conn.recv(MAX_HANDSHAKE)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            data = b""
        if not data:
            self._reject(pending)
            return True
        pending.buf += data
        if b"\n" not in pending.buf:
            if len(pending.buf) > MAX_HANDSHAKE:
                self._reject(pending)
            return True
        line, _, rest = bytes(pending.buf).partition(b"\n")
        expected = HANDSHAKE + self.token.encode("ascii")
        if self._conn is not None or not _same_token(line, expected):
            self._reject(pending)
            return True
        self._drop_pending(pending, close=False)
        return self._take_agent(pending.conn, rest)

    def _take_agent(self, conn: socket.socket, rest: bytes) -> bool:
        """The token matched: this is our agent. Stop listening and read its stream."""
        self._conn = conn
        self._connected_at = time.monotonic()
        if self._listener is not None:
            self._sel.unregister(self._listener)
            self._listener.close()
            self._listener = None
            if self.address.startswith("unix:"):
                with contextlib.suppress(OSError):
                    if self._dir_fd is not None:  # not by path: the directory may be the target user's now
                        os.unlink(os.path.basename(self.address[5:]), dir_fd=self._dir_fd)
                    else:
                        os.unlink(self.address[5:])
        conn.setblocking(True)
        self._sel.register(conn, selectors.EVENT_READ, "agent")
        self._connected.set()
        return self._on_agent_data(rest) if rest else True

    def _reject(self, pending: _Pending) -> None:
        self.stats.rejected += 1
        self._drop_pending(pending)

    def _drop_pending(self, pending: _Pending, close: bool = True) -> None:
        self._pending.pop(pending.conn.fileno(), None)
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(pending.conn)
        if close:
            with contextlib.suppress(OSError):
                pending.conn.close()

    def _take_frames(self, buf: bytearray) -> bool:
        """Write every complete frame in buf verbatim, queue them decoded; False on corruption."""
        pos = 0
        end = len(buf)
        frames: Frames = []
        ok = True
        head = wire.FRAME_HEADER
        view = memoryview(buf)
        try:
            while pos + wire.FRAME_HEADER_SIZE <= end:
                length, kind, flags, crc = head.unpack_from(view, pos)
                start = pos + wire.FRAME_HEADER_SIZE
                if length > wire.MAX_PAYLOAD:
                    self.stats.problems.append(f"agent sent a frame claiming {length} bytes")
                    ok = False
                    break
                if start + length > end:
                    break
                payload = bytes(view[start : start + length])
                if wire.frame_crc(kind, flags, payload) != crc:
                    self.stats.problems.append("agent sent a frame with a bad checksum")
                    ok = False
                    break
                frames.append((kind, payload))
                pos = start + length
            if pos:
                if not self._write(bytes(view[:pos])):
                    return False  # the file holds none of these frames: they are not counted
                self.stats.bytes += pos
                for kind, payload in frames:
                    self._count(kind, payload)
        finally:
            view.release()
        if pos:
            del buf[:pos]
            with self._write_lock:
                if self.failure is None:
                    self._publish()
        if frames:
            self._streaming.set()
            self._hand_on(frames)
        return ok

    def _hand_on(self, frames: Frames) -> None:
        """Give written frames to `on_frames` (which only queues them)."""
        if self.on_frames is not None:
            try:
                self.on_frames(frames)
            except Exception as exc:
                self.stats.problems.append(f"consumer failed: {exc!r}")

    def _count(self, kind: int, payload: bytes) -> None:
        stats = self.stats
        stats.frames += 1
        name = wire.describe(kind)
        stats.by_kind[name] = stats.by_kind.get(name, 0) + 1
        if kind == wire.SAMPLES and len(payload) >= 4:
            stats.samples += int.from_bytes(payload[:4], "little")
        elif kind == wire.META:
            with contextlib.suppress(ValueError):
                self.meta = dict(wire.decode_json(payload))
        elif kind == wire.END:
            with contextlib.suppress(ValueError):
                self.end = dict(wire.decode_json(payload))
        elif kind == wire.NOTICE:
            with contextlib.suppress(ValueError):
                self.notices.append(dict(wire.decode_json(payload)))

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(conn)
            with contextlib.suppress(OSError):
                conn.close()
        with self._write_lock:
            if self._writer is not None:
                self._writer.flush()

    def _finish(self) -> None:
        """The stream is over: tell `on_end` once, then wake whoever waits in wait_finished."""
        self._streaming.set()
        with self._end_lock:
            if self._end_told:
                return
            self._end_told = True
        if self.on_end is not None:
            try:
                self.on_end(self.end)
            except Exception as exc:
                self.stats.problems.append(f"end callback failed: {exc!r}")
        self._finished.set()
