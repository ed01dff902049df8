"""Our own `.pyro` recordings as an import/export format."""

from __future__ import annotations

from pathlib import Path

from pyrometer.core.agent import wire
from pyrometer.core.formats.recording import RecordingError, read_recording, write_profile
from pyrometer.core.formats.registry import Exporter, FormatError, Importer, ProgressFn
from pyrometer.core.model import Profile


def _sniff(head: bytes, path: Path) -> bool:
    return head[: len(wire.MAGIC)] == wire.MAGIC


def _load(path: Path, progress: ProgressFn | None) -> Profile:
    try:
        profile, report = read_recording(path, progress)
    except RecordingError as exc:
        raise FormatError(str(exc)) from exc
    if report.problems:
        profile.notices.append({"level": "warning", "message": f"{path}: " + "; ".join(report.problems)})
    return profile


IMPORTER = Importer("pyro", "Pyrometer recording", (".pyro",), _sniff, _load)
EXPORTER = Exporter("pyro", "Pyrometer recording", (".pyro",), write_profile)
