"""Austin text files written by austin 3.7 itself, read against austin-python's figures.

tools/make_format_fixtures_16.py wrote the fixtures and `*.expected.json`
(AustinFileReader's sample count, total and self time per leaf function).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from format_errors import expect_format_error
from leaf_sums import load_against_figures, self_by_leaf

from pyrometer.core.formats.registry import FormatError, load_profile
from pyrometer.core.model import Profile

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "austin"


def self_by_function(profile: Profile) -> dict[str, float]:
    """Sample weight per leaf `function file` (samples without a stack count nowhere)."""
    return self_by_leaf(profile)


@pytest.mark.parametrize("name", ["wall", "full"])
def test_austin_file_matches_austin_python(name: str) -> None:
    path = FIX / f"{name}.austin"
    profile, expected = load_against_figures(path, FIX / f"{name}.expected.json", "austin")
    assert len(profile.threads) == expected["threads"]
    assert float(profile.samples["weight"].sum(dtype=np.float64)) == pytest.approx(expected["total_us"] * 1e-6, rel=1e-6)
    selfs = self_by_function(profile)
    want = {k: v * 1e-6 for k, v in expected["self_us"].items() if v}
    # austin-python names the frame of a failed sample "INVALID" with no file: so do we
    assert selfs == pytest.approx(want, rel=1e-6)
    assert max(selfs, key=selfs.__getitem__) == max(want, key=want.__getitem__) == "hot /tmp/pyrometer-fixtures-16/work.py"


def test_full_mode_offers_cpu_and_memory() -> None:
    path = FIX / "full.austin"
    wall = load_profile(path)
    assert wall.meta["sample_types"] == ["wall/microseconds", "cpu/microseconds", "memory/bytes"]
    rows = [line.rpartition(" ")[2].split(",") for line in path.read_text().splitlines() if line.startswith("P")]
    busy_us = sum(int(t) for t, idle, _ in rows if idle == "0")
    mem = sum(int(m) for *_, m in rows)
    assert float(wall.samples["cpu"].sum(dtype=np.float64)) == pytest.approx(busy_us * 1e-6, rel=1e-6)
    cpu = load_profile(path, sample_type="cpu")
    assert float(cpu.samples["weight"].sum(dtype=np.float64)) == pytest.approx(busy_us * 1e-6, rel=1e-6)
    memory = load_profile(path, sample_type="memory")
    assert memory.unit == "samples" and float(memory.samples["weight"].sum(dtype=np.float64)) == pytest.approx(mem, rel=1e-6)


def test_wall_file_has_one_sample_type() -> None:
    with pytest.raises(FormatError, match="no sample type 'memory'; this file has wall/microseconds"):
        load_profile(FIX / "wall.austin", sample_type="memory")


def test_colons_in_file_names_and_empty_stacks(tmp_path: Path) -> None:
    path = tmp_path / "x.austin"
    path.write_text("# austin: 3.7.0\n# mode: wall\n\nP1;T0:7;C:\\app\\m.py:main:3;C:\\app\\m.py:f:9 300\nP1;T0:7 100\n")
    profile = load_profile(path)
    assert [profile.func_file[f] for f in range(len(profile.func_name))] == ["C:\\app\\m.py", "C:\\app\\m.py"]
    assert profile.func_name == ["main", "f"]
    assert float(profile.samples["weight"].sum()) == pytest.approx(400e-6)


@pytest.mark.parametrize(
    "text",
    [
        "# austin: 3.7.0\nP1;T0:7;a.py:f:1 notanumber\n",
        "# austin: 3.7.0\n# mode: full\nP1;T0:7;a.py:f:1 5\n",
        "# austin: 3.7.0\n# mode: weird\nP1;T0:7;a.py:f:1 5\n",
        "# austin: 3.7.0\nP1;T0:7;nocolons 5\n",
        "# austin: 3.7.0\nP1;T0:7;a.py:f:1 99999999999999999999999\n",
    ],
)
def test_bad_austin_is_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.austin"
    path.write_text(text)
    expect_format_error(path)


def test_mojo_matches_austin_python() -> None:
    """austin -b -f, read against austin-python's MojoStreamReader (full_mojo.expected.json)."""
    path = FIX / "full.mojo"
    profile, expected = load_against_figures(path, FIX / "full_mojo.expected.json", "austin_mojo")
    assert float(profile.samples["weight"].sum(dtype=np.float64)) == pytest.approx(expected["total_us"] * 1e-6, rel=1e-6)
    want = {k: v * 1e-6 for k, v in expected["self_us"].items() if v}
    selfs = self_by_function(profile)
    assert selfs == pytest.approx(want, rel=1e-6)
    assert max(selfs, key=selfs.__getitem__) == "hot /tmp/pyrometer-fixtures-16/work.py"
    assert profile.meta["sample_types"] == ["wall/microseconds", "cpu/microseconds", "memory/bytes"]
    assert load_profile(path, sample_type="memory").unit == "samples"


