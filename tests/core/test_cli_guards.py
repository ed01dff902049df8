"""Command lines that would destroy a file or silently do nothing are refused up front, in one line, exit 2.

Each case runs the real `pyrometer` process; where a target would be
launched, the target script writes a marker file, so "refused before
launching" is checked, not assumed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyrometer.core import example_profiles as ex
from pyrometer.core.agent import wire
from pyrometer.core.cli.output_guard import RECORDING_MAGIC
from pyrometer.core.formats.recording import write_profile


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pyrometer", *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd)


def refused(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def program(tmp_path: Path) -> tuple[Path, Path]:
    """A target that leaves a marker when it runs (it must never run when the command is refused)."""
    marker = tmp_path / "ran"
    script = tmp_path / "main.py"
    script.write_text(f"import helper\nopen({str(marker)!r}, 'w').close()\n")
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    return script, marker


@pytest.fixture
def server_pyro(tmp_path: Path) -> Path:
    path = tmp_path / "server.pyro"
    write_profile(ex.server_profile(), path)
    return path


def test_the_guard_knows_the_real_recording_header(server_pyro: Path) -> None:
    assert RECORDING_MAGIC == wire.MAGIC
    assert server_pyro.read_bytes().startswith(RECORDING_MAGIC)


@pytest.mark.parametrize("name", ["helper.py", "notes.md"])
def test_record_never_overwrites_a_file_that_is_not_a_recording(tmp_path: Path, program: tuple[Path, Path], name: str) -> None:
    script, marker = program
    victim = tmp_path / name
    if not victim.exists():
        victim.write_text("# my notes\n")
    before = victim.read_bytes()
    refused(run_cli("record", "-o", victim, "--", script, cwd=tmp_path), name, "not a Pyrometer recording")
    assert victim.read_bytes() == before
    assert not marker.exists()


def test_record_wants_the_pyro_extension_for_a_new_file(tmp_path: Path, program: tuple[Path, Path]) -> None:
    script, marker = program
    refused(run_cli("record", "-o", tmp_path / "out.py", "--", script), "out.py", ".pyro")
    assert not (tmp_path / "out.py").exists() and not marker.exists()


def test_record_replaces_an_old_recording(tmp_path: Path, program: tuple[Path, Path], server_pyro: Path) -> None:
    script, marker = program
    old = server_pyro.read_bytes()
    proc = run_cli("record", "-o", server_pyro, "--no-history", "--", script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert marker.exists()
    assert server_pyro.read_bytes().startswith(RECORDING_MAGIC) and server_pyro.read_bytes() != old


def test_convert_with_to_never_overwrites_a_file_of_another_kind(tmp_path: Path, server_pyro: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# notes\n")
    refused(run_cli("convert", server_pyro, notes, "--to", "collapsed"), "notes.md", "refusing to overwrite")
    assert notes.read_text() == "# notes\n"
    fake = tmp_path / "fake.pyro"
    fake.write_text("not a recording")
    refused(run_cli("convert", server_pyro, fake), "fake.pyro", "not a Pyrometer recording")
    assert fake.read_text() == "not a recording"


def test_report_refuses_an_extension_it_does_not_write(tmp_path: Path, server_pyro: Path) -> None:
    refused(run_cli("report", server_pyro, "-o", tmp_path / "r.pdf"), "r.pdf", ".html")
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize(
    "options, needle",
    [
        (["--rate", "0"], "--rate"),
        (["--rate", "-5"], "--rate"),
        (["--rate", "nan"], "--rate"),
        (["--duration", "-1"], "--duration"),
        (["--loop-interval", "0"], "--loop-interval"),
        (["--block-threshold", "0"], "--block-threshold"),
        (["--clock", "wall"], "--mode trace"),
    ],
)
def test_record_refuses_bad_option_values_before_launching(tmp_path: Path, program: tuple[Path, Path], options: list[str], needle: str) -> None:
    script, marker = program
    out = tmp_path / "x.pyro"
    refused(run_cli("record", "-o", out, *options, "--", script, cwd=tmp_path), needle)
    assert not marker.exists() and not out.exists()


def test_screenshot_wants_a_png_name(tmp_path: Path) -> None:
    refused(run_cli("open", "--screenshot", tmp_path / "shot.py"), ".png")


@pytest.mark.parametrize("command", [["stats", "--from", "10"], ["stats", "--to", "0"], ["report", "-o", "r.html", "--from", "50"]])
def test_a_range_outside_the_profile_is_an_error(tmp_path: Path, server_pyro: Path, command: list[str]) -> None:
    line = refused(run_cli(command[0], server_pyro, *command[1:], cwd=tmp_path), "outside the profile", "0-1.3 s")
    assert "server.pyro" in line
    assert not (tmp_path / "r.html").exists()


def test_a_range_inside_the_profile_still_works(server_pyro: Path) -> None:
    proc = run_cli("stats", server_pyro, "--from", "1")
    assert proc.returncode == 0, proc.stderr


def test_every_argument_of_every_command_says_what_it_is() -> None:
    import argparse

    from pyrometer.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {a.option_strings or a.dest}" for name, p in sub.choices.items() for a in p._actions if not a.help]
    assert missing == []


def test_open_help_says_what_its_files_are() -> None:
    """`open --help` described FILES only by their absence ('none: the start page')."""
    import argparse

    from pyrometer.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    files = next(a for a in sub.choices["open"]._actions if a.dest == "files")
    assert files.help is not None and files.help.startswith("profiles or recordings"), files.help


def test_convert_never_overwrites_prose_named_like_a_profile(tmp_path: Path, server_pyro: Path) -> None:
    notes = tmp_path / "notes.txt"  # .txt is one of collapsed stacks' extensions
    notes.write_text("meeting notes\nship on friday\n")
    refused(run_cli("convert", server_pyro, notes), "notes.txt", "holds no profile")
    assert notes.read_text() == "meeting notes\nship on friday\n"
    old = tmp_path / "old.txt"
    old.write_text("main;work 3\n")  # an earlier export: replaced
    assert run_cli("convert", server_pyro, old).returncode == 0
    assert old.read_text() != "main;work 3\n"


def test_a_range_on_a_file_without_time_is_an_error(tmp_path: Path) -> None:
    folded = tmp_path / "a.collapsed"
    folded.write_text("main;a 100\nmain;b 46\n")
    refused(run_cli("stats", folded, "--from", "10"), "a.collapsed", "time axis")
