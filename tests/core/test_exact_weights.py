"""Every sample weight a file states is shown as it states it (the weight column was float32 only).

Truth is the file itself: a collapsed file's own counts, `go tool pprof -top`'s figures for the pprof
fixtures (written by npm's pprof-format: tools/make_exact_weight_fixtures.py), a callgrind file's
`summary:` line. Each weight here is an integer above 2^24 that float32 rounds (987654321 -> 987654336).
The agent's recordings keep their float32 column: 4 bytes a sample, no extra frame.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pytest
from cli_runs import run_cli

from pyrometer.core.agent import wire
from pyrometer.core.analysis.crop import crop
from pyrometer.core.analysis.on_cpu import on_cpu_view
from pyrometer.core.capture.writer import RecordingWriter
from pyrometer.core.formats import pprof_profile_pb2
from pyrometer.core.formats.recording import iter_raw_frames, read_recording, write_profile
from pyrometer.core.formats.registry import export_profile, load_profile
from pyrometer.core.model import Profile

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "pprof"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus")
BIG = "main;a;b 123456789\nmain;c 987654321\nmain;c;d 16777217\nmain 3\n"


def file_figures(text: str) -> tuple[int, dict[str, int], dict[str, int]]:
    """(total, self per leaf, total per function) summed from a collapsed file's own lines."""
    total, selfs, totals = 0, {}, {}
    for line in text.splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        total += int(count)
        selfs[frames[-1]] = selfs.get(frames[-1], 0) + int(count)
        for name in set(frames):
            totals[name] = totals.get(name, 0) + int(count)
    return total, selfs, totals


def stats_json(path: Path) -> dict:  # type: ignore[type-arg]
    run = run_cli("stats", "--json", path)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def check_against_collapsed(data: dict, text: str) -> None:  # type: ignore[type-arg]
    total, selfs, totals = file_figures(text)
    assert data["total"] == total and data["samples"] == total
    got = {f["name"]: (f["self"], f["total"]) for f in data["functions"]}
    assert got == {name: (selfs.get(name, 0), totals[name]) for name in totals}


@pytest.fixture
def big_collapsed(tmp_path: Path) -> Path:
    path = tmp_path / "big.collapsed"
    path.write_text(BIG)
    return path


def test_collapsed_counts_above_2_24_are_shown_exactly(big_collapsed: Path) -> None:
    check_against_collapsed(stats_json(big_collapsed), BIG)
    text = run_cli("stats", big_collapsed).stdout
    assert "total: 1,127,888,330 samples" in text and "987,654,321" in text and "16,777,217" in text
    profile = load_profile(big_collapsed)
    assert profile.exact_weights
    assert sorted(profile.samples["weight"].tolist()) == [3, 16777217, 123456789, 987654321]
    view = on_cpu_view(profile)  # derived views keep the source's float64 weights
    assert float(view.samples["weight"].sum(dtype=np.float64)) == 1127888330


