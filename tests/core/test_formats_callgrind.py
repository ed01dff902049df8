"""Callgrind import/export: the spec's features on a hand-written file, a real valgrind run, round trips."""

from __future__ import annotations

import gzip
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats import callgrind, registry
from pyrometer.core.model import Profile

# Uses name compression for files, functions and objects; positions "instr line" with hex,
# relative (+n, -n) and repeated (*) subpositions; two events; inlined code (fi=/fe=);
# a call into another file and object (cfl=/cob=); a jump with its position-only line;
# self-recursion; comments and blank lines.
HANDMADE = """\
# callgrind format
version: 1
creator: handmade
cmd: ./app --fast
positions: instr line
events: Cycles Instr
summary: 605 342

# main: self 20 + 30 + 50 (inlined) + 5 = 105
ob=(1) /bin/app
fl=(1) main.c
fn=(1) main
0x10 15 20 10
+2 +1 30 5
cfn=(2) helper
calls=2 0x40 40
* * 200 100
fi=(2) inline.h
+4 3 50 7
fe=(1)
+1 17 5
jump=1 0x10 15
* *
cfl=(3) lib.c
cob=(2) /lib/libx.so
cfn=(3) work
calls=1 0x100 7
* 17 300 200

fn=(2)
0x40 40 100 50
-0x2 +2 100 20
cfn=(2)
calls=3 0x40 40
* * 90 9

ob=(2)
fl=(3)
fn=(3)
0x100 7 300 200
"""


def write(tmp_path: Path, text: str, name: str = "callgrind.out.4242") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def table(p: Profile) -> dict[tuple[str, str, int], tuple[int, int, float, float]]:
    fs = p.func_stats
    assert fs is not None
    return {
        (p.func_name[int(f)], p.func_file[int(f)], p.func_line[int(f)]): (
            int(fs.calls[i]),
            int(fs.prim_calls[i]),
            float(fs.self_time[i]),
            float(fs.total_time[i]),
        )
        for i, f in enumerate(fs.func)
    }


def edge_table(p: Profile, full: bool = False) -> dict[tuple[object, object], tuple[int, float]]:
    fs = p.func_stats
    assert fs is not None

    def key(f: int) -> object:
        return (p.func_name[f], p.func_file[f], p.func_line[f]) if full else p.func_name[f]

    out = {
        (key(int(a)), key(int(b))): (int(c), float(t))
        for a, b, c, t in zip(fs.edge_caller, fs.edge_callee, fs.edge_calls, fs.edge_total, strict=True)
    }
    assert len(out) == len(fs.edge_caller)
    return out


def test_handmade_file_reads_every_spec_feature(tmp_path: Path) -> None:
    p = registry.load_profile(write(tmp_path, HANDMADE))
    assert p.source_format == "callgrind"
    assert p.unit == "samples" and p.meta["cost_unit"] == "Cycles" and p.meta["events"] == ["Cycles", "Instr"]
    assert p.meta["cmd"] == "./app --fast" and p.notices == []
    assert table(p) == {
        ("main", "main.c", 15): (0, 0, 105.0, 605.0),
        ("helper", "main.c", 40): (5, 2, 200.0, 200.0),  # 3 self-calls: not primitive, not added to total
        ("work", "lib.c", 7): (1, 1, 300.0, 300.0),
    }
    assert edge_table(p) == {("main", "helper"): (2, 200.0), ("helper", "helper"): (3, 90.0), ("main", "work"): (1, 300.0)}
    paths = sorted(
        (tuple(p.func_name[p.frame_func(f)] for f in p.stack_frames(int(s))), float(w))
        for s, w in zip(p.samples["stack"], p.samples["weight"], strict=True)
    )
    assert paths == [(("main",), 105.0), (("main", "helper"), 200.0), (("main", "work"), 300.0)]


def test_summary_mismatch_is_reported(tmp_path: Path) -> None:
    p = registry.load_profile(write(tmp_path, HANDMADE.replace("summary: 605 342", "summary: 9999")))
    assert len(p.notices) == 1 and "9999" in p.notices[0]["message"]


@pytest.mark.parametrize(
    ("event", "creator", "scale"),
    [
        ("Ticks", "yappi", 1e-6),
        ("Ticks", "someone", None),
        ("Time_(10ns)", "xdebug", 1e-8),
        ("Time_(ns)", "pyrometer", 1e-9),
        ("Time_(us)", "", 1e-6),
        ("ns", "", 1e-9),
        ("ms", "", 1e-3),
        ("Ir", "callgrind-3.19.0", None),
        ("Samples", "", None),
        ("Time", "", None),
    ],
)
def test_event_units(event: str, creator: str, scale: float | None) -> None:
    assert callgrind.event_scale(event, creator) == scale


