"""Packaging files, checked without building a bundle: the PyInstaller spec, the desktop entry,
the .pyro MIME type, install-desktop.sh, and the frozen app's "run as Python" mode."""

from __future__ import annotations

import ast
import configparser
import fnmatch
import json
import os
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from pyrometer.core.agent import wire

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "pyrometer.spec"
DESKTOP = PACKAGING / "pyrometer.desktop"
MIME_XML = PACKAGING / "pyrometer-mime.xml"
INSTALL = PACKAGING / "install-desktop.sh"
ENTRY = PACKAGING / "pyrometer_entry.py"
MIME_TYPE = "application/x-pyrometer-recording"
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def _spec_literals() -> dict[str, Any]:
    """The spec's plain-literal assignments (PACKAGES, DATAS, EXCLUDES, ...), read with ast."""
    tree = ast.parse(SPEC.read_text(), str(SPEC))
    out: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass  # computed values (stage, hidden, ...) are not part of the contract
    return out


def _bundle_folder(repo_folder: Path, packages: list[tuple[str, str]]) -> str:
    """Where a repository folder lands inside the bundle, by the spec's PACKAGES mapping."""
    rel = repo_folder.relative_to(ROOT).as_posix()
    for src, dest in sorted(packages, key=lambda p: -len(p[0])):
        if rel == src or rel.startswith(src + "/"):
            return dest + rel[len(src) :]
    raise AssertionError(f"{rel} is in no package of the spec")


# ------------------------------------------------------------------ spec
def test_spec_names_existing_files_and_the_packages_of_pyproject() -> None:
    spec = _spec_literals()
    packages = spec["PACKAGES"]
    for src, _dest in packages:
        assert (ROOT / src / "__init__.py").is_file(), src
    pyproject = (ROOT / "pyproject.toml").read_text()
    for src, dest in packages:
        assert f'"{dest.replace("/", ".")}" = "{src}"' in pyproject, (src, dest)
    for pattern, _dest in spec["DATAS"]:
        assert list(ROOT.glob(pattern)), f"{pattern} matches nothing"
    assert ENTRY.is_file()
    assert "pyrometer_entry.py" in SPEC.read_text()
    assert (ROOT / "resources" / "icons" / "pyrometer-256.png").is_file()


@pytest.mark.parametrize(
    "pattern",
    ["core/agent/*.py", "resources/demo/*.py", "resources/icons/*.svg", "resources/icons/*.png"],
)
def test_every_file_shipped_as_source_is_in_the_spec_datas(pattern: str) -> None:
    """The agent is injected from its .py files and the demo runs as a script: bytecode is not enough."""
    spec = _spec_literals()
    files = sorted(ROOT.glob(pattern))
    assert files
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        dests = [dest for glob, dest in spec["DATAS"] if fnmatch.fnmatch(rel, glob)]
        assert dests, f"{rel} is not shipped by the spec"
        assert _bundle_folder(path.parent, spec["PACKAGES"]) in dests, (rel, dests)


