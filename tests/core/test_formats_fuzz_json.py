"""Hostile input for the speedscope, Chrome-trace and collapsed importers: only FormatError may escape.

Fixed cases (empty, truncated, random, wrong shape, absurd nesting, a directory,
paths that cannot be read) check the message names the file; hypothesis then
throws random bytes and mutations of real files (made here by pyinstrument,
VizTracer and, when it can attach, py-spy) through `registry.load_profile`.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import random
from pathlib import Path

import pytest
from format_errors import expect_format_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import delete_or_replace_keys, json_values, truncate_and_flip

from pyrometer.core.formats import jsonload
from pyrometer.core.formats.registry import FormatError, load_profile

EXTENSIONS = (".speedscope.json", ".trace.json", ".json", ".collapsed", ".json.gz", ".txt")
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_only_format_errors(path: Path) -> None:
    """The contract: a profile, or a FormatError naming the file; nothing else."""
    try:
        load_profile(path)
    except FormatError as exc:
        assert str(path) in str(exc), str(exc)


# ---------------------------------------------------------------- real files to mutate
# Written by the real tools; regenerate with tools/make_fixtures.py.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
SEEDS = {
    ".speedscope.json": "pyinstrument.speedscope.json",
    ".trace.json": "viztracer.trace.json",
    ".json": "pyspy.speedscope.json",
    ".collapsed": "pyspy-threads.collapsed.txt",
}


@pytest.fixture(scope="module")
def real_files() -> dict[str, bytes]:
    return {ext: (FIXTURES / name).read_bytes() for ext, name in SEEDS.items()}


# ---------------------------------------------------------------- fixed bad inputs
SPEEDSCOPE_HEAD = b'{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[]},"profiles":'
BAD_CONTENT = {
    "empty": b"",
    "blank": b"  \n\n ",
    "random": bytes(random.Random(7).randrange(256) for _ in range(4096)),
    "nul": b"\x00" * 100,
    "truncated speedscope": SPEEDSCOPE_HEAD + b'[{"type":"sampled","unit":"seconds","samples":[[0,1],[',
    "truncated trace": b'{"traceEvents":[{"ph":"X","ts":1,"dur":2,"name":"f"},{"ph":"X","ts',
    "top-level number": b"42",
    "top-level string": b'"speedscope"',
    "null": b"null",
    "empty list": b"[]",
    "empty object": b"{}",
    "profiles not a list": SPEEDSCOPE_HEAD + b"3}",
    "profile not an object": SPEEDSCOPE_HEAD + b"[[1,2]]}",
    "frames not a list": b'{"$schema":"speedscope","shared":{"frames":7},"profiles":[]}',
    "traceEvents not a list": b'{"traceEvents":"abc"}',
    "list of non-events": b'[{"ph":"X"}, 3, "x"]',
    "nested lists": b"[" * 100_000 + b"]" * 100_000,
    "nested in speedscope": SPEEDSCOPE_HEAD + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "nested in samples": SPEEDSCOPE_HEAD + b'[{"type":"sampled","unit":"none","samples":' + b"[" * 50_000 + b"]" * 50_000 + b"}]}",
    "nested in trace": b'{"traceEvents":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "nested objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "unterminated nesting": b"[" * 1_000_000,
    "bad utf-8": b'{"traceEvents":[{"ph":"X","ts":1,"dur":1,"name":"\xff\xfe"}]}',
    # found by hypothesis, pinned: times and weights beyond int64 ns / float32 gave inf
    "duration beyond int64 ns": b'{"traceEvents":[{"ph":"X","ts":0,"dur":1e300,"name":"f"}]}',
    "timestamp beyond int64 ns": b'{"traceEvents":[{"ph":"B","ts":1e300,"name":"f"},{"ph":"E","ts":1e300}]}',
    "weight beyond float32": SPEEDSCOPE_HEAD
    + b'[{"type":"sampled","unit":"seconds","startValue":0,"endValue":1,"samples":[[]],"weights":[1e300]}]}',
}


@pytest.mark.parametrize("ext", EXTENSIONS)
@pytest.mark.parametrize("name", list(BAD_CONTENT))
def test_bad_content_is_a_format_error(tmp_path: Path, name: str, ext: str) -> None:
    data = BAD_CONTENT[name]
    if ext.endswith(".gz"):
        data = gzip.compress(data)
    f = tmp_path / ("bad" + ext)
    f.write_bytes(data)
    if name == "bad utf-8":  # orjson refuses invalid UTF-8; the collapsed reader replaces it
        load_only_format_errors(f)
    else:
        expect_format_error(f)


def test_directory_missing_and_unreadable_paths(tmp_path: Path) -> None:
    d = tmp_path / "profile.speedscope.json"
    d.mkdir()
    assert "directory" in str(expect_format_error(d))
    assert "no such file" in str(expect_format_error(tmp_path / "missing.trace.json"))
    link = tmp_path / "dangling.collapsed"
    link.symlink_to(tmp_path / "nowhere")
    expect_format_error(link)
    blocker = tmp_path / "file.json"
    blocker.write_text("{}")
    expect_format_error(blocker / "child.json")  # a path below a regular file


def test_unreadable_file(tmp_path: Path) -> None:
    f = tmp_path / "secret.speedscope.json"
    f.write_bytes(SPEEDSCOPE_HEAD + b"[]}")
    f.chmod(0)
    try:
        if os.geteuid() == 0:  # root reads mode-000 files: it must simply load
            assert load_profile(f).sample_count == 0
        else:
            assert "permission denied" in str(expect_format_error(f))
    finally:
        f.chmod(0o600)


def test_read_bytes_refuses_special_files_and_gzip_bombs(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(FormatError, match="not a regular file"):
        jsonload.read_bytes(fifo)  # must not block waiting for a writer
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b"[" + b"0," * 5_000_000 + b"0]"))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(FormatError, match="expands beyond"):
        jsonload.read_bytes(bomb, max_bytes=1_000_000)
    assert len(jsonload.read_bytes(bomb)) == 10_000_003
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(bomb.read_bytes()[:5000])
    expect_format_error(cut)
    with pytest.raises(FormatError, match="truncated gzip"):
        jsonload.read_bytes(cut)


def test_real_files_load(real_files: dict[str, bytes], tmp_path: Path) -> None:
    """The seeds of the mutation tests are themselves valid."""
    for ext, data in real_files.items():
        f = tmp_path / ("seed" + ext)
        f.write_bytes(data)
        p = load_profile(f)
        assert p.sample_count > 0, ext


# ---------------------------------------------------------------- hypothesis
@FUZZ
@given(data=st.binary(max_size=2048), ext=st.sampled_from(EXTENSIONS))
def test_random_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes, ext: str) -> None:
    f = tmp_path_factory.mktemp("rand") / ("r" + ext)
    f.write_bytes(gzip.compress(data) if ext.endswith(".gz") else data)
    load_only_format_errors(f)


@FUZZ
@given(
    data=st.data(),
    prefix=st.sampled_from([SPEEDSCOPE_HEAD, b'{"traceEvents":', b'[{"ph":"X",', b"main;f "]),
    ext=st.sampled_from(EXTENSIONS),
)
def test_random_tails_after_a_real_header(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, prefix: bytes, ext: str
) -> None:
    tail = data.draw(st.binary(max_size=512) | st.text(alphabet='[]{}",:0123456789.-eEtruefalsn ', max_size=512).map(str.encode))
    f = tmp_path_factory.mktemp("tail") / ("t" + ext)
    f.write_bytes(prefix + tail)
    load_only_format_errors(f)


@FUZZ
@given(data=st.data())
def test_truncated_and_flipped_real_files(real_files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    ext = data.draw(st.sampled_from(sorted(real_files)))
    raw = truncate_and_flip(real_files[ext], data)
    f = tmp_path_factory.mktemp("mut") / ("m" + ext)
    f.write_bytes(raw)
    load_only_format_errors(f)


JSON_VALUES = json_values(allow_nan=False)


@FUZZ
@given(data=st.data())
def test_deleted_and_replaced_keys_in_real_json(
    real_files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    ext = data.draw(st.sampled_from([e for e in sorted(real_files) if e.endswith(".json")]))
    doc = json.loads(real_files[ext])
    doc = copy.deepcopy(doc)
    delete_or_replace_keys(doc, data, JSON_VALUES)
    f = tmp_path_factory.mktemp("keys") / ("k" + ext)
    f.write_text(json.dumps(doc))
    load_only_format_errors(f)


def test_stdlib_json_fallback(real_files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without orjson the standard library parses, behind the same nesting bound and messages."""
    with_orjson = {}
    for ext in (".speedscope.json", ".trace.json"):
        f = tmp_path / ("seed" + ext)
        f.write_bytes(real_files[ext])
        with_orjson[ext] = load_profile(f)
    monkeypatch.setattr(jsonload, "_orjson", None)
    for ext, expected in with_orjson.items():
        p = load_profile(tmp_path / ("seed" + ext))
        assert p.sample_count == expected.sample_count
        assert float(p.samples["weight"].sum()) == float(expected.samples["weight"].sum())
    assert jsonload.nesting_depth(b'[1, {"a": "[[[\\"[", "b\\\\": "]]"}]') == 2
    for name in ("nested lists", "nested in samples", "nested objects"):
        f = tmp_path / "deep.json"
        f.write_bytes(BAD_CONTENT[name])
        assert "nested too deeply" in str(expect_format_error(f))
    f = tmp_path / "broken.trace.json"
    f.write_bytes(BAD_CONTENT["truncated trace"])
    assert "invalid JSON" in str(expect_format_error(f))
