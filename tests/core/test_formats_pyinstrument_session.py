"""pyinstrument session JSON (`-r session`), read against pyinstrument's own frame tree.

tools/make_format_fixtures_16.py ran pyinstrument once and wrote
`session.expected.json` from `Session.load(...).root_frame()`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from format_errors import expect_format_error
from leaf_sums import load_against_figures, self_by_leaf

from pyrometer.core.formats.registry import load_profile
from pyrometer.core.model import Profile

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "pyinstrument"


def self_by_function(profile: Profile) -> dict[str, float]:
    assert (profile.samples["stack"] >= 0).all()  # every pyinstrument record has frames
    return self_by_leaf(profile, keep_zero=True)


def test_session_matches_pyinstrument() -> None:
    path = FIX / "session.json"
    profile, expected = load_against_figures(path, FIX / "session.expected.json", "pyinstrument")
    assert float(profile.samples["weight"].sum(dtype=np.float64)) == pytest.approx(expected["total_s"], rel=1e-6)
    selfs = self_by_function(profile)
    # the same functions (pyinstrument's trimmed stem included), with the same self times
    assert selfs == pytest.approx(expected["self_s"], rel=1e-5, abs=1e-9)
    assert max(selfs, key=selfs.__getitem__) == "hot /tmp/pyrometer-fixtures-16/work.py"
    assert [t.name for t in profile.threads.values()] == ["MainThread"]
    assert "Worker.run" in profile.func_name  # the class attribute names the method


def _frame(name: str, file: str, first: int, line: int) -> str:
    return f"{name}\x00{file}\x00{first}\x01l{line}"


def test_async_and_old_sessions_without_thread_frames(tmp_path: Path) -> None:
    doc = {
        "start_time": 1.0, "duration": 0.3, "min_interval": 0.001,
        "frame_records": [
            [[_frame("main", "a.py", 1, 5), _frame("work", "a.py", 10, 12)], 0.2],
            [[_frame("main", "a.py", 1, 6), "[await]"], 0.1],
        ],
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    profile = load_profile(path)
    assert self_by_function(profile) == pytest.approx({"main a.py": 0.0, "work a.py": 0.2, "[await] ": 0.1})


@pytest.mark.parametrize(
    "records",
    ["nope", [[["a\x00b\x001"], "x"]], [[["a\x00b\x001"]]], [[[1], 0.1]], [[["a\x00b\x001"], -1]]],
)
def test_bad_session_is_one_line(tmp_path: Path, records: object) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"frame_records": records, "start_time": 0, "min_interval": 0.001}))
    expect_format_error(path)