def test_spec_excludes_nothing_the_app_imports(tmp_path: Path) -> None:
    """Excluding a module the app (or pyqtgraph) imports silently drops panes from the bundle."""
    spec = _spec_literals()
    probe = (
        "import importlib, json, pkgutil, sys\n"
        "import pyrometer.app, pyrometer.app.panes, pyrometer.core\n"
        "for pkg in (pyrometer.app, pyrometer.app.panes):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "import pyrometer.cli, pyrometer.core.cli.commands, pyrometer.core.cli.record_command\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    excluded = set(spec["EXCLUDES"])
    hit = sorted(m for m in loaded if m in excluded or any(m.startswith(e + ".") for e in excluded))
    assert not hit, f"the spec excludes modules the app imports: {hit}"


# ------------------------------------------------------------------ desktop entry and MIME type
def _desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    assert parser.sections()[0] == "Desktop Entry"
    return dict(parser["Desktop Entry"])


def test_desktop_file_has_what_menus_and_file_managers_need() -> None:
    entry = _desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Pyrometer"
    assert entry["GenericName"] and entry["Comment"]
    assert entry["Exec"] == "pyrometer open %F"
    assert entry["Icon"] == "pyrometer"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    assert {"Development", "Profiling"} <= set(entry["Categories"].split(";"))
    assert entry["MimeType"] == MIME_TYPE + ";"


def test_desktop_exec_parses_with_and_without_files() -> None:
    """The menu runs Exec with %F expanded to nothing; a double-click gives the files."""
    from pyrometer.cli import build_parser

    words = _desktop_entry(DESKTOP)["Exec"].split()
    assert words[0] == "pyrometer" and words[-1] == "%F"
    parser = build_parser()
    assert parser.parse_args(words[1:-1]).files == []
    assert parser.parse_args([*words[1:-1], "a.pyro", "b.pyro"]).files == ["a.pyro", "b.pyro"]


def test_desktop_file_validates() -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    out = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr


def test_mime_xml_names_the_glob_and_the_file_magic() -> None:
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(MIME_XML).getroot()
    (mime,) = root.findall("m:mime-type", ns)
    assert mime.get("type") == MIME_TYPE
    assert [g.get("pattern") for g in mime.findall("m:glob", ns)] == ["*.pyro"]
    (match,) = mime.findall("m:magic/m:match", ns)
    assert match.get("type") == "string" and match.get("offset") == "0"
    assert (match.get("value") or "").encode() == wire.MAGIC
    assert wire.file_header().startswith(wire.MAGIC)


# ------------------------------------------------------------------ install-desktop.sh
def _installed(data: Path) -> list[Path]:
    files = [
        data / "applications" / "pyrometer.desktop",
        data / "mime" / "packages" / "pyrometer.xml",
        data / "icons" / "hicolor" / "scalable" / "apps" / "pyrometer.svg",
    ]
    return files + [data / "icons" / "hicolor" / f"{s}x{s}" / "apps" / "pyrometer.png" for s in ICON_SIZES]


def test_install_desktop_installs_into_xdg_data_home_and_uninstalls(tmp_path: Path) -> None:
    command = tmp_path / "my bundle" / "pyrometer"
    command.parent.mkdir()
    command.write_text("#!/bin/sh\nexit 0\n")
    command.chmod(command.stat().st_mode | stat.S_IXUSR)
    data = tmp_path / "data"
    env = dict(os.environ, XDG_DATA_HOME=str(data), HOME=str(tmp_path / "home"))
    run = subprocess.run(
        ["bash", str(INSTALL), "--prefix", str(command.parent)], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    for path in _installed(data):
        assert path.is_file(), path
    assert not (tmp_path / "home").exists()  # XDG_DATA_HOME wins over ~/.local/share
    entry = _desktop_entry(data / "applications" / "pyrometer.desktop")
    assert entry["Exec"] == f'"{command}" open %F'
    assert entry["TryExec"] == str(command)
    assert entry["MimeType"] == MIME_TYPE + ";"
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(
            ["desktop-file-validate", str(data / "applications" / "pyrometer.desktop")],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout
    if shutil.which("update-mime-database"):  # the script refreshed the user's MIME database
        assert f"{MIME_TYPE}:*.pyro" in (data / "mime" / "globs2").read_text()
    png = (data / "icons" / "hicolor" / "16x16" / "apps" / "pyrometer.png").read_bytes()
    assert png == (ROOT / "resources" / "icons" / "pyrometer-16.png").read_bytes()

    run = subprocess.run(["bash", str(INSTALL), "--uninstall"], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert not any(p.exists() for p in _installed(data))


def test_install_desktop_refuses_a_missing_command(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    run = subprocess.run(
        ["bash", str(INSTALL), "--exec", str(tmp_path / "nope")], capture_output=True, text=True, env=env
    )
    assert run.returncode == 2
    assert "not an executable" in run.stderr
    assert not (tmp_path / "data" / "applications" / "pyrometer.desktop").exists()


# ------------------------------------------------------------------ the frozen app as Python
def _as_python(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the bundle's entry script the way the frozen app runs when asked to be Python."""
    env = dict(os.environ, PYROMETER_AS_PYTHON="1")
    return subprocess.run(
        [sys.executable, str(ENTRY), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


def test_entry_script_runs_scripts_code_and_modules_like_python(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("import sys\nprint(__name__, sys.argv[1:], sys.path[0])\nsys.exit(3)\n")
    out = _as_python("-X", "dev", str(script), "a", "b")
    assert out.returncode == 3, out.stderr
    assert out.stdout == f"__main__ ['a', 'b'] {tmp_path}\n"
    out = _as_python("-c", "import sys; print(sys.argv)", "x")
    assert (out.returncode, out.stdout) == (0, "['-c', 'x']\n")
    (tmp_path / "mod_x.py").write_text("import sys\nprint(__name__, sys.argv[1:])\n")
    out = _as_python("-m", "mod_x", "y", cwd=tmp_path)
    assert (out.returncode, out.stdout) == (0, "__main__ ['y']\n"), out.stderr
    out = _as_python("-c", "raise ValueError('boom')")
    assert out.returncode == 1 and "ValueError: boom" in out.stderr


def test_entry_script_as_interpreter_records_a_profiled_target(tmp_path: Path) -> None:
    """The whole route of a bundle's demo: probe -c, bootstrap, agent, target, exit status."""
    wrapper = tmp_path / "frozen-python"
    wrapper.write_text(f'#!/bin/sh\nPYROMETER_AS_PYTHON=1 exec "{sys.executable}" "{ENTRY}" "$@"\n')
    wrapper.chmod(0o755)
    target = tmp_path / "target.py"
    target.write_text(
        "import sys, time\n"
        "def spin(s):\n"
        "    end = time.perf_counter() + s\n"
        "    while time.perf_counter() < end:\n"
        "        sum(range(100))\n"
        "spin(0.6)\n"
        "sys.exit(4)\n"
    )
    out = tmp_path / "t.pyro"
    rec = subprocess.run(
        [sys.executable, "-m", "pyrometer", "record", "-o", str(out), "--rate", "200", "--python", str(wrapper), "--", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rec.returncode == 4, rec.stderr
    frames = []
    kinds = set()
    for kind, _flags, payload in wire.iter_frames(out.read_bytes()):
        kinds.add(kind)
        if kind == wire.FRAMES:
            frames += wire.decode_json(payload)
    assert wire.SAMPLES in kinds
    files = {Path(f[1]).name for f in frames}
    assert "target.py" in files
    # neither our interpreter mode nor the launcher shows in the stacks
    assert not files & {"frozen.py", "runpy.py", "bootstrap.py", "entry.py", "pyrometer_entry.py"}, files


def test_frozen_app_picks_itself_for_bundled_scripts_and_python3_for_others(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "demo").mkdir(parents=True)
    (bundle / "demo" / "d.py").write_text("")
    (tmp_path / "user.py").write_text("")
    probe = (
        "import json, sys\n"
        f"sys.frozen = True; sys._MEIPASS = {str(bundle)!r}\n"
        "from pyrometer.core.capture.launch import parse_target, interpreter_version\n"
        "from pyrometer.core.capture.frozen import is_bundle_interpreter\n"
        f"demo = parse_target([{str(bundle / 'demo' / 'd.py')!r}]).python\n"
        f"user = parse_target([{str(tmp_path / 'user.py')!r}]).python\n"
        "print(json.dumps([demo, user, is_bundle_interpreter(demo), list(interpreter_version(demo))]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    demo, user, bundled, version = json.loads(out.stdout)
    assert demo == sys.executable and bundled
    assert version == list(sys.version_info[:2])
    assert user == (shutil.which("python3") or shutil.which("python") or sys.executable)
