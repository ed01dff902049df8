"""Compare pane: this run against a baseline profile, per function — what got slower, what got faster.

The baseline ("before") is any file the format registry reads; the document
holds it and loads it off the GUI thread. The table is `diff_functions(baseline,
this run)` over the document's view: this run's selected range and threads,
and the same transform and on-CPU filter applied to the baseline (function ids
mapped by name and file), so both sides are cut the same way. The flame graph
reads the same baseline from the document for its differential colouring.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pyrometer.app.document import Document
from pyrometer.app.panes.base import content_or_placeholder
from pyrometer.app.panes.compare_model import COL_DELTA, COL_FILE, COL_FUNCTION, CompareTableModel
from pyrometer.app.panes.table_pane import FunctionTablePane
from pyrometer.app.profile_filter import profile_filter
from pyrometer.core import fmt
from pyrometer.core.analysis.align import align_functions
from pyrometer.core.analysis.diff import FunctionDiff, diff_functions
from pyrometer.core.analysis.measures import Measure, clock_warning, measure_of, unknown_note
from pyrometer.core.analysis.on_cpu import has_cpu_info
from pyrometer.core.analysis.transforms import map_transform, view_of
from pyrometer.core.model import Profile

if TYPE_CHECKING:
    from pyrometer.app.loader import FileLoader

PLACEHOLDER = (
    "Choose a baseline profile to compare this run with —\n"
    "e.g. yesterday's recording, or the same program before your change.\n\n"
    "Baseline… opens any profile Pyrometer reads (.pyro, speedscope, Chrome trace, pstats, callgrind, collapsed,\n"
    "pprof, Firefox Profiler, .cpuprofile, pyinstrument, Austin)."
)
FILE_FILTER = profile_filter()
NAME_PX = 220  # a baseline's name is elided (in the middle) past this width: the header fits 1366 px


def function_ids(profile: Profile, diff: FunctionDiff) -> np.ndarray:
    """Per diff row, the id of that function in `profile` (-1 when absent)."""
    if len(diff.new_func) == len(diff) and len(diff):  # diff_functions knows them (identity-matched rows)
        return diff.new_func
    return align_functions(diff.name, diff.file, profile.func_name, profile.func_file)


class ComparePane(FunctionTablePane):
    """Per-function differences between a baseline profile and this run."""

    pane_id = "compare"
    title = "Compare"

    model: CompareTableModel

    baselineChanged = Signal(str)  # the baseline's name, "" when comparing stopped
    baselineFailed = Signal(str)  # the message shown to the user

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self.last_error = ""
        self.diff: FunctionDiff | None = None

        self.model = CompareTableModel(self)
        self.choose_button = QPushButton("Baseline…", self)
        self.choose_button.setToolTip("Choose the profile to compare this run with (the 'before')")
        self.choose_button.clicked.connect(self.choose_baseline)
        self.baseline_label = QLabel("", self)
        self.baseline_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stop_button = QPushButton("Stop comparing", self)
        self.stop_button.setToolTip("Forget the baseline (the flame graph goes back to its own colours)")
        self.stop_button.clicked.connect(lambda: self.set_baseline(None))
        self.by_combo = QComboBox(self)
        self.by_combo.addItem("By: self", "self")
        self.by_combo.addItem("By: total", "total")
        self.by_combo.setToolTip("Compare each function's self time (in itself) or total time (with its callees)")
        self.by_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter functions or files (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter)
        self.count_label = QLabel(self)
        self.top_spin = QSpinBox(self)
        self.top_spin.setRange(0, 1_000_000)
        self.top_spin.setSingleStep(50)
        self.top_spin.setSpecialValueText("all")
        self.top_spin.setPrefix("top ")
        self.top_spin.setToolTip("Show only the first N rows (0 = all)")
        self.top_spin.valueChanged.connect(self._on_top)
        self.top_spin.setValue(500)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b")
        self.error_label.hide()
        # under the controls: what each side measures (wall time, CPU time...), or, when they differ,
        # the one-line warning; its own line: the controls' row has no room left at 1366 px
        self.measures_label = QLabel(self)
        self.measures_label.setWordWrap(True)
        self.measures_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.measures_label.hide()
        self.measures_warning: str | None = None  # the warning shown, None when both measure alike

        self._build_view(COL_DELTA)
        header = self.view.horizontalHeader()
        header.resizeSection(COL_FUNCTION, 220)
        fm = header.fontMetrics()
        for col in range(COL_FUNCTION + 1, COL_FILE):
            text = str(self.model.headerData(col, Qt.Orientation.Horizontal))
            header.resizeSection(col, max(80, fm.horizontalAdvance(text) + 28))  # room for the sort arrow

        self.stack, self.placeholder = content_or_placeholder(self.view, PLACEHOLDER)
        self.placeholder.setWordWrap(True)

        # one row of controls: the default bottom dock is ~200 px high, rows of the table matter more.
        # The label says what it compares whole (never cut off: its size hint is its minimum); it stays
        # short enough for 1366 px because a long baseline name is elided in the middle and the match
        # counts are in tooltips; the filter field gives way instead.
        self.baseline_label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self.filter_edit.setMinimumWidth(120)
        self.table_controls = QWidget(self)  # shown only with a baseline: nothing to filter before
        tools = QHBoxLayout(self.table_controls)
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addWidget(self.by_combo)
        tools.addWidget(self.filter_edit, 1)
        tools.addWidget(self.top_spin)
        tools.addWidget(self.count_label)
        tools.addWidget(self.stop_button)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.choose_button)
        top.addWidget(self.baseline_label)
        top.addWidget(self.table_controls, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(self.error_label)
        lay.addWidget(self.measures_label)
        lay.addWidget(self.stack, 1)
        doc.baselineChanged.connect(self._baseline_changed)
        doc.baselineFailed.connect(self._load_failed)
        self._update_header()

    # ------------------------------------------------------------ public API
    @property
    def baseline(self) -> Profile | None:
        return self.doc.baseline

    def shows_nothing(self) -> bool:
        return self.doc.baseline is None

    @property
    def baseline_name(self) -> str:
        return self.doc.baseline_name

    @property
    def baseline_path(self) -> Path | None:
        return self.doc.baseline_path

    def set_baseline(self, profile: Profile | None, name: str = "", path: str | Path | None = None) -> None:
        """Compare this run with `profile` (the 'before'), or stop comparing (None): the document's baseline."""
        self.doc.set_baseline(profile, name, path)

    def load_baseline(self, path: str | Path, show_dialog: bool = True) -> FileLoader:
        """Read a baseline file off the GUI thread; on failure, say which file and why (never raise)."""
        return self.doc.load_baseline(path, self, show_dialog=show_dialog)

    def choose_baseline(self) -> None:
        start = str(self.doc.path.parent) if self.doc.path is not None else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, "Compare with a baseline profile", start, FILE_FILTER)
        if path:
            self.load_baseline(path)

    def focus_search(self) -> bool:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()
        return True

    # ------------------------------------------------------------ refresh
    def baseline_view(self) -> Profile | None:
        """The baseline cut the way this run is viewed: on-CPU filter and transform (whole time span)."""
        base = self.baseline
        if base is None:
            return None
        return view_of(base, map_transform(self.doc.transform, self.doc.profile, base), self.doc.on_cpu_only)

    def refresh(self) -> None:
        base = self.baseline_view()
        if base is None:
            self.diff = None
            self.model.set_diff(None)
            self.stack.setCurrentWidget(self.placeholder)
            self._update_count()
            return
        profile = self.doc.view_profile()
        by: Literal["self", "total"] = "total" if self.by_combo.currentData() == "total" else "self"
        diff = diff_functions(base, profile, None, self.doc.selection(), by=by)
        self.diff = diff
        scroll = self.view.verticalScrollBar().value()
        self._syncing = True
        try:
            self.model.set_diff(diff, function_ids(profile, diff), (base.unit, profile.unit))
            self._show_selected(self.doc.selected_function, scroll_to=False)
        finally:
            self._syncing = False
        self.view.verticalScrollBar().setValue(scroll)
        self.stack.setCurrentWidget(self.view)
        self._update_count()
        self._update_header()

    def measures(self) -> tuple[Measure, Measure] | None:
        """What the baseline's and this run's weights measure, as compared (through the on-CPU filter if on)."""
        base = self.baseline
        if base is None:
            return None
        on_cpu = self.doc.on_cpu_only
        profile = self.doc.profile
        return (measure_of(base, on_cpu and has_cpu_info(base)), measure_of(profile, on_cpu and has_cpu_info(profile)))

    # ------------------------------------------------------------ internals
    def _update_header(self) -> None:
        base = self.baseline
        self.table_controls.setVisible(base is not None)
        measures = self.measures()
        self._show_measures(measures)
        if base is None or measures is None:
            self.baseline_label.setText("No baseline")
            self.baseline_label.setToolTip("")
            return
        bold = QFont(self.baseline_label.font())
        bold.setBold(True)
        name = QFontMetrics(bold).elidedText(self.baseline_name or "baseline", Qt.TextElideMode.ElideMiddle, NAME_PX)
        parts = [f"vs <b>{_escape(name)}</b>"]
        if self.diff is not None and self.diff.base_sum > 0:
            # "total", as in stats and diff: the time of all threads summed, not how long each run lasted
            parts.append(f"total {fmt.weight(self.diff.new_sum, self.doc.profile.unit)} now, {fmt.weight(self.diff.base_sum, base.unit)} before")
        was, now = measures
        # what it matched (one identity across formats and versions) is in the tooltips of this label and the count
        parts.append("<span style='color:#d73228'>■</span> slower <span style='color:#3060c0'>■</span> faster")
        self.baseline_label.setText(" · ".join(parts))
        where = str(self.baseline_path) if self.baseline_path is not None else self.baseline_name
        matched = ""
        if self.diff is not None:
            matched = f"\n{self.diff.matched:,} functions in both, {self.diff.only_base:,} only before, {self.diff.only_new:,} only now"
        self.baseline_label.setToolTip(
            f"Baseline: {where}{matched}\nTotal: the profiled time of all threads together, not the run's duration"
            f"\nThis run measures {now.text}\nThe baseline measures {was.text}"
            f"\nShares of each run's total: red = a bigger share in this run (slower), "
            "blue = a smaller share (faster)"
        )

    def _show_measures(self, measures: tuple[Measure, Measure] | None) -> None:
        """The line under the controls: both sides' measures, or the warning when they differ."""
        warning = None if measures is None else clock_warning(*measures) or unknown_note(*measures)
        self.measures_warning = warning
        if measures is None:
            self.measures_label.hide()
            return
        was, now = measures
        if warning:
            self.measures_label.setText(warning[0].upper() + warning[1:])
            self.measures_label.setStyleSheet("color: #b35900")
        else:
            same = f"both measure {now.short}" if now.short == was.short else f"this run measures {now.short}, the baseline {was.short}"
            self.measures_label.setText(same[0].upper() + same[1:])
            self.measures_label.setStyleSheet("")
        self.measures_label.setToolTip(f"This run measures {now.text}\nThe baseline measures {was.text}")
        self.measures_label.show()

    def _update_count(self) -> None:
        if self.diff is None:
            self.count_label.setText("")
            return
        shown, matching = self.model.rowCount(), self.model.total_matching()
        self.count_label.setText(f"{shown:,} of {matching:,}" if shown < matching else fmt.plural(matching, "function"))
        d = self.diff
        self.count_label.setToolTip(
            f"{d.matched:,} functions in both runs, {d.only_base:,} only in the baseline, {d.only_new:,} only in this run"
        )

    def _show_error(self, message: str) -> None:
        self.last_error = message
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _baseline_changed(self) -> None:
        if self.baseline is not None:
            self._show_error("")
        self._update_header()
        self.refresh()
        self.seen_revision = self.doc.revision  # up to date: the window need not refresh it again
        self.baselineChanged.emit(self.baseline_name)

    def _load_failed(self, text: str) -> None:
        """The document could not read a baseline (chosen here or in the flame graph): say which and why."""
        self._show_error(text)
        win = self.window()
        show_error = getattr(win, "show_error", None)
        if callable(show_error) and win is not self:
            show_error("Cannot open baseline", text)  # the main window: a dialog (or quiet in --screenshot)
        else:
            box = QMessageBox(QMessageBox.Icon.Warning, "Cannot open baseline", text, QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()  # not exec(): a modal loop here would stall the refreshes behind it
        self.baselineFailed.emit(text)

    def _on_filter(self, text: str) -> None:
        self.model.set_filter(text.strip())
        self._show_selected(self.doc.selected_function)
        self._update_count()

    def _on_top(self, n: int) -> None:
        self.model.set_top_n(n)
        self._update_count()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