def _mojo_int(n: int) -> bytes:
    """MOJO varint (austin-python's to_varint): 6 bits + sign + more in the first byte."""
    out = bytearray()
    first = 0x40 if n < 0 else 0
    n = abs(n)
    first |= n & 0x3F
    n >>= 6
    out.append(first | (0x80 if n else 0))
    while n:
        out.append((n & 0x7F) | (0x80 if n >> 7 else 0))
        n >>= 7
    return bytes(out)


def _mojo(*events: bytes, version: int = 3) -> bytes:
    return b"MOJ" + _mojo_int(version) + b"".join(events)


META = b"\x01mode\x00wall\x00"
STACK = b"\x02" + _mojo_int(7) + _mojo_int(0) + b"7\x00"
STRINGS = b"\x0b" + _mojo_int(2) + b"app.py\x00" + b"\x0b" + _mojo_int(3) + b"main\x00" + b"\x0b" + _mojo_int(4) + b"leaf\x00"
FRAMES = (b"\x03" + _mojo_int(1) + _mojo_int(2) + _mojo_int(3) + _mojo_int(5) + _mojo_int(0) * 3
          + b"\x03" + _mojo_int(2) + _mojo_int(2) + _mojo_int(4) + _mojo_int(9) + _mojo_int(0) * 3)


def test_hand_made_mojo(tmp_path: Path) -> None:
    data = _mojo(META, STACK, STRINGS, FRAMES, b"\x05" + _mojo_int(1), b"\x05" + _mojo_int(2), b"\x09" + _mojo_int(1500),
                 STACK, b"\x05" + _mojo_int(1), b"\x09" + _mojo_int(100_000))
    path = tmp_path / "x.mojo"
    path.write_bytes(data)
    profile = load_profile(path)
    assert self_by_function(profile) == pytest.approx({"leaf app.py": 0.0015, "main app.py": 0.1})


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (_mojo(META, STACK, b"\x05" + _mojo_int(9)), "undefined frame 9"),
        (_mojo(META, STACK, STRINGS, FRAMES, b"\x0d"), "unknown event 13"),
        (_mojo(META, version=4), "MOJO version 4 is not supported"),
        (_mojo(META, STACK, b"\x0b" + _mojo_int(2) + b"no end"), "unterminated string"),
        (_mojo(META, STACK, b"\x09\xff\xff"), "truncated"),
        (_mojo(META, b"\x05" + _mojo_int(1)), "before any stack"),
        (_mojo(META, STACK, b"\x03" + _mojo_int(1) + _mojo_int(5) + _mojo_int(3) + _mojo_int(1) + _mojo_int(0) * 3), "undefined string"),
    ],
)
def test_bad_mojo_is_one_line(tmp_path: Path, data: bytes, needle: str) -> None:
    path = tmp_path / "bad.mojo"
    path.write_bytes(data)
    with pytest.raises(FormatError) as info:
        load_profile(path)
    assert str(path) in str(info.value) and needle in str(info.value) and "\n" not in str(info.value)
