"""The event stream: message types and their byte encoding (spec in docs/format.md).

This module is the single definition of the stream. The agent encodes with it
(standard library only, Python 3.9+), the collector writes its frames verbatim
to the recording file, and `pyrometer.core.formats.recording` decodes them with numpy.

Layout: a 16-byte file header, then frames. A frame is a 12-byte header
``<u32 payload length, u16 type, u16 flags, u32 crc32>`` followed by the
payload; the CRC covers the type, flags and payload bytes. Batches are packed
little-endian columns; rare messages are UTF-8 JSON.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from array import array

TYPE_CHECKING = False  # typing stays unimported in the target (start-up cost); mypy knows the name
if TYPE_CHECKING:
    from typing import Any, Iterable, List, Optional, Sequence, Tuple

MAGIC = b"PYROMETR"
FORMAT_VERSION = 1
FILE_HEADER = struct.Struct("<8sHHI")  # magic, version, header size, reserved
FRAME_HEADER = struct.Struct("<IHHI")  # payload length, type, flags, crc32
FILE_HEADER_SIZE = FILE_HEADER.size  # 16
FRAME_HEADER_SIZE = FRAME_HEADER.size  # 12
MAX_PAYLOAD = 256 * 1024 * 1024  # a larger length is corruption, never an allocation

# Message types. New types may be added; readers skip types they do not know.
META = 1  # JSON object: session metadata
FRAMES = 2  # JSON list of [id, file, line, function, firstline]
STACKS = 3  # packed: u32 n, u32 first_id, i32 parent[n], i32 frame[n]
THREADS = 4  # JSON list of [thread_id, name, native_id]
SAMPLES = 5  # packed: u32 n, u32 0, f64 time, i32 thread, i32 stack, i32 task, f32 weight, f32 cpu
LAG = 6  # packed: u32 n, u32 0, f64 time, i32 loop, f32 lag_s
BLOCKING = 7  # JSON object: start, duration, loop, thread, stack, task, callback
TASKS_CREATED = 8  # JSON list of {id, parent, name, coro, loop, t}
TASKS_FINISHED = 9  # JSON list of {id, t, state, exc}
TASK_AWAIT = 10  # packed: f64 t, u32 n, u32 0, i32 task[n], i32 stack[n]
FUNC_STATS = 11  # JSON object: cumulative yappi / deterministic statistics
TELEMETRY = 12  # JSON object: agent counters
END = 13  # JSON object: t, exit_status, reason
NOTICE = 14  # JSON object: t, level, message
OUTPUT = 15  # JSON object: t, stream, text (target's console, written by the collector)
LOOPS = 16  # JSON list of [loop_id, thread_id, description]
TASKS_NEW = 17  # packed: u32 n, u32 0, f64 t, i32 id, i32 parent, i32 loop, strings name, strings coro
TASKS_END = 18  # packed: u32 n, u32 0, f64 t, i32 id, f64 cpu_s, running_s, waiting_s, delayed_s, u8 state, strings exc
TASK_STATES = ("done", "cancelled", "failed")  # u8 codes of TASKS_END's state column
TASK_SPANS = 19  # packed: u32 n, u32 0, f64 start, f64 end, i32 task, u8 state (0 running, 1 delayed)
INDEX = 20  # per-chunk aggregates and the profile's shell, last frame of a closed recording (formats/recording_index.py)
TASK_AWAITERS = 21  # JSON list of [t, task, awaiter]: a task seen awaited by several tasks, each pair once
TASK_SAMPLING = 22  # JSON object: t, loop, every, rate, recorded, unrecorded {coro: n} (cumulative), periods
EXACT_SAMPLES = 23  # packed: u32 n, u32 0, f64 weight[n], f64 cpu[n]: those of the SAMPLES frame right after it, exactly

NAMES = {
    META: "meta",
    FRAMES: "frames",
    STACKS: "stacks",
    THREADS: "threads",
    SAMPLES: "samples",
    LAG: "lag",
    BLOCKING: "blocking",
    TASKS_CREATED: "tasks_created",
    TASKS_FINISHED: "tasks_finished",
    TASK_AWAIT: "task_await",
    FUNC_STATS: "func_stats",
    TELEMETRY: "telemetry",
    END: "end",
    NOTICE: "notice",
    OUTPUT: "output",
    LOOPS: "loops",
    TASKS_NEW: "tasks_new",
    TASKS_END: "tasks_end",
    TASK_SPANS: "task_spans",
    INDEX: "index",
    TASK_AWAITERS: "task_awaiters",
    TASK_SAMPLING: "task_sampling",
    EXACT_SAMPLES: "exact_samples",
}

_LITTLE = sys.byteorder == "little"
_COUNT = struct.Struct("<II")
_AWAIT_HEAD = struct.Struct("<dII")


def file_header() -> bytes:
    """The 16 bytes every recording (and every agent stream) starts with."""
    return FILE_HEADER.pack(MAGIC, FORMAT_VERSION, FILE_HEADER_SIZE, 0)


def frame(kind: int, payload: bytes, flags: int = 0) -> bytes:
    """One framed message: header with length, type, flags and CRC32, then payload."""
    head = struct.pack("<HH", kind, flags)
    crc = zlib.crc32(payload, zlib.crc32(head)) & 0xFFFFFFFF
    return FRAME_HEADER.pack(len(payload), kind, flags, crc) + payload


def frame_crc(kind: int, flags: int, payload: bytes) -> int:
    """CRC32 of a frame as stored in its header (used by readers to verify)."""
    return zlib.crc32(payload, zlib.crc32(struct.pack("<HH", kind, flags))) & 0xFFFFFFFF


def json_frame(kind: int, obj: Any) -> bytes:
    """Frame a JSON-encoded message."""
    return frame(kind, json.dumps(obj, separators=(",", ":")).encode("utf-8"))


_PACKED_BY_STRUCT = frozenset("diI")  # struct converts these ~5x faster than array() (per-item PyArg_Parse)


def _column(typecode: str, values: Iterable[Any]) -> bytes:
    if typecode in _PACKED_BY_STRUCT:
        # task events of a task-heavy program are packed in the sampler's thread: every
        # microsecond per row there is taken from the program's threads (the GIL)
        items = values if isinstance(values, (list, tuple)) else list(values)
        return struct.pack("<%d%s" % (len(items), typecode), *items)
    col = array(typecode, values)  # "f": array() makes a too-large float inf where struct would raise
    if not _LITTLE:
        col.byteswap()
    return col.tobytes()


def stacks_frame(first_id: int, parents: Sequence[int], frames: Sequence[int]) -> bytes:
    """Define stacks first_id.. as (parent stack, frame) pairs; ids are dense."""
    n = len(parents)
    payload = _COUNT.pack(n, first_id) + _column("i", parents) + _column("i", frames)
    return frame(STACKS, payload)


def samples_frame(
    times: Sequence[float],
    threads: Sequence[int],
    stacks: Sequence[int],
    tasks: Sequence[int],
    weights: Sequence[float],
    cpu: Sequence[float],
) -> bytes:
    """A batch of samples as packed columns (cpu is -1 where unknown)."""
    n = len(times)
    payload = b"".join(
        (
            _COUNT.pack(n, 0),
            _column("d", times),
            _column("i", threads),
            _column("i", stacks),
            _column("i", tasks),
            _column("f", weights),
            _column("f", cpu),
        )
    )
    return frame(SAMPLES, payload)


def lag_frame(times: Sequence[float], loops: Sequence[int], lags: Sequence[float]) -> bytes:
    """A batch of event-loop lag probes: when each probe woke and how late it was."""
    payload = _COUNT.pack(len(times), 0) + _column("d", times) + _column("i", loops) + _column("f", lags)
    return frame(LAG, payload)


def task_await_frame(t: float, tasks: Sequence[int], stacks: Sequence[int]) -> bytes:
    """Where each pending task was waiting at time t (stack of its coroutine chain)."""
    payload = _AWAIT_HEAD.pack(t, len(tasks), 0) + _column("i", tasks) + _column("i", stacks)
    return frame(TASK_AWAIT, payload)


def _strings(values: Sequence[str]) -> bytes:
    """Packed strings: u32 byte length of each, then their UTF-8 bytes back to back."""
    joined = "".join(values)
    if joined.isascii():  # the usual case, at C speed: one character is one byte
        return _column("I", map(len, values)) + joined.encode("ascii")
    encoded = [v.encode("utf-8", "replace") for v in values]
    return _column("I", map(len, encoded)) + b"".join(encoded)


def tasks_new_frame(
    times: Sequence[float], ids: Sequence[int], parents: Sequence[int], loops: Sequence[int],
    names: Sequence[str], coros: Sequence[str],
) -> bytes:
    """Tasks created: when, id, parent id (-1 none or unknown), loop, name, coroutine name.

    Packed rather than JSON: a program may create 100,000 tasks a second, and a
    JSON row costs the target ~2 us to encode where packed columns cost ~0.1.
    """
    payload = b"".join(
        (_COUNT.pack(len(ids), 0), _column("d", times), _column("i", ids), _column("i", parents),
         _column("i", loops), _strings(names), _strings(coros))
    )
    return frame(TASKS_NEW, payload)


def tasks_end_frame(
    times: Sequence[float], ids: Sequence[int], cpu: Sequence[float], running: Sequence[float],
    waiting: Sequence[float], delayed: Sequence[float], states: Sequence[int], excs: Sequence[str],
) -> bytes:
    """Tasks finished: when, id, per-task seconds (NaN unknown), state code (TASK_STATES), exception name."""
    payload = b"".join(
        (_COUNT.pack(len(ids), 0), _column("d", times), _column("i", ids), _column("d", cpu),
         _column("d", running), _column("d", waiting), _column("d", delayed), bytes(bytearray(states)),
         _strings(excs))
    )
    return frame(TASKS_END, payload)


def task_spans_frame(
    starts: Sequence[float], ends: Sequence[float], tasks: Sequence[int], states: Sequence[int]
) -> bytes:
    """Stretches of a task's life at least 1 ms long: running (0) or ready but delayed (1)."""
    payload = b"".join(
        (_COUNT.pack(len(tasks), 0), _column("d", starts), _column("d", ends), _column("i", tasks),
         bytes(bytearray(states)))
    )
    return frame(TASK_SPANS, payload)


