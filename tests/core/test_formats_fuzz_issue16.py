"""Hostile input for the pprof, .cpuprofile, pyinstrument-session, Austin (text, MOJO) and Firefox importers.

Seeds are the files the real tools wrote (tests/fixtures/, see
tools/make_format_fixtures_16.py) plus a Firefox export; hypothesis truncates
and flips their bytes, deletes and replaces JSON keys, rewrites pprof fields
through protobuf itself and scrambles Austin lines. `registry.load_profile`
may succeed or raise FormatError naming the file; anything else (a traceback
type, a hang) fails.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import delete_or_replace_keys, json_values, truncate_and_flip

from pyrometer.core import example_profiles as ex
from pyrometer.core.formats import pprof_profile_pb2
from pyrometer.core.formats.firefox import build_document
from pyrometer.core.formats.registry import FormatError, load_profile

FIX = Path(__file__).resolve().parent.parent / "fixtures"
# PYROMETER_FUZZ_EXAMPLES=2000 for a deeper search than the suite's quick pass
FUZZ = settings(max_examples=int(os.environ.get("PYROMETER_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _seeds() -> dict[str, bytes]:
    seeds = {
        "go_cpu.pb": gzip.decompress((FIX / "pprof" / "go_cpu.pb.gz").read_bytes()),
        "go_heap.pb.gz": (FIX / "pprof" / "go_heap.pb.gz").read_bytes(),
        "node.cpuprofile": (FIX / "cpuprofile" / "node.cpuprofile").read_bytes(),
        "session.json": (FIX / "pyinstrument" / "session.json").read_bytes(),
        "wall.austin": (FIX / "austin" / "wall.austin").read_bytes(),
        "full.austin": (FIX / "austin" / "full.austin").read_bytes(),
        "full.mojo": (FIX / "austin" / "full.mojo").read_bytes(),
        "server.firefox.json": json.dumps(build_document(ex.server_profile())).encode(),
    }
    return seeds


SEEDS = _seeds()
JSON_SEEDS = [k for k in SEEDS if k.endswith((".json", ".cpuprofile"))]


def load_only_format_errors(path: Path) -> None:
    try:
        load_profile(path)
    except FormatError as exc:
        text = str(exc)
        assert str(path) in text or path.name in text, text
        assert "\n" not in text


def test_seeds_load(tmp_path: Path) -> None:
    for name, raw in SEEDS.items():
        f = tmp_path / name
        f.write_bytes(raw)
        assert load_profile(f).sample_count > 0, name


@pytest.mark.timeout(120)
@FUZZ
@given(data=st.data())
def test_truncated_and_flipped(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(SEEDS)))
    raw = truncate_and_flip(SEEDS[name], data)
    ext = data.draw(st.sampled_from([name, name + ".prof", "x.dat"]))
    f = tmp_path_factory.mktemp("mut") / ext
    f.write_bytes(raw)
    load_only_format_errors(f)


JSON_VALUES = json_values(allow_nan=True)


@pytest.mark.timeout(120)
@FUZZ
@given(data=st.data())
def test_deleted_and_replaced_json_keys(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(JSON_SEEDS))
    doc = copy.deepcopy(json.loads(SEEDS[name]))
    delete_or_replace_keys(doc, data, JSON_VALUES)
    f = tmp_path_factory.mktemp("keys") / name
    f.write_text(json.dumps(doc))
    load_only_format_errors(f)


INT_FIELDS = [
    ("sample", "location_id"), ("sample", "value"), ("location", "id"), ("function", "id"), ("function", "name"),
    ("function", "filename"), ("function", "start_line"), ("line", "function_id"), ("line", "line"), ("label", "key"),
    ("label", "str"), ("label", "num"), ("sample_type", "type"), ("sample_type", "unit"),
]


@pytest.mark.timeout(120)
@FUZZ
@given(data=st.data())
def test_pprof_fields_rewritten(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    msg = pprof_profile_pb2.Profile()
    msg.ParseFromString(SEEDS["go_cpu.pb"])
    for _ in range(data.draw(st.integers(1, 5))):
        kind, field = data.draw(st.sampled_from(INT_FIELDS))
        value = data.draw(st.integers(-(2**40), 2**40) | st.integers(-3, 40))
        if kind == "line":
            owners = [ln for loc in msg.location for ln in loc.line]
        elif kind == "label":
            owners = [lb for s in msg.sample for lb in s.label]
        else:
            owners = list(getattr(msg, kind))
        if not owners:
            continue
        owner = data.draw(st.sampled_from(owners))
        target = getattr(owner, field)
        unsigned = field in ("id", "function_id", "location_id")
        v = abs(value) if unsigned else value
        if hasattr(target, "append"):  # repeated field
            if len(target) and data.draw(st.booleans()):
                target[data.draw(st.integers(0, len(target) - 1))] = v
            elif len(target) and data.draw(st.booleans()):
                del target[-1]
            else:
                target.append(v)
        else:
            setattr(owner, field, v)
    if data.draw(st.booleans()):
        del msg.string_table[data.draw(st.integers(0, len(msg.string_table) - 1)) :]
    f = tmp_path_factory.mktemp("pb") / "p.pb.gz"
    f.write_bytes(gzip.compress(msg.SerializeToString()))
    load_only_format_errors(f)


@pytest.mark.timeout(120)
@FUZZ
@given(data=st.data())
def test_austin_lines_scrambled(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    lines = SEEDS[data.draw(st.sampled_from(["wall.austin", "full.austin"]))].decode().splitlines()
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(lines) - 1))
        choice = data.draw(st.integers(0, 3))
        if choice == 0:
            del lines[i]
        elif choice == 1:
            lines[i] = data.draw(st.text(alphabet="P;T:0123456789 ,-#abc.py<>\\", max_size=60))
        elif choice == 2:
            lines.insert(i, lines[i][: data.draw(st.integers(0, len(lines[i])))])
        else:
            lines[i] = lines[i].replace(data.draw(st.sampled_from([";", ":", " ", ","])), data.draw(st.sampled_from(["", "::", ";;", " x"])), 1)
    f = tmp_path_factory.mktemp("austin") / "a.austin"
    f.write_text("\n".join(lines))
    load_only_format_errors(f)
