"""CSV and JSON function tables: written by the real CLI, parsed back to the very same numbers."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from cli_runs import run_cli
from hand_profiles import one_function_recording

from pyrometer.core import example_profiles as ex
from pyrometer.core.analysis.functions import function_table
from pyrometer.core.formats import registry
from pyrometer.core.formats.recording import write_profile
from pyrometer.core.formats.tables import CSV_COLUMNS, function_rows


def convert(src: Path, dst: Path) -> None:
    proc = run_cli("convert", src, dst)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(params=["server", "deterministic"])
def recording(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"{request.param}.pyro"
    profile = ex.server_profile() if request.param == "server" else ex.deterministic_profile()
    write_profile(profile, path)
    return path


def parse_csv_number(text: str) -> float | int | None:
    if text == "":
        return None
    return int(text) if text.lstrip("-").isdigit() else float(text)


def test_csv_round_trips_exactly(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "functions.csv"
    convert(recording, out)
    profile = registry.load_profile(recording)
    table = function_table(profile)
    with open(out, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    assert len(rows) == len(table)
    deterministic = recording.stem == "deterministic"
    for i, row in enumerate(rows):
        f = int(table.func[i])
        assert (row["name"], row["file"], int(row["line"])) == (profile.func_name[f], profile.func_file[f], profile.func_line[f])
        assert parse_csv_number(row["self"]) == float(table.self_weight[i])
        assert parse_csv_number(row["total"]) == float(table.total_weight[i])
        assert parse_csv_number(row["self_pct"]) == float(table.self_pct[i])
        assert parse_csv_number(row["total_pct"]) == float(table.total_pct[i])
        calls = int(table.calls[i])
        assert parse_csv_number(row["calls"]) == (None if calls < 0 else calls)
        per_call = float(table.per_call[i])
        assert parse_csv_number(row["per_call"]) == (None if math.isnan(per_call) else per_call)
        assert parse_csv_number(row["samples"]) == (None if deterministic else int(table.samples[i]))
        assert row["unit"] == "seconds"
    selfs = [float(r["self"]) for r in rows]
    assert selfs == sorted(selfs, reverse=True)


def test_json_table_round_trips_exactly(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "profile.functions.json"
    convert(recording, out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    profile = registry.load_profile(recording)
    rows, total = function_rows(profile)
    assert doc["kind"] == "pyrometer-function-table" and doc["unit"] == "seconds"
    assert doc["total"] == total
    assert doc["functions"] == rows  # floats written with repr: equal, not approximately
    if recording.stem == "server":
        assert doc["samples"] == ex.SERVER_SAMPLES
        by = {r["name"]: r for r in doc["functions"]}
        for name, value in ex.SERVER_SELF.items():
            assert by[name]["self"] == pytest.approx(value, rel=1e-5)
    else:
        assert doc["samples"] is None
        assert {r["name"]: r["calls"] for r in doc["functions"]} == {n: c for n, _f, _l, c, *_ in ex.DETERMINISTIC_FUNCS}


def test_csv_quotes_awkward_names(tmp_path: Path) -> None:
    name = 'odd, "quoted"\nname'
    src = one_function_recording(tmp_path / "odd.pyro", name, "/x, y.py", 3)
    out = tmp_path / "odd.csv"
    convert(src, out)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["name"], r["file"]) for r in rows] == [(name, "/x, y.py")]
