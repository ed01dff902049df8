"""File › Save recording to a place it cannot write says so in one line, naming the file once.

It said "/proc/x.pyro: /proc/x.pyro: cannot write (No such file or directory)".
"""

from __future__ import annotations

from pathlib import Path

from qt_windows import open_window, private_settings

from pyrometer.app.document import Document
from pyrometer.core.formats.registry import load_profile


def test_save_to_a_missing_directory_names_the_file_once(qtbot, qapp, tmp_path: Path) -> None:
    private_settings(tmp_path)
    win = open_window(qtbot, 1366, 768)
    errors: list[tuple[str, str]] = []
    win.show_error = lambda title, message: errors.append((title, message))  # type: ignore[method-assign]
    source = tmp_path / "s.collapsed"
    source.write_text("main;work 3\n")
    doc = Document(load_profile(source), source.name)
    win.add_document(doc)
    target = tmp_path / "missing" / "kept.pyro"
    assert not win.save_recording(doc, target)
    (title, message), = errors
    assert title == "Cannot save"
    assert message.count(str(target)) == 1 and "cannot write" in message, message
    assert "\n" not in message
