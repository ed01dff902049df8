"""`<module>` rows say which module they are: `<module> mod_alpha`, alike in every table, the flame
graph's labels and the tooltips, while the profile's own names (what is matched and written) stay."""

from __future__ import annotations

import cProfile
import html
import importlib
import sys
from pathlib import Path
from typing import Any

from qt_windows import show_pane

from pyrometer.app.document import Document
from pyrometer.app.panes.call_tree import CallTreePane
from pyrometer.app.panes.flame import FlamePane
from pyrometer.app.panes.function_model import COL_FUNCTION
from pyrometer.app.panes.functions import FunctionsPane
from pyrometer.core.analysis.display_names import display_name
from pyrometer.core.formats.registry import load_profile
from pyrometer.core.model import Profile

MODULE_BODY = "total = 0\nfor i in range(200000):\n    total += i * i\n"


def two_modules_profile(tmp_path: Path) -> Profile:
    """cProfile of importing two modules whose top-level code does the work (real `<module>` frames)."""
    pkg = tmp_path / "src"
    pkg.mkdir()
    (pkg / "mod_alpha.py").write_text(MODULE_BODY)
    (pkg / "mod_beta.py").write_text(MODULE_BODY)
    sys.path.insert(0, str(pkg))
    try:
        prof = cProfile.Profile()
        prof.enable()
        importlib.import_module("mod_alpha")
        importlib.import_module("mod_beta")
        prof.disable()
    finally:
        sys.path.remove(str(pkg))
        sys.modules.pop("mod_alpha", None)
        sys.modules.pop("mod_beta", None)
    prof.dump_stats(str(tmp_path / "p.prof"))
    return load_profile(tmp_path / "p.prof")


def module_funcs(profile: Profile) -> dict[str, int]:
    return {Path(f).stem: i for i, (n, f) in enumerate(zip(profile.func_name, profile.func_file, strict=True)) if n == "<module>" and f.endswith(".py") and Path(f).stem.startswith("mod_")}


def test_display_name() -> None:
    assert display_name("<module>", "/srv/app/demo_service.py") == "<module> demo_service"
    assert display_name("<module>", "/srv/app/pkg/__init__.py") == "<module> pkg"
    assert display_name("<module>", "<frozen runpy>") == "<module> runpy"
    assert display_name("<module>", "<string>") == "<module>"  # no module to name
    assert display_name("handle", "/srv/app/demo_service.py") == "handle"


def test_module_rows_can_be_told_apart_everywhere(qtbot: Any, tmp_path: Path) -> None:
    profile = two_modules_profile(tmp_path)
    mods = module_funcs(profile)
    assert set(mods) == {"mod_alpha", "mod_beta"}
    doc = Document(profile)
    # Functions table
    table = show_pane(qtbot, FunctionsPane(doc), 900, 400)
    shown = {table.model.index(r, COL_FUNCTION).data() for r in range(table.model.rowCount())}
    assert {"<module> mod_alpha", "<module> mod_beta"} <= shown
    tips = {table.model.index(r, COL_FUNCTION).data(): table.model.index(r, COL_FUNCTION).data(3) for r in range(table.model.rowCount())}
    assert tips["<module> mod_alpha"].startswith("<module> mod_alpha\n")
    # flame graph: box labels and tooltips
    flame = show_pane(qtbot, FlamePane(doc), 900, 400)
    for stem, func in mods.items():
        boxes = [int(b) for b in (flame._box_func == func).nonzero()[0]]
        assert boxes, stem
        for b in boxes:
            assert flame.item._labels[b] == f"<module> {stem}"
            assert f"<module> {stem}" in html.unescape(flame.tooltip(b))
    # call tree, and its callers / callees of the selected module
    tree = show_pane(qtbot, CallTreePane(doc), 900, 400)
    doc.select_function(mods["mod_beta"])
    tree.refresh()
    assert "<module> mod_beta" in html.unescape(tree.cc_label.text())
    names: list[str] = []
    todo = [tree.model.index(r, 0) for r in range(tree.model.rowCount())]
    while todo:
        idx = todo.pop()
        names.append(idx.data())
        todo.extend(tree.model.index(r, 0, idx) for r in range(tree.model.rowCount(idx)))
    assert {"<module> mod_alpha", "<module> mod_beta"} <= set(names)
    assert doc.function_label(mods["mod_alpha"]).startswith("<module> mod_alpha (")
    # the profile's own names are untouched (matching between runs, exports)
    assert profile.func_name[mods["mod_alpha"]] == "<module>"
