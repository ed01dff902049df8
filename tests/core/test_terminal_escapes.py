"""Names from a file never reach the terminal raw (issue 11 item 6).

ESC, CR, LF, NUL and bidi controls in function, file or thread names could
retitle the terminal, clear the screen or forge table rows in `stats` and
`diff`; they must come out as visible escapes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pyrometer.cli import main
from pyrometer.core.agent import wire
from pyrometer.core.cli.terminal_text import printable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import make_hostile

EVIL = make_hostile.EVIL
RAW = set(chr(c) for c in range(32) if chr(c) != "\n") | {"\x7f", "\u202e"}


def test_printable_escapes_controls_and_keeps_the_rest() -> None:
    assert printable("a\x1b[2Jb\r\nc\x00d\u202ee é ✓") == "a\\x1b[2Jb\\r\\nc\\x00d\\u202ee é ✓"


def _pyro(path: Path, func: str, thread: str) -> Path:
    frames = [
        wire.json_frame(wire.META, {"pid": 1}),
        wire.frames_frame([(0, "ok.py", 1, "main", 1), (1, "x\x1b[31m.py", 2, func, 2)]),
        wire.stacks_frame(0, [-1, 0], [0, 1]),
        wire.json_frame(wire.THREADS, [[0, thread, 1], [1, "other", 2]]),
        wire.samples_frame([0.0, 0.01, 0.02], [0, 0, 1], [1, 1, 0], [-1] * 3, [0.01] * 3, [-1.0] * 3),
        wire.json_frame(wire.NOTICE, {"t": 0.1, "level": "warning", "message": "bad\x1b]0;x\x07"}),
    ]
    path.write_bytes(wire.file_header() + b"".join(frames))
    return path


@pytest.mark.parametrize("command", ["stats", "diff"])
def test_stats_and_diff_show_escapes_not_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    a = _pyro(tmp_path / "a.pyro", EVIL, "Main\x1b[2JThread\r")
    b = _pyro(tmp_path / "b.pyro", EVIL + "\u202e2", "T")
    argv = ["stats", str(a)] if command == "stats" else ["diff", str(a), str(b)]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert not RAW & set(out + err), sorted(RAW & set(out + err))
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J\\r\\n\\x00|forged row" in out
    if command == "stats":
        assert "Main\\x1b[2JThread\\r" in out


def test_error_lines_escape_what_they_quote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _pyro(tmp_path / "a.pyro", "f", "x\x1b[2J")
    assert main(["stats", str(a), "--thread", "nope"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "x\\x1b[2J" in err


@pytest.mark.parametrize("name", ["escapes.speedscope.json", "escapes.collapsed", "escapes.callgrind", "escapes.prof"])
def test_every_format_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    path = make_hostile.build(tmp_path, only=[name], deep=100)[name]
    assert main(["stats", str(path)]) == 0
    out, err = capsys.readouterr()
    assert not RAW & set(out + err), (name, sorted(RAW & set(out + err)))
    assert "evil\\x1b]0" in out
