"""Session pane: what was profiled and how well (command, PID, Python, rate, losses, agent CPU)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from pyrometer.app.document import Document
from pyrometer.app.panes.base import Pane
from pyrometer.core import fmt
from pyrometer.core.cli.summary import agent_losses, loss_text
from pyrometer.core.late_samples import late_samples_text, late_share, starved_text
from pyrometer.core.model import Profile

FIELDS = (
    "Command",
    "State",
    "PID",
    "Python",
    "Started",
    "Duration",
    "Samples",
    "Effective rate",
    "Losses",
    "Late samples",
    "Agent CPU",
    "Threads",
    "Mode",
    "Source",
)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _losses_text(p: Profile) -> str:
    """Every loss the agent reported, as `stats` words them ("Dropped 0" hid 0.3 s unsampled);
    "none" when it reported counters and all are 0, "–" when it reported none (another tool's file)."""
    tel = p.telemetry
    losses = agent_losses(p)
    if not losses:
        return "none" if any(_num(tel.get(k)) is not None for k in ("samples_dropped", "unsampled_s")) else "–"
    parts = []
    for key, value in losses.items():
        text = loss_text(key, value)
        taken = _num(tel.get("samples_taken"))
        if key == "samples_dropped" and taken:
            text += f" ({fmt.percent(value / max(taken, 1.0))} of those taken)"
        parts.append(text)
    return ", ".join(parts)


def session_facts(doc: Document) -> dict[str, str]:
    """The rows the Session pane shows, as plain strings (also used by tests and the status bar)."""
    p: Profile = doc.profile
    meta, tel = p.meta, p.telemetry
    argv = meta.get("argv") or meta.get("command")
    command = " ".join(str(a) for a in argv) if isinstance(argv, list) else str(argv or "–")
    python = meta.get("python") or meta.get("python_version") or "–"
    impl = meta.get("implementation")
    if impl and str(impl).lower() not in str(python).lower():
        python = f"{impl} {python}"
    exe = meta.get("executable")
    if exe:
        python = f"{python} ({exe})"
    start = _num(meta.get("start_wall"))
    started = _dt.datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M:%S") if start else "–"
    duration = p.duration()
    samples = p.sample_count
    rate = _num(tel.get("effective_rate_hz"))
    if rate is None and duration > 0 and samples and p.unit == "seconds":
        threads = max(1, len(p.threads))
        rate = samples / duration / threads
    dropped_text = _losses_text(p)
    agent_cpu = _num(tel.get("agent_cpu_s"))
    agent_text = "–"
    if agent_cpu is not None:
        agent_text = fmt.seconds(agent_cpu)
        if duration > 0:
            agent_text += f" ({fmt.percent(agent_cpu / duration)} of a core)"
    late = late_share(tel)
    late_text = "–" if late is None else (late_samples_text(late) or f"{fmt.percent(late)} (within sampling noise)")
    state = doc.state
    if p.end is not None:
        status = p.end.get("exit_status")
        reason = str(p.end.get("reason") or "ended")
        words = {"exit": "the program exited", "detach": "detached", "detached": "detached", "collector-lost": "the viewer went away", "stopped": "stopped"}
        state = words.get(reason, reason) + (f" with exit status {status}" if status is not None else "")
    elif not doc.is_live and p.source_format == "pyro" and "agent_version" in meta:
        state = "no end mark: still being recorded when opened, or the recorder was cut short"
    mode = meta.get("mode") or "–"
    if meta.get("rate_hz"):
        mode = f"{mode} at {float(meta['rate_hz']):g} Hz"
    if meta.get("attached"):
        mode += " (attached)"
    return {
        "Command": command,
        "State": state,
        "PID": str(meta.get("pid", "–")),
        "Python": str(python),
        "Started": started,
        "Duration": fmt.seconds(duration),
        "Samples": fmt.count(samples) if samples else ("deterministic" if p.func_stats is not None else "0"),
        "Effective rate": (f"{rate:.1f} Hz per thread" if rate else "–") + (f" — {starved}" if (starved := starved_text(tel)) else ""),
        "Losses": dropped_text,
        "Late samples": late_text,
        "Agent CPU": agent_text,
        "Threads": ", ".join(t.name for t in list(p.threads.values())[:8]) + (" …" if len(p.threads) > 8 else "") or "–",
        "Mode": str(mode),
        "Source": (str(doc.path) + f" ({p.source_format})") if doc.path else p.source_format,
    }


class SessionPane(Pane):
    pane_id = "session"
    from_preview = True  # the whole session from a recording's index, as a full read shows it
    title = "Session"

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(doc, parent)
        inner = QWidget(self)
        form = QFormLayout(inner)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.values: dict[str, QLabel] = {}
        for name in FIELDS:
            lab = QLabel("–", inner)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setWordWrap(True)
            self.values[name] = lab
            form.addRow(f"<b>{name}</b>", lab)
        scroll = QScrollArea(self)
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(scroll)
        doc.stateChanged.connect(lambda _s: self.refresh() if self.isVisible() else None)

    def refresh(self) -> None:
        for name, text in session_facts(self.doc).items():
            self.values[name].setText(text)
