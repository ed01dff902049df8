"""pprof: files written by Go's runtime/pprof read with `go tool pprof`'s figures; exports decoded by protobuf.

The fixtures and their `.top.txt` (the output of `go tool pprof -top`) are made
by tools/make_format_fixtures_16.py; no Go runs here.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_runs import run_cli
from format_errors import expect_format_error
from leaf_sums import self_by_leaf

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats import pprof_profile_pb2
from pyrometer.core.formats.recording import write_profile
from pyrometer.core.formats.registry import FormatError, detect, export_profile, load_profile
from pyrometer.core.model import Profile

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "pprof"
UNITS = {"ns": 1e-9, "us": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "B": 1, "kB": 1024, "MB": 1024**2}


def amount(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(ns|us|μs|ms|s|B|kB|MB)?", text)
    assert m, text
    return float(m.group(1)) * UNITS[m.group(2) or "B"]


def go_top(name: str) -> tuple[float, list[tuple[str, float]]]:
    """(total, [(function, flat)]) from `go tool pprof -top`."""
    text = (FIX / f"{name}.top.txt").read_text()
    total = amount(re.search(r"of ([\d.]+\w*) total", text).group(1))  # type: ignore[union-attr]
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s*([\d.]+\w*)\s+[\d.]+%\s+[\d.]+%\s+[\d.]+\w*\s+[\d.]+%\s+(\S+)", line)
        if m:
            rows.append((m.group(2), amount(m.group(1))))
    return total, rows


def self_by_function(profile: Profile) -> dict[str, float]:
    """Sum of sample weights per leaf function name (samples without a stack count nowhere)."""
    return self_by_leaf(profile, with_file=False, keep_zero=True)


def test_go_cpu_profile_matches_go_tool_pprof() -> None:
    profile = load_profile(FIX / "go_cpu.pb.gz")
    total, rows = go_top("go_cpu")
    assert profile.meta["sample_type"] == "cpu/nanoseconds"
    assert float(profile.samples["weight"].sum(dtype=np.float64)) == pytest.approx(total, rel=1e-6)
    selfs = self_by_function(profile)
    top_name, top_flat = rows[0]
    assert max(selfs, key=selfs.__getitem__) == top_name == "main.hot"
    assert selfs[top_name] == pytest.approx(top_flat, rel=1e-6)
    for name, flat in rows:
        assert selfs.get(name, 0.0) == pytest.approx(flat, rel=1e-6, abs=1e-9), name
    # one sample per Go sample (Total samples = 380ms at 10 ms), not one per pprof record
    assert profile.sample_count == round(total / 0.01)
    # the pprof.Labels("task_name", "crunch") of the Go program became a task
    assert [t.name for t in profile.tasks.values()] == ["crunch"]


def test_austin2pprof_file_matches_go_tool_pprof() -> None:
    """austin2pprof writes "Wall time/μs" and string "Thread ID" labels: still wall time, one thread."""
    profile = load_profile(FIX / "austin2pprof.pprof")
    total, rows = go_top("austin2pprof")
    assert profile.unit == "seconds" and profile.meta["sample_type"] == "Wall time/μs"
    assert float(profile.samples["weight"].sum(dtype=np.float64)) == pytest.approx(total, rel=1e-6)
    selfs = self_by_function(profile)
    assert max(selfs, key=selfs.__getitem__) == rows[0][0] == "hot"
    assert selfs["hot"] == pytest.approx(rows[0][1], rel=1e-6)
    assert [t.native_id for t in profile.threads.values()] == [18852]
    assert load_profile(FIX / "austin2pprof.pprof", sample_type="wall").sample_count == profile.sample_count


def test_counts_on_request_and_the_period_is_kept() -> None:
    total, _ = go_top("go_cpu")
    counts = load_profile(FIX / "go_cpu.pb.gz", sample_type="samples")
    assert counts.unit == "samples"
    assert float(counts.samples["weight"].sum()) == pytest.approx(total / 0.01)  # Go samples at 100 Hz
    assert counts.meta["period"] == 10_000_000


def test_heap_profile_any_sample_type() -> None:
    default = load_profile(FIX / "go_heap.pb.gz")
    assert default.meta["sample_types"] == ["alloc_objects/count", "alloc_space/bytes", "inuse_objects/count", "inuse_space/bytes"]
    assert default.meta["sample_type"] == "inuse_space/bytes"  # no time type: pprof's default, the last
    alloc = load_profile(FIX / "go_heap.pb.gz", sample_type="alloc_space")
    total, rows = go_top("go_heap")
    assert float(alloc.samples["weight"].sum(dtype=np.float64)) == pytest.approx(total, rel=1e-4)  # -top rounds to 0.01kB
    selfs = self_by_function(alloc)
    assert max(selfs, key=selfs.__getitem__) == rows[0][0]
    assert selfs[rows[0][0]] == pytest.approx(rows[0][1], rel=1e-4)


def test_unknown_sample_type_lists_the_choices() -> None:
    with pytest.raises(FormatError, match=r"no sample type 'bogus'.*samples/count, cpu/nanoseconds"):
        load_profile(FIX / "go_cpu.pb.gz", sample_type="bogus")


def test_a_dot_prof_pprof_is_sniffed_not_taken_for_pstats(tmp_path: Path) -> None:
    for name, data in (("cpu.prof", (FIX / "go_cpu.pb.gz").read_bytes()), ("raw.prof", gzip.decompress((FIX / "go_cpu.pb.gz").read_bytes()))):
        path = tmp_path / name
        path.write_bytes(data)
        assert detect(path).name == "pprof"
        assert load_profile(path).sample_count > 0


def test_stats_cli_sample_type(tmp_path: Path) -> None:
    path = tmp_path / "cpu.prof"
    shutil.copy(FIX / "go_cpu.pb.gz", path)
    run = ["stats", str(path), "--top", "1"]
    out = run_cli(*run)
    assert out.returncode == 0, out.stderr
    assert "sample type: cpu/nanoseconds (also samples/count; pick one with --sample-type)" in out.stdout
    out = run_cli(*run, "--sample-type", "nope")
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1 and "no sample type 'nope'" in out.stderr


def _decode(path: Path) -> pprof_profile_pb2.Profile:
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b"  # profile.proto: on disk it must be gzipped
    msg = pprof_profile_pb2.Profile()
    msg.ParseFromString(gzip.decompress(raw))
    return msg


def test_export_is_a_complete_pprof(tmp_path: Path) -> None:
    profile = ex.server_profile()
    profile.samples["cpu"][:] = 0.004  # CPU known: the third sample type
    profile.meta["start_wall"] = 1_700_000_000.5
    out = tmp_path / "server.pb.gz"
    export_profile(profile, out)
    msg = _decode(out)
    s = list(msg.string_table)
    assert s[0] == ""
    types = [(s[t.type], s[t.unit]) for t in msg.sample_type]
    assert types == [("samples", "count"), ("wall", "nanoseconds"), ("cpu", "nanoseconds")]
    assert sum(smp.value[2] for smp in msg.sample) == pytest.approx(ex.SERVER_SAMPLES * 0.004 * 1e9, rel=1e-6)
    assert (s[msg.period_type.type], s[msg.period_type.unit], msg.period) == ("wall", "nanoseconds", 10_000_000)
    assert msg.time_nanos == 1_700_000_000_500_000_000
    assert msg.duration_nanos == round(profile.duration() * 1e9)
    counts = sum(smp.value[0] for smp in msg.sample)
    wall = sum(smp.value[1] for smp in msg.sample)
    assert counts == ex.SERVER_SAMPLES
    assert wall == pytest.approx(ex.SERVER_SAMPLES * ex.WEIGHT * 1e9, rel=1e-6)
    functions = {f.id: f for f in msg.function}
    names = {s[f.name] for f in functions.values()}
    assert names == set(ex.SERVER_TOTAL)
    compute = next(f for f in functions.values() if s[f.name] == "compute")
    assert (s[compute.filename], compute.start_line) == (ex.APP, 10)
    locations = {loc.id: loc for loc in msg.location}
    # self time per function from the leaf location's line: the writer's own per-function figures
    selfs: dict[str, float] = {}
    for smp in msg.sample:
        leaf = locations[smp.location_id[0]].line[0]
        name = s[functions[leaf.function_id].name]
        selfs[name] = selfs.get(name, 0.0) + smp.value[1] / 1e9
    assert selfs == pytest.approx(ex.SERVER_SELF)
    labels = {(s[lb.key], s[lb.str]) for smp in msg.sample for lb in smp.label}
    assert ("thread_name", "MainThread") in labels and ("thread_name", "worker-1") in labels
    assert ("task_name", "Task-1") in labels


def test_export_then_import_keeps_threads_tasks_and_costs(tmp_path: Path) -> None:
    src = tmp_path / "server.pyro"
    write_profile(ex.server_profile(), src)
    out = tmp_path / "server.pprof"
    proc = run_cli("convert", src, out)
    assert proc.returncode == 0 and proc.stdout.strip().startswith(f"wrote {out} (pprof"), proc.stderr
    back = load_profile(out)
    assert back.sample_count == ex.SERVER_SAMPLES  # samples/count expands the aggregated records
    assert sorted(t.name for t in back.threads.values()) == sorted(ex.SERVER_THREADS.values())
    assert self_by_function(back) == pytest.approx({k: ex.SERVER_SELF.get(k, 0.0) for k in ex.SERVER_TOTAL})
    assert {t.name for t in back.tasks.values()} == {"Task-1"}


def test_call_statistics_only_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="only call statistics"):
        export_profile(ex.deterministic_profile(), tmp_path / "x.pb.gz")


@pytest.mark.parametrize(
    "data",
    [
        b"\x1f\x8b\x08\x00garbage",  # gzip header, corrupt body
        gzip.compress(b"\x0a\x04\x08\x01\x10\x02", mtime=0),  # sample_type pointing outside an empty string table
        gzip.compress(b"\x0a\x04\x08\x01\x10\x02\x32\x00\x32\x01a\x32\x01b\x12\x04\x08\x09\x10\x01", mtime=0),  # undefined location 9
        gzip.compress(b"\x0a\xff\xff\xff\xff\x0f", mtime=0),  # length beyond the data
    ],
)
def test_bad_pprof_is_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.pb.gz"
    path.write_bytes(data)
    expect_format_error(path)
