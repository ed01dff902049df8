"""Austin's binary MOJO format (`austin -b`), versions 1 to 3 (Austin 3.x): import.

The layout follows austin-python's reader (austin/format/mojo.py), the format's
reference: `MOJ`, a version varint, then events, each a byte id and fields.
A varint's first byte holds 6 value bits, a sign bit (0x40) and a
continuation bit (0x80); later bytes 7 bits and a continuation bit. Strings
end with a NUL. Events read here:

    1 METADATA key, value        2 STACK pid, [iid (v3)], thread  -- starts a sample
    3 FRAME key, file ref, scope ref, line, [line_end, col, col_end (v2+)]
    4 INVALID frame   5 FRAME_REF key   6 KERNEL frame name   7 GC   8 IDLE
    9 METRIC_TIME value   10 METRIC_MEMORY value   11 STRING key, value   12 STRING_REF key

String and frame keys are per process (the last STACK's pid); string key 1
means "unknown". Later versions add stack-repeat and asyncio task events whose
meaning depends on reader state; rather than guess, such files are refused
with one line. Samples become the same rows as the text format and go through
`austin.build_profile`, so modes, sample types and thread naming agree.
Invalid and kernel frames, which austin-python drops from MOJO samples,
become `INVALID` and `[kernel] name` frames here so no stack is silently cut.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import cast

from pyrometer.core.formats import austin, jsonload
from pyrometer.core.formats.registry import FormatError, Importer, ProgressFn
from pyrometer.core.model import Profile

MAX_VERSION = 3
Frame = tuple[str, str, int]


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def fail(self, what: str) -> FormatError:
        return FormatError(f"{self.path}: not a valid MOJO file ({what} at byte {self.pos})")

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("truncated")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def int(self) -> int:
        b = self.byte()
        n, shift, sign = b & 0x3F, 6, b & 0x40
        while b & 0x80:
            if shift > 70:
                raise self.fail("varint too long")
            b = self.byte()
            n |= (b & 0x7F) << shift
            shift += 7
        return -n if sign else n

    def string(self) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise self.fail("unterminated string")
        text = self.data[self.pos : end].decode("utf-8", errors="replace")
        self.pos = end + 1
        return text


def _sniff(head: bytes, path: Path) -> bool:
    return head[:3] == b"MOJ" and len(head) > 3


def _parse(data: bytes, path: Path) -> tuple[dict[str, str], list[austin.Row]]:
    r = _Reader(data, path)
    if data[:3] != b"MOJ":
        raise FormatError(f"{path}: not a MOJO file (no MOJ header)")
    r.pos = 3
    version = r.int()
    if not 1 <= version <= MAX_VERSION:
        raise FormatError(f"{path}: MOJO version {version} is not supported (this reader knows versions 1-{MAX_VERSION}, Austin 3.x)")
    meta: dict[str, str] = {}
    rows: list[austin.Row] = []
    strings: dict[tuple[int, int], str] = {}
    frames: dict[tuple[int, int], Frame] = {}
    current: tuple[tuple[str, str, str], list[Frame], dict[str, int], list[bool]] | None = None
    pid = 0

    def finish() -> None:
        if current is None:
            return
        thread, stack, metrics, idle = current
        mode = meta.get("mode", "wall")
        if mode == "full":
            values = [metrics.get("time", 0), 1 if idle[0] else 0, metrics.get("memory", 0)]
        elif mode == "memory":
            values = [metrics.get("memory", 0)]
        else:
            values = [metrics.get("time", 0)]
        key: Hashable = tuple(stack)
        rows.append((thread, key, values))

    def text(key: int) -> str:
        if key == 1:
            return "<unknown>"
        value = strings.get((pid, key))
        if value is None:
            raise r.fail(f"reference to undefined string {key}")
        return value

    while r.pos < len(data):
        event = r.byte()
        if event == 1:
            k, v = r.string(), r.string()
            meta[k] = v
        elif event == 2:
            finish()
            pid = r.int()
            iid = r.int() if version >= 3 else 0
            current = ((str(pid), str(iid), r.string()), [], {}, [False])
        elif event == 11:
            string_key = r.int()
            strings[(pid, string_key)] = r.string()
        elif event == 3:
            key, file_ref, scope_ref, line = r.int(), r.int(), r.int(), r.int()
            if version >= 2:
                r.int(), r.int(), r.int()
            frames[(pid, key)] = (text(scope_ref), text(file_ref), line if 0 <= line < 2**31 else 0)
        elif event in (4, 5, 6, 7, 8, 9, 10, 12):
            if current is None:
                raise r.fail(f"event {event} before any stack")
            if event == 5:
                ref = r.int()
                fr = frames.get((pid, ref))
                if fr is None:
                    raise r.fail(f"reference to undefined frame {ref}")
                current[1].append(fr)
            elif event == 4:
                current[1].append(("INVALID", "", 0))
            elif event == 6:
                current[1].append((f"[kernel] {r.string()}", "", 0))
            elif event == 8:
                current[3][0] = True
            elif event == 9:
                current[2]["time"] = r.int()
            elif event == 10:
                current[2]["memory"] = r.int()
            elif event == 12:
                text(r.int())
            # 7 (GC) only flags the sample
        else:
            raise r.fail(f"unknown event {event}")
    finish()
    return meta, rows


def _load_type(path: Path, progress: ProgressFn | None, sample_type: str | None) -> Profile:
    meta, rows = _parse(jsonload.read_bytes(path), path)
    if progress:
        progress(0.5)
    return austin.build_profile(path, meta, rows, _frames_of, sample_type, "austin")


def _frames_of(key: Hashable, where: str) -> list[Frame]:
    return list(cast(tuple[Frame, ...], key))


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    return _load_type(path, progress, None)


def _load_sample_type(path: Path, progress: ProgressFn | None, sample_type: str) -> Profile:
    return _load_type(path, progress, sample_type)


IMPORTER = Importer("austin_mojo", "Austin MOJO", (".mojo",), _sniff, _load, _load_sample_type)
