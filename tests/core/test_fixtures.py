"""The committed fixtures stay small and each one comes from tools/make_fixtures.py."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "formats"


def test_fixtures_are_small_and_regenerable() -> None:
    files = sorted(p for p in FIXTURES.iterdir() if p.is_file())
    assert len(files) >= 10
    assert sum(p.stat().st_size for p in files) < 512 * 1024  # keep the repository light
    script = (ROOT / "tools" / "make_fixtures.py").read_text()
    for p in files:
        # written by the script (callgrind files by a pattern), or read by it (the profiled programs)
        stem = p.name.split(".out.")[0] + ".out." if p.name.startswith("callgrind.out.") else p.name
        assert stem in script, f"{p.name} is not made by tools/make_fixtures.py"
