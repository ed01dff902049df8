"""Gzip input is bounded: bombs are refused before their output is kept; damage is named as such.

Issue 11 item 5 (a 4 MB .json.gz reached 8 GB; a 6 MB .collapsed.gz 10 GB; a
callgrind .gz had no cap) and the gzip part of item 11 (a corrupt or
truncated gzip was reported as "file is empty").
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest

from pyrometer.core.formats import bounded
from pyrometer.core.formats.registry import FormatError, load_profile


def _bomb(first: bytes, filler: bytes, total: int) -> bytes:
    chunk = filler * ((1 << 20) // len(filler))
    member = gzip.compress(chunk, 9)
    return gzip.compress(first) + member * (total // len(chunk) + 1)


BOMBS = {
    "bomb.json.gz": (b'{"traceEvents":[', b" "),
    "bomb.collapsed.gz": (b"main;f 1\n", b"main;f 1\n"),
    "callgrind.out.1.gz": (b"# callgrind format\nevents: Ir\nfn=main\n", b"\n"),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_bomb_is_refused_before_its_output_is_kept(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounded, "MIN_ALLOWED", 4 << 20)  # a small bound keeps the test quick
    path = tmp_path / name
    first, filler = BOMBS[name]
    path.write_bytes(_bomb(first, filler, 64 << 20))  # ~64 KB expanding to 64 MB: over 128x and 4 MB
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match=r"gzip data expands beyond [0-9.]+ MB") as err:
            load_profile(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(path) in str(err.value)
    assert peak < 16 << 20, peak  # never the whole expansion in memory


def test_the_default_bound_is_a_gigabyte_and_proportional_below() -> None:
    assert bounded.expansion_limit(100) == bounded.MIN_ALLOWED
    assert bounded.expansion_limit(2 << 20) == 256 << 20
    assert bounded.expansion_limit(1 << 30) == 1 << 30
    assert bounded.describe_size(1 << 30) == "1 GB"


def test_real_gzip_still_loads_including_several_members(tmp_path: Path) -> None:
    events = [{"ph": "X", "name": f"f{i % 3}", "pid": 1, "tid": 1, "ts": i * 10, "dur": 5} for i in range(300)]
    data = json.dumps({"traceEvents": events}).encode()
    path = tmp_path / "two.trace.json.gz"
    path.write_bytes(gzip.compress(data[:1000]) + gzip.compress(data[1000:]) + b"\x00\x00")
    assert load_profile(path).sample_count > 0
    folded = tmp_path / "f.collapsed.gz"
    folded.write_bytes(gzip.compress(b"main;a 3\nmain;b 2\n"))
    assert load_profile(folded).sample_count > 0


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("garbage.json.gz", b"\x1f\x8b" + bytes(range(7, 250)), "corrupt gzip data"),
        ("cut.json.gz", gzip.compress(json.dumps({"traceEvents": [{"ph": "X", "ts": i} for i in range(3000)]}).encode(), mtime=0)[:300], "truncated gzip data"),
        ("header.collapsed.gz", gzip.compress(b"main;f 1\n" * 100, mtime=0)[:10], "truncated gzip data"),
        ("tail.collapsed.gz", gzip.compress(b"main;f 1\n" * 100, mtime=0) + b"junk", "corrupt gzip data"),
        ("cut.callgrind.gz", gzip.compress(b"# callgrind format\nevents: Ir\nfn=main\n1 5\n" * 200, mtime=0)[:-30], "truncated gzip data"),
    ],
)
def test_damaged_gzip_is_named_not_called_empty(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(FormatError) as err:
        load_profile(path)
    assert reason in str(err.value) and "empty" not in str(err.value), str(err.value)
