"""Collapsed/folded stacks: py-spy `--format raw` files from the real tool, Brendan Gregg's format."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from stack_counts import stacks_by_thread_name as model_stacks

from pyrometer.core.formats.registry import FormatError, detect, export_profile, load_profile
from pyrometer.core.model import Profile

# Written by the real py-spy from script.py; regenerate with tools/make_fixtures.py.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


@pytest.fixture(scope="module")
def raw_plain() -> Path:
    return FIXTURES / "pyspy.collapsed.txt"


@pytest.fixture(scope="module")
def raw_threads() -> Path:
    """`--threads --subprocesses --idle`: process and thread pseudo-frames first."""
    return FIXTURES / "pyspy-threads.collapsed.txt"


def file_stacks(path: Path) -> Counter[tuple[str, ...]]:
    """What the text says: count per stack of frame strings (read without our parser)."""
    out: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text().splitlines():
        if line.strip():
            stack, _, count = line.rpartition(" ")
            out[tuple(f for f in stack.split(";") if f)] += int(count)
    return out


def test_pyspy_raw_plain(raw_plain: Path) -> None:
    expected = file_stacks(raw_plain)
    p = load_profile(raw_plain)
    assert detect(raw_plain).name == "collapsed"
    assert p.unit == "samples" and p.source_format == "collapsed"
    assert float(p.samples["weight"].sum()) == sum(expected.values())
    assert p.sample_count == len(raw_plain.read_text().strip().splitlines())
    got = Counter({names: w for (_, names), w in model_stacks(p).items()})
    # frame labels come back exactly as py-spy wrote them: `func (file.py:line)`
    assert got == expected
    funcs = set(p.func_name)
    assert {"leaf_busy", "middle", "worker", "main"} <= funcs
    i = p.func_name.index("middle")
    # py-spy's line is the executing line, not the def line: unknown (0), one function for all its lines
    assert p.func_file[i] == "script.py" and p.func_line[i] == 0
    assert p.func_name.count("middle") == 1
    # synthetic times: consecutive in file order
    t, w = p.samples["time"], p.samples["weight"]
    np.testing.assert_array_equal(t, np.concatenate(([0], np.cumsum(w[:-1]))))


def test_a_function_seen_at_two_lines_is_one_function(tmp_path: Path) -> None:
    """`main` executing line 11 (calling hot) and line 13 (calling small) was two `main` rows of 57% and 43%."""
    from pyrometer.core.analysis.functions import function_table

    path = tmp_path / "two_lines.collapsed"
    path.write_text(
        "<module> (t.py:16);main (t.py:11);hot (t.py:6);burn (t.py:4) 76\n"
        "<module> (t.py:16);main (t.py:13);small (t.py:8);burn (t.py:4) 57\n"
    )
    p = load_profile(path)
    assert p.func_name.count("main") == 1
    table = function_table(p)
    main = [r for r in range(len(table.func)) if p.func_name[int(table.func[r])] == "main"]
    assert len(main) == 1 and float(table.total_weight[main[0]]) == 133
    # the frames keep their executing lines
    assert sorted(p.frame_label(f) for f in range(len(p.frames)) if p.func_name[int(p.frames["func"][f])] == "main") == [
        "main (t.py:11)",
        "main (t.py:13)",
    ]


def test_pyspy_raw_threads_and_processes(raw_threads: Path) -> None:
    text = raw_threads.read_text()
    threads_in_file: Counter[int] = Counter()
    for line in text.splitlines():
        m = re.match(r'process (\d+):".*?";thread \((\d+)\)', line)
        assert m, line[:80]
        threads_in_file[int(m.group(2))] += int(line.rpartition(" ")[2])
    p = load_profile(raw_threads)
    got: Counter[int] = Counter()
    for tid, w in zip(p.samples["thread"].tolist(), p.samples["weight"].tolist(), strict=True):
        got[tid] += w
    assert got == threads_in_file  # native thread ids kept
    names = {i.name for i in p.threads.values()}
    assert "worker-thread" in names or any(n.startswith("thread ") for n in names)
    # the thread/process frames are not frames of the profile
    assert not any(n.startswith(("thread (", "process ")) for n in p.func_name)


def test_round_trip(raw_threads: Path, raw_plain: Path, tmp_path: Path) -> None:
    for src in (raw_threads, raw_plain):
        p = load_profile(src)
        out = tmp_path / (src.stem + ".collapsed")
        export_profile(p, out)
        q = load_profile(out)
        assert model_stacks(q) == model_stacks(p)
        for other in ("x.speedscope.json", "x.trace.json"):
            export_profile(p, tmp_path / other)
            r = load_profile(tmp_path / other)
            got = model_stacks(r)
            want = model_stacks(p)
            if other.endswith(".trace.json"):  # empty (idle) stacks leave no span
                want = Counter({k: v for k, v in want.items() if k[1]})
            assert got == want


def test_seconds_profile_of_equal_ticks_exports_sample_counts(tmp_path: Path) -> None:
    p = Profile(unit="seconds")
    a = p.intern_frame("a", "m.py", 1)
    b = p.intern_frame("b;x", "m.py", 5)
    sa, sb = p.intern_stack_path([a]), p.intern_stack_path([a, b])
    p.add_samples(np.array([0.0, 0.01, 0.02]), 0, np.array([sa, sb, sb]), weight=np.array([0.01, 0.01, 0.01]))
    p.finish()
    out = tmp_path / "s.folded"
    export_profile(p, out)
    # equal ticks: sample counts give the true shares (issue 10: no millions of "samples")
    assert out.read_text().splitlines() == ["a (m.py:1) 1", "a (m.py:1);b:x (m.py:5) 2"]


def test_weighted_samples_export_ticks_so_shares_stay_true(tmp_path: Path) -> None:
    p = Profile(unit="seconds")
    p.meta["rate_hz"] = 100.0
    a = p.intern_frame("a", "m.py", 1)
    b = p.intern_frame("b;x", "m.py", 5)
    sa, sb = p.intern_stack_path([a]), p.intern_stack_path([a, b])
    p.add_samples(np.arange(6) * 0.01, 0, np.array([sa, sb, sb, sb, sb, sa]), weight=np.array([0.2, 0.0025, 0.0025, 0.0025, 0.0025, 0.0003]))
    p.finish()
    out = tmp_path / "s.folded"
    export_profile(p, out)
    # a is 95% of the time though 1/3 of the samples: counts of samples would say 33%. Counts are
    # 10 ms ticks (issue 10: read back they are samples at the rate, not millions of microseconds);
    # a stack under half a tick still shows as one
    assert out.read_text().splitlines() == ["a (m.py:1) 20", "a (m.py:1);b:x (m.py:5) 1"]


def test_brendan_gregg_format_comments_and_blank_lines(tmp_path: Path) -> None:
    f = tmp_path / "stacks.collapsed"
    f.write_text("# comment\n\nmain;foo;bar 3\nmain;foo 2\r\nmain;<lambda>\t1\n")
    p = load_profile(f)
    assert p.sample_count == 3 and float(p.samples["weight"].sum()) == 6
    assert [p.threads[t].name for t in p.threads] == ["all threads"]
    assert set(p.func_name) == {"main", "foo", "bar", "<lambda>"}
    assert p.func_file[p.func_name.index("bar")] == ""


@pytest.mark.parametrize(
    "text, lineno",
    [("a;b 1\na;b\n", 2), ("a;b 1\n\n# ok\na;b -3\n", 4), ("a;b 1.5\n", 1), ("a 99999999999999999999999\n", 1)],
)
def test_bad_line_is_named(tmp_path: Path, text: str, lineno: int) -> None:
    f = tmp_path / "bad.collapsed"
    f.write_text(text)
    with pytest.raises(FormatError) as err:
        load_profile(f)
    assert str(f) in str(err.value) and f"line {lineno}" in str(err.value)


def test_only_comments_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "empty.collapsed"
    f.write_text("# nothing here\n\n")
    with pytest.raises(FormatError, match="no stack lines"):
        load_profile(f)