def test_time_event_loads_as_seconds(tmp_path: Path) -> None:
    text = "events: Time_(10ns) Memory_(bytes)\nfl=a.php\nfn=run\n3 250000 64\ncfn=child\ncalls=4 9\n5 100000\nfn=child\n9 100000\n"
    p = registry.load_profile(write(tmp_path, text, "cachegrind.out.1"))
    assert p.unit == "seconds" and p.meta["cost_unit"] == "Time_(10ns)"
    assert table(p) == {("run", "a.php", 3): (0, 0, 0.0025, 0.0035), ("child", "a.php", 9): (4, 4, 0.001, 0.001)}
    assert math.isclose(float(p.samples["weight"].astype(np.float64).sum()), 0.0035, rel_tol=1e-6)


# ---------------------------------------------------------------- a real valgrind run
# `valgrind --tool=callgrind /bin/true`, gzipped, with valgrind's own instruction count beside it:
# plain; and with instruction positions (hex, relative), jump lines and nine cache events.
# Regenerate with tools/make_fixtures.py.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


@pytest.fixture(scope="module", params=["plain", "instr-jumps-cache"])
def valgrind_file(request: pytest.FixtureRequest) -> tuple[Path, int]:
    path = FIXTURES / f"callgrind.out.{request.param}.gz"
    irefs = int((FIXTURES / f"callgrind.out.{request.param}.irefs").read_text())
    return path, irefs


def test_valgrind_run_loads_with_exact_costs(valgrind_file: tuple[Path, int]) -> None:
    path, irefs = valgrind_file
    p = registry.load_profile(path)
    assert p.unit == "samples" and p.meta["cost_unit"] == "Ir" and p.meta["creator"].startswith("callgrind")
    assert p.notices == []  # the costs add up to the file's own summary
    fs = p.func_stats
    assert fs is not None
    assert int(fs.self_time.sum()) == irefs  # every instruction valgrind counted, exactly once
    # inclusive cost never below self cost; the entry point holds (about) the whole run
    # (cycles between functions may count a little twice, as inclusive cost does in the spec)
    assert bool(np.all(fs.total_time >= fs.self_time))
    assert math.isclose(float(fs.total_time.max()), irefs, rel_tol=0.01)  # the entry point holds the run
    # the estimated tree holds the whole run's cost
    assert math.isclose(float(p.samples["weight"].astype(np.float64).sum()), irefs, rel_tol=1e-4)
    names = set(p.func_name)
    assert "_dl_start" in names or "(below main)" in names
    # functions without debug info are shown with their object file, not "???"
    assert "???" not in set(p.func_file)
    assert any(f.endswith(".so.2") for f in p.func_file)


def test_valgrind_self_costs_match_callgrind_annotate(valgrind_file: tuple[Path, int], tmp_path: Path) -> None:
    if shutil.which("callgrind_annotate") is None:
        pytest.skip("callgrind_annotate is not installed")
    gz, _ = valgrind_file
    path = tmp_path / "callgrind.out.1"  # callgrind_annotate (the oracle) reads plain text only
    path.write_bytes(gzip.decompress(gz.read_bytes()))
    proc = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", "--threshold=100", str(path)],
        capture_output=True, text=True, timeout=120, check=True,
    )
    theirs: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^\s*([\d,]+)(?: \([\d.]+%\))?\s+(\S.*?):(.+?)(?: \[.*\])?$", line)
        if m and "PROGRAM TOTALS" not in line:
            theirs[m.group(3)] = theirs.get(m.group(3), 0) + int(m.group(1).replace(",", ""))
    p = registry.load_profile(path)
    fs = p.func_stats
    assert fs is not None
    ours: dict[str, int] = {}
    for i, f in enumerate(fs.func):
        if fs.self_time[i]:
            name = p.func_name[int(f)]
            ours[name] = ours.get(name, 0) + int(fs.self_time[i])
    assert len(theirs) > 20
    assert ours == theirs  # callgrind_annotate splits by (inlined) file; summed per function they agree


def test_valgrind_round_trip(valgrind_file: tuple[Path, int], tmp_path: Path) -> None:
    a = registry.load_profile(valgrind_file[0])
    out = tmp_path / "copy.callgrind"
    assert registry.export_profile(a, out).name == "callgrind"
    b = registry.load_profile(out)
    assert b.unit == "samples" and b.meta["cost_unit"] == "Ir"
    assert table(b) == table(a)
    assert edge_table(b, full=True) == edge_table(a, full=True)


# ---------------------------------------------------------------- export
def test_export_from_samples_and_round_trip(tmp_path: Path) -> None:
    p = ex.server_profile()
    out = tmp_path / "callgrind.out.77"
    assert registry.exporter_for(out).name == "callgrind"  # valgrind's naming pattern picks the format
    registry.export_profile(p, out)
    text = out.read_text()
    assert text.startswith("# callgrind format\n") and "events: Time_(ns)\n" in text
    b = registry.load_profile(out)
    assert b.unit == "seconds"
    # self time per function equals the samples' leaf weights (to the nanosecond)
    want: dict[str, float] = {}
    for s, w in zip(p.samples["stack"], p.samples["weight"], strict=True):
        leaf = p.func_name[p.frame_func(p.stack_frames(int(s))[-1])]
        want[leaf] = want.get(leaf, 0.0) + float(w)
    got = {k[0]: v[2] for k, v in table(b).items() if v[2] > 0}
    assert set(got) == set(want)
    for k, v in want.items():
        assert math.isclose(got[k], v, abs_tol=1e-6), k


