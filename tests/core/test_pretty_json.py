"""`stats --json` writes, byte for byte, what `json.dumps(finite(data), indent=1)` wrote before (issue 15).

The fast writer (core/cli/pretty_json.py) hands all-scalar containers to
json's C encoder; here it is checked against the standard library's indented
encoder on awkward values and random nesting, and the whole `stats --json`
of a generated recording (tasks, blocking events, lag) against the old
expression over the same summary.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pyrometer.core.cli.pretty_json import dumps, finite

ROOT = Path(__file__).resolve().parents[2]


def _before(obj: Any, indent: int = 1) -> str:
    return json.dumps(finite(obj), indent=indent, allow_nan=False)


AWKWARD: list[Any] = [
    {}, [], (), "text", 3, -0.0, 1e-300, 1e300, True, None, float("nan"), float("inf"),
    {"a": [], "b": {}, "c": [[]], "d": [{}]},
    {"s": 'quote " backslash \\ newline \n tab \t é 漢 \x00', "k": "},\n {"},
    {1: "int key", 2.5: "float key", None: "none key", False: "bool key", "x": [1]},
    {"nan": float("nan"), "list": [float("-inf"), 1.5, None, False, "x"]},
    {"numpy": np.float64(0.1), "nan64": np.float64("nan"), "nested": [np.float64(2.0), {"v": np.float64("inf")}]},
    {"t": (1, (2, 3)), "rows": [{"id": i, "v": i / 3, "n": None, "s": f"r{i}"} for i in range(4)]},
]


@pytest.mark.parametrize("obj", AWKWARD, ids=range(len(AWKWARD)))
def test_awkward_values_encode_as_the_standard_library_does(obj: Any) -> None:
    for indent in (1, 2, 4):
        assert dumps(obj, indent) == _before(obj, indent)


def _random(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-10**12, 10**12)
    if kind == 2:
        return rng.choice([rng.random() * 10 ** rng.randint(-8, 8), float("nan"), -float("inf"), 0.0])
    if kind in (3, 4, 5):
        return "".join(rng.choice('ab"\\\n{},: é') for _ in range(rng.randrange(6)))
    if kind in (6, 7):
        return {f"k{i}": _random(rng, depth + 1) for i in range(rng.randrange(5))}
    return [_random(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_random_nesting_encodes_as_the_standard_library_does() -> None:
    rng = random.Random(15)
    for _ in range(400):
        obj = _random(rng, 0)
        assert dumps(obj) == _before(obj)


def test_values_json_cannot_hold_fail_as_before() -> None:
    for bad in ({"x": object()}, [np.int64(3)], {(1, 2): 1}):
        with pytest.raises(TypeError):
            _before(bad)
        with pytest.raises(TypeError):
            dumps(bad)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = importlib.util.spec_from_file_location("bench_scale_json", ROOT / "benchmarks" / "bench_scale.py")
    assert spec is not None and spec.loader is not None
    module: types.ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("json") / "gen.pyro"
    module.generate(path, 40_000, frame_samples=300)
    return path


def _stats_json(path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    from pyrometer.__main__ import main

    assert main(["stats", "--json", *argv, str(path)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("argv", [[], ["--top", "0"], ["--from", "10", "--to", "60"]])
def test_stats_json_is_byte_for_byte_what_it_was(
    generated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("PYROMETER_HOME", str(generated.parent / "home"))
    now = _stats_json(generated, capsys, argv)
    data = json.loads(now)
    assert data["tasks"]["list"] and data["loop"]["blocking"]  # the big parts are there
    from pyrometer.core.cli import commands

    monkeypatch.setattr(commands, "emit_json", lambda obj: commands.emit(_before(obj)))  # the code before
    assert now == _stats_json(generated, capsys, argv)
