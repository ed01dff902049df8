"""History pane: the open recording's program over its last runs.

Runs go along x, the program's top functions are rows, and each cell's colour
is the function's self share in that run (a heatmap); above it, the run's
duration as a sparkline. Bottlenecks (top 5 by average share) carry a star,
regressions of the last run a red (slower) or green (faster) triangle.
Clicking a run opens its recording; "Compare with history" makes the
document's baseline the history's average or one chosen run. Everything is
read from the run history (core.history); the pane only draws it.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane, content_or_placeholder
from pyrometer.core.history.analysis import (
    HistoryReport,
    build_report,
    common_measure,
    function_history,
    measures_note,
    trend,
)
from pyrometer.core.history.baseline import average_profile
from pyrometer.core.history.store import HistoryError, HistoryStore, RunRecord, default_db_path

LAST_RUNS = 20
TOP_ROWS = 12
SLOWER_BRUSH = pg.mkBrush(215, 50, 40)
FASTER_BRUSH = pg.mkBrush(40, 160, 70)
CURRENT_PEN = pg.mkPen(QtGui.QColor(80, 170, 255), width=2, cosmetic=True)
NO_HISTORY = "No run history for this program yet.\nEvery `pyrometer record`, `run` or `demo` adds one; `pyrometer history --import` adds old files."


def _label(name: str, limit: int = 36) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _seconds(value: float | None, places: int) -> str:
    """`1.234 s`, or `duration unknown` for a run whose file gave none."""
    return "duration unknown" if value is None else f"{value:.{places}f} s"


class HistoryPane(Pane):
    pane_id = "history"
    from_preview = True  # the run history (SQLite): nothing of this recording's samples
    title = "History"

    def __init__(self, doc: Document, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(doc, parent)
        self._store: HistoryStore | None = None
        self._loaded_key: tuple[str | None, int] | None = None
        self.program: str | None = None
        self.report: HistoryReport | None = None
        self.rows: list[Any] = []  # FunctionHistory of the heatmap rows, top first

        self.header = QtWidgets.QLabel()
        self.header.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        # a push button: a QToolButton in InstantPopup mode drew its menu arrow over the text's end
        self.compare_button = QtWidgets.QPushButton("Compare with history")
        self.compare_button.setToolTip("Make the history's average, or one run, the baseline of the Compare pane and the flame graph")
        self.compare_menu = QtWidgets.QMenu(self)
        self.compare_button.setMenu(self.compare_menu)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.compare_button)

        self.plots = pg.GraphicsLayoutWidget()
        self.spark = self.plots.addPlot(row=0, col=0)
        self.heat = self.plots.addPlot(row=1, col=0)
        self.plots.ci.layout.setRowStretchFactor(0, 1)
        self.plots.ci.layout.setRowStretchFactor(1, 4)
        self.spark.setMaximumHeight(90)
        self.spark.setLabel("left", "s")
        self.spark.hideAxis("bottom")
        self.spark.setMouseEnabled(x=False, y=False)
        self.spark.setMenuEnabled(False)
        self.spark.hideButtons()
        self.duration_curve = pg.PlotDataItem(pen=pg.mkPen(70, 130, 200, width=2), symbol="o", symbolSize=5, symbolBrush=pg.mkBrush(70, 130, 200))
        self.spark.addItem(self.duration_curve)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("inferno"))
        self.heat.addItem(self.image)
        self.heat.invertY(True)
        self.heat.setMouseEnabled(x=False, y=False)
        self.heat.setMenuEnabled(False)
        self.heat.hideButtons()
        for plot in (self.spark, self.heat):
            plot.disableAutoRange(axis="x")  # columns are runs: both views are exactly [0, runs]
        self.markers = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w", width=1))
        self.heat.addItem(self.markers)
        self.current = QtWidgets.QGraphicsRectItem()
        self.current.setPen(CURRENT_PEN)
        self.current.setVisible(False)
        self.heat.addItem(self.current)
        self.plots.scene().sigMouseClicked.connect(self._clicked)
        self.plots.scene().sigMouseMoved.connect(self._hovered)

        self.details = QtWidgets.QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        body = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(body)
        col.setContentsMargins(4, 4, 4, 4)
        col.addLayout(top)
        col.addWidget(self.plots, 1)
        col.addWidget(self.details)
        self.stack, self.placeholder = content_or_placeholder(body, NO_HISTORY)
        self.body = body
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self.stack.setCurrentWidget(self.placeholder)

    def export_widget(self) -> QtWidgets.QWidget | None:
        return self.plots

    def shows_nothing(self) -> bool:
        self.refresh()
        return self.report is None

    # ------------------------------------------------------------ reading
    def _open_store(self) -> HistoryStore | None:
        if self._store is None:
            if not default_db_path().exists():  # reading never creates the history
                self.placeholder.setText(NO_HISTORY)
                return None
            try:
                self._store = HistoryStore()
            except HistoryError as exc:
                self.placeholder.setText(f"The run history cannot be read:\n{exc}")
                return None
        return self._store

    def _find_program(self, store: HistoryStore) -> str | None:
        if self.doc.program:
            return self.doc.program
        if self.doc.path is not None:
            return store.program_for_path(self.doc.path)
        return None

    def refresh(self) -> None:
        store = self._open_store()
        if store is None:
            self.stack.setCurrentWidget(self.placeholder)
            return
        try:
            program = self._find_program(store)
            key = (program, store.data_version())
            if key == self._loaded_key:
                return
            runs = store.runs(program, LAST_RUNS) if program else []
        except HistoryError as exc:
            self.placeholder.setText(f"The run history cannot be read:\n{exc}")
            self.stack.setCurrentWidget(self.placeholder)
            return
        self._loaded_key = key
        self.program = program
        if not runs:
            self.report = None
            self.placeholder.setText(NO_HISTORY)
            self.stack.setCurrentWidget(self.placeholder)
            return
        assert program is not None
        self.report = build_report(program, runs)
        self._draw(self.report)
        self.stack.setCurrentWidget(self.body)

    # ------------------------------------------------------------ drawing
    def _draw(self, report: HistoryReport) -> None:
        runs = report.runs
        n = len(runs)
        self.rows = sorted((f for f in report.functions if f.avg_pct > 0), key=lambda f: -f.avg_pct)[:TOP_ROWS]
        bottlenecks = {b.ident for b in report.bottlenecks}
        flagged = {g.ident: g for g in report.regressions}
        shares = np.array([[100.0 * s for s in f.shares] for f in self.rows], float).reshape(len(self.rows), n)
        self.image.setImage(shares.T, levels=(0.0, max(1.0, float(shares.max(initial=0.0)))), autoLevels=False)  # image[x=run, y=row]
        self.image.setRect(QtCore.QRectF(0, 0, n, max(1, len(self.rows))))
        labels = []
        spots = []
        for i, f in enumerate(self.rows):
            mark = "★ " if f.ident in bottlenecks else ""
            g = flagged.get(f.ident)
            if g is not None:
                mark += "▲ " if g.direction == "slower" else "▼ "
                spots.append({"pos": (n - 0.5, i + 0.5), "symbol": "t1" if g.direction == "slower" else "t",
                              "brush": SLOWER_BRUSH if g.direction == "slower" else FASTER_BRUSH})
            labels.append((i + 0.5, mark + _label(f.name)))
        self.markers.setData(spots)
        self.heat.getAxis("left").setTicks([labels, []])
        # one left-axis width for both plots, so a run's point sits over its column
        metrics = QtGui.QFontMetrics(self.heat.getAxis("left").style.get("tickFont") or self.font())
        width = max([60, *(metrics.horizontalAdvance(text) + 20 for _, text in labels)])
        for plot in (self.spark, self.heat):
            plot.getAxis("left").setWidth(width)
        step = max(1, n // 10)
        self.heat.getAxis("bottom").setTicks([[(i + 0.5, f"#{r.id}") for i, r in enumerate(runs) if i % step == 0 or i == n - 1], []])
        top_share = max(1.0, float(shares.max(initial=0.0)))
        self.heat.setLabel("bottom", f"runs, oldest first (click one to open it) · colour: self share in the run, dark 0% → bright {top_share:.0f}%")
        # a run of unknown duration is a gap in the curve, never a point at 0
        durations = np.array([np.nan if r.duration_s is None else r.duration_s for r in runs], np.float64)
        self.duration_curve.setData(np.arange(n) + 0.5, durations, connect="finite")
        self.spark.setXRange(0, n, padding=0)
        self.heat.setXRange(0, n, padding=0)
        self.heat.setYRange(0, max(1, len(self.rows)), padding=0)
        mine = self._current_run_index(runs)
        self.current.setVisible(mine is not None)
        if mine is not None:
            self.current.setRect(QtCore.QRectF(mine, 0, 1, max(1, len(self.rows))))
        change = trend([r.duration_s for r in runs])
        trend_text = "" if change is None else f"; last run {change:+.0f}% against the ones before"
        self.header.setText(f"<b>{html.escape(report.program)}</b> — {n} run{'s' * (n != 1)}{trend_text}")
        self.details.setText(self._details(report))
        self._build_compare_menu(runs)

    def _details(self, report: HistoryReport) -> str:
        lines = ["<b>Bottlenecks</b> (average self share): " + (", ".join(f"{html.escape(b.name)} {b.avg_pct:.1f}%" for b in report.bottlenecks) or "none")]
        mixed = measures_note(report.runs)
        if mixed:
            lines.append(f"<span style='color:#b35900'>{html.escape(mixed[0].upper() + mixed[1:])}</span>")
        if len(report.runs) < 2:
            lines.append("<b>Regressions</b>: need at least two runs")
        elif not report.regressions:
            lines.append("<b>Regressions</b>: none beyond sampling noise in the last run")
        else:
            parts = []
            for g in report.regressions:
                size = "new" if g.change_pct is None else f"{g.change_pct:+.0f}%"
                parts.append(f"{html.escape(g.name)} {g.direction} ({g.avg_s:.3f} s → {g.last_s:.3f} s, {size})")
            lines.append("<b>Regressions</b> of the last run: " + "; ".join(parts))
        return "<br>".join(lines)

    def _current_run_index(self, runs: list[RunRecord]) -> int | None:
        if self.doc.path is None:
            return len(runs) - 1 if self.doc.program else None
        mine = str(Path(self.doc.path).resolve())
        hits = [i for i, r in enumerate(runs) if r.path == mine]
        return hits[-1] if hits else None

    # ------------------------------------------------------------ interaction
    def run_at(self, scene_pos: QtCore.QPointF) -> RunRecord | None:
        """The run under a scene position (the heatmap's or sparkline's column), or None."""
        if self.report is None:
            return None
        for plot in (self.heat, self.spark):
            if plot.sceneBoundingRect().contains(scene_pos):
                x = plot.vb.mapSceneToView(scene_pos).x()
                i = int(np.floor(x))
                if 0 <= i < len(self.report.runs):
                    return self.report.runs[i]
        return None

    def open_run(self, run: RunRecord) -> None:
        if run.path and Path(run.path).exists():
            self.doc.request_open(run.path)
        else:
            where = html.escape(run.path or "no file was kept")
            note = f"Run #{run.id}: its recording is gone ({where}); its aggregates stay in the history."
            self.details.setText(note + ("<br>" + self._details(self.report) if self.report else ""))

    def _clicked(self, event: Any) -> None:
        run = self.run_at(event.scenePos())
        if run is not None:
            self.open_run(run)

    def _hovered(self, pos: QtCore.QPointF) -> None:
        run = self.run_at(pos)
        if run is None or self.report is None:
            self.plots.setToolTip("")
            return
        tip = f"run #{run.id}: {_seconds(run.duration_s, 3)}, {run.samples if run.samples is not None else '–'} samples"
        if self.heat.sceneBoundingRect().contains(pos):
            row = int(np.floor(self.heat.vb.mapSceneToView(pos).y()))
            if 0 <= row < len(self.rows):
                f = self.rows[row]
                i = self.report.runs.index(run)
                tip = f"{f.name}\n{tip}\nself share {100 * f.shares[i]:.1f}% (average {f.avg_pct:.1f}%)"
        self.plots.setToolTip(tip)

    def _build_compare_menu(self, runs: list[RunRecord]) -> None:
        menu = self.compare_menu
        menu.clear()
        act = menu.addAction(f"History average ({len(runs)} runs)")
        act.triggered.connect(self.compare_with_average)
        menu.addSeparator()
        for run in reversed(runs):
            when = QtCore.QDateTime.fromSecsSinceEpoch(int(run.started)).toString("yyyy-MM-dd hh:mm:ss")
            a = menu.addAction(f"Run #{run.id} — {when} — {_seconds(run.duration_s, 2)}")
            a.triggered.connect(lambda _checked=False, r=run: self.compare_with_run(r))
        menu.addSeparator()
        stop = menu.addAction("Stop comparing")
        stop.triggered.connect(lambda: self.doc.set_baseline(None))

    def compare_with_average(self) -> None:
        if self.report is None:
            return
        n = len(self.report.runs)
        runs = self.report.runs
        profile = average_profile(function_history(runs), n, runs[-1].unit, common_measure(runs))
        self.doc.set_baseline(profile, f"history average ({n} runs)")
        self.doc.request_pane("compare")

    def compare_with_run(self, run: RunRecord) -> None:
        if run.path and Path(run.path).exists():
            self.doc.load_baseline(run.path, self)
        else:  # the recording is gone: its aggregates still make a baseline
            profile = average_profile(function_history([run]), 1, run.unit, run.measures)
            self.doc.set_baseline(profile, f"run #{run.id} (aggregates)")
        self.doc.request_pane("compare")