def test_export_handmade_round_trip(tmp_path: Path) -> None:
    a = registry.load_profile(write(tmp_path, HANDMADE))
    out = tmp_path / "again.callgrind"
    registry.export_profile(a, out)
    b = registry.load_profile(out)
    assert table(b) == table(a) and edge_table(b) == edge_table(a)


def test_same_name_in_one_file_stays_two_functions(tmp_path: Path) -> None:
    text = "events: Ir\nfl=m.py\nfn=<lambda> m.py:3\n3 10\nfn=<lambda> m.py:9\n9 20\n"
    a = registry.load_profile(write(tmp_path, text))
    assert table(a) == {("<lambda>", "m.py", 3): (0, 0, 10.0, 10.0), ("<lambda>", "m.py", 9): (0, 0, 20.0, 20.0)}
    out = tmp_path / "x.callgrind"
    registry.export_profile(a, out)
    assert table(registry.load_profile(out)) == table(a)


# ---------------------------------------------------------------- sniffing and bad input
def test_sniffer(tmp_path: Path) -> None:
    sniff = callgrind.IMPORTER.sniff
    assert sniff(HANDMADE.encode(), tmp_path)
    assert sniff(b"version: 1\ncreator: yappi\n", tmp_path)
    assert sniff(b"# a comment\n\nfn=main\n", tmp_path)
    assert sniff(b"desc: x\npositions: line\nevents: Ir\n", tmp_path)
    for other in (b"main;work;leaf 12\nmain 3\n", b'{"shared": {}}', b"{\xa9\x03\xda\x01x", b"name,self\nf,1\n"):
        assert not sniff(other, tmp_path), other
    path = write(tmp_path, "creator: x\nevents: Ir\nfn=f\n1 2\n", "profile.txt")
    assert registry.detect(path).name == "callgrind"


BAD = {
    "cost before events": "fn=main\n1 2\n",
    "undefined id": "events: Ir\nfn=(3)\n1 2\n",
    "garbage line": "events: Ir\nfn=main\n1 2\nthis is not callgrind\n",
    "bad cost": "events: Ir\nfn=main\n1 2x\n",
    "bad calls": "events: Ir\nfn=main\ncfn=f\ncalls=x\n1 2\n",
    "calls without cfn": "events: Ir\nfn=main\ncalls=1 2\n1 2\n",
    "unknown positions": "positions: column\nevents: Ir\nfn=main\n1 2\n",
    "no functions": "version: 1\ncreator: x\nevents: Ir\n",
    "no events": "version: 1\ncreator: x\nfn=main\n",
    "binary junk": "events: Ir\nfn=main\n\x00\x01\x02\xff\n",
    "too few positions": "positions: instr line\nevents: Ir\nfn=main\n5\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_callgrind_gives_format_error(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, BAD[name], "bad.callgrind")
    with pytest.raises(registry.FormatError) as err:
        registry.load_profile(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_overlong_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.callgrind"
    path.write_bytes(b"events: Ir\nfn=" + b"x" * (callgrind.MAX_LINE + 10) + b"\n1 1\n")
    with pytest.raises(registry.FormatError, match="longer than"):
        registry.load_profile(path)


def test_truncated_real_file(tmp_path: Path) -> None:
    """A file cut anywhere gives a profile with a notice or a FormatError, nothing else."""
    data = HANDMADE.encode()
    path = tmp_path / "cut.callgrind"
    for cut in range(1, len(data), 7):
        path.write_bytes(data[:cut])
        try:
            p = registry.load_profile(path)
        except registry.FormatError as exc:
            assert str(path) in str(exc)
        else:
            assert p.func_stats is not None


def test_gzipped_callgrind_and_jump_names(tmp_path: Path) -> None:
    """Names first defined on jump lines (--collect-jumps=yes) can be used later; .gz loads by content."""
    text = HANDMADE.replace("jump=1 0x10 15\n", "jfi=(9) other.c\njfn=(9) elsewhere\njump=1 0x10 15\n") + "fl=(9)\nfn=(9)\n0x200 12 0\n"
    path = tmp_path / "profile.gz"
    path.write_bytes(gzip.compress(text.encode()))
    p = registry.load_profile(path)
    assert table(p)[("elsewhere", "other.c", 12)] == (0, 0, 0.0, 0.0)
    assert table(p)[("main", "main.c", 15)] == (0, 0, 105.0, 605.0)


def test_inclusive_comment_only_from_our_exports(tmp_path: Path) -> None:
    body = "events: Ir\nfl=a.c\nfn=f\n# pyrometer-inclusive: 999\n3 10\n"
    theirs = registry.load_profile(write(tmp_path, "creator: someone\n" + body, "a.callgrind"))
    ours = registry.load_profile(write(tmp_path, "creator: pyrometer\n" + body, "b.callgrind"))
    assert table(theirs) == {("f", "a.c", 3): (0, 0, 10.0, 10.0)}
    assert table(ours) == {("f", "a.c", 3): (0, 0, 10.0, 999.0)}
