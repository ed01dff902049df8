"""Read JSON profile files safely: gzip-aware, bounded in size and nesting, one-line errors.

Every JSON importer goes through here so that a hostile or broken file ends
as a `FormatError` naming the file, never a traceback, a hang or a memory
blow-up. orjson is used when importable (it is several times faster on large
profiles and bounds nesting itself at 1024 levels); the standard library
`json` is the fallback, guarded by a vectorised nesting-depth check.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from pyrometer.core.formats.registry import FormatError

_orjson: Any
try:  # optional accelerator; see pyproject's dependency note
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only without orjson
    _orjson = None

# A decompressed profile larger than this is refused rather than risking the
# machine's memory (a gzip "bomb" is a few KB on disk).
MAX_BYTES = 4 * 1024**3
# Deeper JSON than this is not a profile; orjson stops at 1024 by itself.
MAX_DEPTH = 1024
_CHUNK = 1 << 20


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The whole file as bytes, gunzipped when it starts with the gzip magic."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise FormatError(f"{path}: is a directory, not a profile")
    if not stat.S_ISREG(st.st_mode):
        # FIFOs, sockets and devices could block forever or never end.
        raise FormatError(f"{path}: not a regular file")
    if st.st_size > max_bytes:
        raise FormatError(f"{path}: file too large ({st.st_size} bytes)")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(min(max_bytes, st.st_size) + 1)  # not a max_bytes buffer up front
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(raw) > max_bytes:
        raise FormatError(f"{path}: file too large")
    if raw[:2] == b"\x1f\x8b":
        return _gunzip(raw, path, max_bytes)
    return raw


def _gunzip(raw: bytes, path: Path, max_bytes: int) -> bytes:
    """Decompress all gzip members; a bomb is refused before its output is kept (see `bounded`)."""
    from pyrometer.core.formats import bounded

    return bounded.gunzip(raw, path, max_bytes)


def parse_json(data: bytes, path: Path) -> Any:
    """Parse JSON bytes; every failure becomes a FormatError naming `path`."""
    if not data.strip():
        raise FormatError(f"{path}: file is empty")
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError as exc:
            msg = str(exc)
            if "depth" in msg or "recursion" in msg:
                raise FormatError(f"{path}: JSON nested too deeply (over {MAX_DEPTH} levels)") from exc
            raise FormatError(f"{path}: invalid JSON ({msg})") from exc
    depth = nesting_depth(data)
    if depth > MAX_DEPTH:
        raise FormatError(f"{path}: JSON nested too deeply ({depth} levels, at most {MAX_DEPTH})")
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise FormatError(f"{path}: JSON nested too deeply") from exc
    except (ValueError, UnicodeError) as exc:
        raise FormatError(f"{path}: invalid JSON ({exc})") from exc


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def nesting_depth(data: bytes) -> int:
    """Deepest [ / { nesting outside strings (exact for valid JSON), in vectorised passes.

    The standard library parser recurses once per level; checking first keeps a
    100,000-deep file from ever reaching it.
    """
    import numpy as np

    codes = np.frombuffer(_JSON_STRING.sub(b"", data), np.uint8)
    step = np.zeros(len(codes), np.int32)
    step[(codes == 0x5B) | (codes == 0x7B)] = 1
    step[(codes == 0x5D) | (codes == 0x7D)] = -1
    return int(np.cumsum(step).max(initial=0))


def load_json(path: Path) -> Any:
    """`read_bytes` + `parse_json`."""
    return parse_json(read_bytes(path), path)


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (orjson when available)."""
    if _orjson is not None:
        return _orjson.dumps(obj)
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    """Write a file, gzip-compressed when its name ends in `.gz`."""
    if path.name.lower().endswith(".gz"):
        import gzip

        data = gzip.compress(data, compresslevel=6)
    with open(path, "wb") as fh:
        fh.write(data)
