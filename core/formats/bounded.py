"""Gzip input with a bound: a decompression bomb is refused before anything is allocated for it.

A few KB of gzip can expand to gigabytes (4 MB of `.json.gz` once took 8 GB
of memory; 4 MB of newlines in a callgrind `.gz` would parse for 48 minutes).
Before a reader decompresses for real, `check_gzip` streams through the data
once, counting without keeping anything (zlib's C speed, ~1 s a GB), and
refuses data that expands beyond `expansion_limit`: at most MAX_EXPANDED,
and beyond MIN_ALLOWED at most MAX_RATIO times the compressed size (real
profiles compress 4-50x). So the work a reader does stays proportional to the
file a user has, never to what an attacker can fold into it. Damaged or
truncated gzip gets its own message (it used to be "file is empty").
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from pyrometer.core.formats.registry import FormatError

MAX_EXPANDED = 1 << 30  # 1 GiB of text is far more than any view can show
MIN_ALLOWED = 64 << 20  # small files may expand this much whatever their ratio
MAX_RATIO = 128
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def expansion_limit(compressed_size: int) -> int:
    """How many bytes `compressed_size` bytes of gzip may expand to."""
    return min(MAX_EXPANDED, max(MIN_ALLOWED, MAX_RATIO * compressed_size))


def describe_size(n: int) -> str:
    return f"{n / (1 << 30):.3g} GB" if n >= 1 << 30 else f"{n / (1 << 20):.3g} MB"


def _members(chunks: Iterator[bytes], path: Path, limit: int) -> Iterator[bytes]:
    """Decompressed pieces of every gzip member in `chunks`; FormatError past `limit` or on damage."""
    d: zlib._Decompress | None = None  # the member being read; None between members
    total = 0
    buf = b""
    try:
        for chunk in chunks:
            buf += chunk  # buf is empty or a 1-byte remainder here
            while buf:
                if d is None:
                    buf = buf.lstrip(b"\x00")  # padding between or after members
                    if len(buf) < 2:
                        break
                    if buf[:2] != GZIP_MAGIC:
                        raise FormatError(f"{path}: corrupt gzip data (garbage after the compressed data)")
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out = d.decompress(buf, _CHUNK)
                total += len(out)
                if total > limit:
                    raise FormatError(
                        f"{path}: gzip data expands beyond {describe_size(limit)}; refusing to load it"
                        " (a decompression bomb?)"
                    )
                if out:
                    yield out
                if d.eof:
                    buf, d = d.unused_data, None
                else:
                    buf = d.unconsumed_tail  # empty: it needs more input
    except zlib.error as exc:
        raise FormatError(f"{path}: corrupt gzip data ({exc})") from None
    if d is not None:
        raise FormatError(f"{path}: truncated gzip data (the file ends inside the compressed stream)")
    if buf.strip(b"\x00"):
        raise FormatError(f"{path}: corrupt gzip data (garbage after the compressed data)")


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                return
            yield chunk


def _bytes_chunks(raw: bytes) -> Iterator[bytes]:
    for i in range(0, len(raw), _CHUNK):
        yield raw[i : i + _CHUNK]


def check_gzip(path: Path, raw: bytes | None = None, limit: int | None = None) -> int:
    """Stream through gzip data (the file, or `raw`) without keeping it; its expanded size.

    Raises FormatError when it expands beyond the limit, is damaged or truncated.
    """
    size = len(raw) if raw is not None else os.path.getsize(path)
    bound = expansion_limit(size) if limit is None else limit
    chunks = _bytes_chunks(raw) if raw is not None else _file_chunks(path)
    return sum(len(piece) for piece in _members(chunks, path, bound))


def gunzip(raw: bytes, path: Path, limit: int | None = None) -> bytes:
    """All members of `raw` decompressed, after `check_gzip` said it is safe to keep them."""
    bound = expansion_limit(len(raw)) if limit is None else min(limit, expansion_limit(len(raw)))
    check_gzip(path, raw, bound)
    return b"".join(_members(_bytes_chunks(raw), path, bound))