def frames_frame(rows: List[Tuple[int, str, int, str, int]]) -> bytes:
    """Frame definitions: [id, file, line, function, firstline]; ids are dense."""
    return json_frame(FRAMES, rows)


def parse_file_header(data: bytes) -> Optional[int]:
    """Return the format version if data starts with a valid file header, else None."""
    if len(data) < FILE_HEADER_SIZE:
        return None
    magic, version, size, _ = FILE_HEADER.unpack_from(data, 0)
    if magic != MAGIC or size < FILE_HEADER_SIZE:
        return None
    return int(version)


def iter_frames(data: bytes, offset: int = FILE_HEADER_SIZE) -> Iterable[Tuple[int, int, bytes]]:
    """Yield (kind, flags, payload) for each intact frame; stop at the first bad one.

    A small stdlib-only reader used by the agent's own tests and by tools that
    must not depend on numpy. The full reader is pyrometer.core.formats.recording.
    """
    end = len(data)
    while offset + FRAME_HEADER_SIZE <= end:
        length, kind, flags, crc = FRAME_HEADER.unpack_from(data, offset)
        start = offset + FRAME_HEADER_SIZE
        if length > MAX_PAYLOAD or start + length > end:
            return
        payload = bytes(data[start : start + length])
        if frame_crc(kind, flags, payload) != crc:
            return
        yield kind, flags, payload
        offset = start + length


def decode_json(payload: bytes) -> Any:
    """Decode a JSON message payload."""
    return json.loads(payload.decode("utf-8"))


def describe(kind: int) -> str:
    """Readable name of a message type (for errors and `stats`)."""
    return NAMES.get(kind, "unknown(%d)" % kind)