def go_top(name: str) -> tuple[int, dict[str, tuple[int, int]]]:
    """(total, {function: (flat, cum)}) in the exact unit (B or ns) of `go tool pprof -top -unit=...`."""
    text = (FIX / f"{name}.top.txt").read_text()
    total = int(re.search(r"of (\d+)(?:B|ns) total", text).group(1))  # type: ignore[union-attr]
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\s*(\d+)(?:B|ns)?\s+\S+%\s+\S+%\s+(\d+)(?:B|ns)\s+\S+%\s+(\S+)$", line)
        if m:
            rows[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return total, rows


@pytest.mark.parametrize("name", ["big_values_space", "big_values_cpu"])
def test_pprof_values_above_2_24_match_go_tool_pprof(name: str) -> None:
    total, rows = go_top(name)
    data = stats_json(FIX / f"{name}.pb.gz")
    per_second = 1e9 if name.endswith("cpu") else 1  # ns are shown as seconds: the nearest float64, exactly
    assert data["total"] == total / per_second
    got = {f["name"]: (f["self"], f["total"]) for f in data["functions"]}
    assert got == {n: (flat / per_second, cum / per_second) for n, (flat, cum) in rows.items()}


def pprof_values(path: Path) -> dict[tuple[str, ...], list[int]]:
    """{leaf-first function names: values} decoded with protobuf from a pprof file (stacks of one name each)."""
    msg = pprof_profile_pb2.Profile()
    msg.ParseFromString(gzip.decompress(path.read_bytes()))
    strings = list(msg.string_table)
    names = {f.id: strings[f.name] for f in msg.function}
    locs = {loc.id: names[loc.line[0].function_id] for loc in msg.location}
    return {tuple(locs[i] for i in s.location_id): list(s.value) for s in msg.sample}


def pprof_sum(path: Path, index: int) -> int:
    """The sum of one value over every sample of a pprof file, decoded with protobuf."""
    msg = pprof_profile_pb2.Profile()
    msg.ParseFromString(gzip.decompress(path.read_bytes()))
    return sum(s.value[index] for s in msg.sample)


def test_pprof_export_writes_the_source_integers_back(tmp_path: Path) -> None:
    out = tmp_path / "out.pb.gz"
    export_profile(load_profile(FIX / "big_values_space.pb.gz"), out)
    assert pprof_values(out) == {k: v[1:] for k, v in pprof_values(FIX / "big_values_space.pb.gz").items()}
    export_profile(load_profile(FIX / "big_values_cpu.pb.gz"), out)
    want = {k: v[1] for k, v in pprof_values(FIX / "big_values_cpu.pb.gz").items()}
    assert {k: v[1] for k, v in pprof_values(out).items()} == want  # [samples, wall ns]: the ns as written


def test_collapsed_exports_write_the_file_counts_back(big_collapsed: Path, tmp_path: Path) -> None:
    profile = load_profile(big_collapsed)
    export_profile(profile, tmp_path / "back.collapsed")
    assert sorted((tmp_path / "back.collapsed").read_text().splitlines()) == sorted(BIG.splitlines())
    export_profile(profile, tmp_path / "back.pb.gz")
    assert sorted(v[0] for v in pprof_values(tmp_path / "back.pb.gz").values()) == [3, 16777217, 123456789, 987654321]
    export_profile(profile, tmp_path / "back.speedscope.json")
    doc = json.loads((tmp_path / "back.speedscope.json").read_text())
    assert sorted(w for p in doc["profiles"] for w in p["weights"]) == [3, 16777217, 123456789, 987654321]
    export_profile(profile, tmp_path / "back.callgrind")
    text = (tmp_path / "back.callgrind").read_text()
    assert f"summary: {file_figures(BIG)[0]}\n" in text
    assert {"0 987654321", "0 123456789", "0 16777217", "0 3"} <= set(text.splitlines())  # self costs


@pytest.mark.parametrize("source", ["collapsed", "big_values_space", "big_values_cpu"])
def test_exact_weights_survive_a_pyro_save_and_reload(source: str, big_collapsed: Path, tmp_path: Path) -> None:
    path = big_collapsed if source == "collapsed" else FIX / f"{source}.pb.gz"
    profile = load_profile(path)
    saved = tmp_path / "saved.pyro"
    write_profile(profile, saved)
    back, report = read_recording(saved)
    assert report.clean and back.exact_weights
    assert back.samples["weight"].tolist() == profile.samples["weight"].tolist()
    assert stats_json(saved)["functions"] == stats_json(path)["functions"]  # stats of a .pyro reads its index
    out = tmp_path / "again.collapsed"
    export_profile(back, out)
    if source == "collapsed":
        assert sorted(out.read_text().splitlines()) == sorted(BIG.splitlines())


def test_older_readers_read_the_float32_weights_of_a_new_file(big_collapsed: Path, tmp_path: Path) -> None:
    """The exact weights ride in frames of their own (type 23) before the samples they belong to: a reader
    that skips them reads the samples frames as before, with the float32 weights."""
    saved = tmp_path / "saved.pyro"
    write_profile(load_profile(big_collapsed), saved)
    kinds = [kind for kind, _ in iter_raw_frames(saved)]
    assert kinds[kinds.index(wire.EXACT_SAMPLES) + 1] == wire.SAMPLES
    old = tmp_path / "old.pyro"
    with RecordingWriter(old, live=False) as writer:
        for kind, payload in iter_raw_frames(saved):
            if kind != wire.EXACT_SAMPLES:
                writer.write_raw(wire.frame(kind, payload))
    back, report = read_recording(old)
    assert report.clean and not back.exact_weights
    assert sorted(back.samples["weight"].tolist()) == sorted(np.float32([3, 16777217, 123456789, 987654321]).tolist())


def test_a_weights_frame_that_does_not_fit_its_samples_is_reported_and_left_out(big_collapsed: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved.pyro"
    write_profile(load_profile(big_collapsed), saved)
    bad = tmp_path / "bad.pyro"
    with RecordingWriter(bad, live=False) as writer:
        for kind, payload in iter_raw_frames(saved):
            if kind == wire.EXACT_SAMPLES:  # weights that are not those of the samples after it
                payload = payload[:8] + (np.frombuffer(payload, "<f8", offset=8) + 1000).astype("<f8").tobytes()
            writer.write_raw(wire.frame(kind, payload))
    back, report = read_recording(bad)
    assert any("exact_samples frame" in p for p in report.problems)
    assert sorted(back.samples["weight"].tolist()) == sorted(np.float32([3, 16777217, 123456789, 987654321]).tolist())


def test_agent_like_float32_weights_stay_float32_and_add_no_frame(tmp_path: Path) -> None:
    profile = Profile()
    frame = profile.intern_frame("f", "m.py", 1)
    stack = profile.intern_stack_path([frame])
    n = 1000
    profile.add_samples(np.arange(n) * 0.01, np.zeros(n, np.int32), np.full(n, stack, np.int32),
                        weight=np.full(n, 0.01, np.float32))
    profile.add_samples(np.array([10.0]), np.zeros(1, np.int32), np.array([stack], np.int32), weight=0.5)
    assert not profile.exact_weights and profile.samples.row_bytes() == 28
    saved = tmp_path / "agent.pyro"
    write_profile(profile, saved)
    assert wire.EXACT_SAMPLES not in {kind for kind, _ in iter_raw_frames(saved)}
    back, _ = read_recording(saved)
    assert not back.exact_weights and back.samples.row_bytes() == 28
    cut = crop(back, 1.234, 5.678)  # weights cut at the edges are the recording's precision, not stated ones
    assert not cut.exact_weights and 0 < len(cut.samples) < n


def test_callgrind_paths_export_to_the_summary_total(tmp_path: Path) -> None:
    """Synthesized call paths split a function's cost among its callers; the exported lines still add up
    to the file's `summary:` (rounding each line on its own drifted by hundreds of Ir)."""
    path = CORPUS / "callgrind" / "gprof2dot-xapian" / "xapian.callgrind"
    if not path.is_file():
        pytest.skip(f"shared corpus absent: {path}")
    summary = int(re.search(r"^summary: (\d+)$", path.read_text(errors="replace"), re.M).group(1))  # type: ignore[union-attr]
    profile = load_profile(path)
    export_profile(profile, tmp_path / "x.collapsed")
    assert sum(int(line.rsplit(" ", 1)[1]) for line in (tmp_path / "x.collapsed").read_text().splitlines()) == summary
    export_profile(profile, tmp_path / "x.pb.gz")
    assert pprof_sum(tmp_path / "x.pb.gz", 0) == summary


@pytest.mark.parametrize(("unit", "per_second"), [("none", 1), ("microseconds", 10**6)])
def test_speedscope_weights_are_shown_and_written_as_the_file_states(unit: str, per_second: int, tmp_path: Path) -> None:
    weights = [987654321, 123456789, 16777217]
    doc = {"$schema": "https://www.speedscope.app/file-format-schema.json",
           "shared": {"frames": [{"name": "main"}, {"name": "a"}, {"name": "b"}]},
           "profiles": [{"type": "sampled", "name": "t", "unit": unit, "startValue": 0, "endValue": sum(weights),
                         "samples": [[0, 1], [0, 2], [0]], "weights": weights}]}
    path = tmp_path / "big.speedscope.json"
    path.write_text(json.dumps(doc))
    data = stats_json(path)
    got = {f["name"]: (f["self"], f["total"]) for f in data["functions"]}
    assert got == {"a": (987654321 / per_second,) * 2, "b": (123456789 / per_second,) * 2,
                   "main": (16777217 / per_second, sum(weights) / per_second)}
    export_profile(load_profile(path), tmp_path / "out.speedscope.json")
    out = json.loads((tmp_path / "out.speedscope.json").read_text())["profiles"][0]
    assert [round(w * per_second) if unit != "none" else w for w in out["weights"]] == weights


def test_exact_weights_that_start_mid_file_survive_every_read_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Weights float32 holds first (no weights frame: the column starts float32), then ones it cannot:
    the column is widened mid-read, in a plain read, a spilling read of an indexed file committing
    in steps, and the index's sums that `stats` reads."""
    from pyrometer.core.formats import recording
    from pyrometer.core.formats.recording_index import index_frame, open_for_stats

    profile = Profile("samples", "collapsed")
    f, g = profile.intern_frame("f", "", 0), profile.intern_frame("g", "", 0)
    s1, s2 = profile.intern_stack_path([f]), profile.intern_stack_path([f, g])
    n = 200_000
    w = np.ones(n)
    w[150_000:] = 16777217.0  # from the third samples frame (65536 rows each) on
    w[-1] = 3.0
    stacks = np.where(np.arange(n) % 2 == 0, s1, s2).astype(np.int32)
    profile.add_samples(np.concatenate(([0.0], np.cumsum(w)[:-1])), np.zeros(n, np.int32), stacks, weight=w)
    path = tmp_path / "multi.pyro"
    write_profile(profile, path)
    back, report = read_recording(path)
    assert report.clean and back.exact_weights and np.array_equal(back.samples["weight"], w)
    with open(path, "r+b") as fh:
        size = fh.seek(0, 2)
        data = index_frame(path, fh, size)
        assert data is not None
        fh.write(data)
    monkeypatch.setattr(recording, "COMMIT_ROWS", 50_000)
    back, report = read_recording(path)
    assert report.clean and np.array_equal(back.samples["weight"], w)
    opened = open_for_stats(path)
    assert opened is not None
    weight, count = opened[1].stack_sums(None)
    assert float(weight.sum()) == float(w.sum()) and int(count.sum()) == n


def test_cpu_times_keep_the_weights_precision_through_a_save(tmp_path: Path) -> None:
    """A sample is on CPU when its CPU time covers half its weight: both are stored at one precision
    (float64 here, as the source stated them), in memory and after a save, so 0.005 of 0.01 stays on CPU."""
    from pyrometer.core.analysis.on_cpu import on_cpu_mask

    profile = Profile()
    stack = profile.intern_stack_path([profile.intern_frame("f", "m.py", 1)])
    cpu = np.array([0.005, 0.004999, -1.0, 0.0123456789])
    profile.add_samples(np.arange(4) * 0.01, np.zeros(4, np.int32), np.full(4, stack, np.int32), weight=0.01, cpu=cpu)
    assert profile.exact_weights and on_cpu_mask(profile).tolist() == [True, False, True, True]
    saved = tmp_path / "cpu.pyro"
    write_profile(profile, saved)
    back, report = read_recording(saved)
    assert report.clean and back.samples["cpu"].tolist() == cpu.tolist()
    assert on_cpu_mask(back).tolist() == [True, False, True, True]


def test_an_index_an_older_reader_cached_is_built_again(big_collapsed: Path, tmp_path: Path) -> None:
    """A version before exact_samples skipped those frames when it indexed a saved import for `stats`
    (cached by path, size and mtime): its float32 sums are not reused."""
    from pyrometer.core.formats.recording_index import build_index, write_cached_index

    saved = tmp_path / "saved.pyro"
    write_profile(load_profile(big_collapsed), saved)
    stripped = tmp_path / "stripped.pyro"
    with RecordingWriter(stripped, live=False) as writer:
        for kind, payload in iter_raw_frames(saved):
            if kind != wire.EXACT_SAMPLES:
                writer.write_raw(wire.frame(kind, payload))
    old = build_index(stripped)  # what the older reader summed: the float32 weights
    old.report["skipped_unknown"], old.known_kinds = 1, 0
    old.covers = build_index(saved).covers
    assert write_cached_index(saved, old)
    check_against_collapsed(stats_json(saved), BIG)
